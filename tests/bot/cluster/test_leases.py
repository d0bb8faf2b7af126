"""Shard leases outlive a long turn (they are renewed from a thread, not from the event loop
the turn holds), and a worker whose event loop is stuck lets them go."""

from __future__ import annotations

import asyncio
import time

from bot.cluster.leases import LeaseKeeper, lease_key, sync_client
from bot.cluster.streams import GROUP, Ingress, ensure_groups, stream_name
from bot.cluster.worker import StreamWorker


async def test_a_turn_longer_than_the_lease_keeps_the_shard(redis):
    await ensure_groups(redis, 1)
    ingress = Ingress(redis, 1)
    for uid in (1, 2):
        await ingress.append(str(uid), "7", f'{{"update_id": {uid}}}'.encode())
    probe = sync_client(redis)
    owners: list[bytes | None] = []
    done: list[bytes] = []

    async def handle(fields: dict[bytes, bytes]) -> None:
        if not done:
            # a slow turn that does not even give the event loop back: four leases long
            time.sleep(2.4)
            owners.append(probe.get(lease_key(0)))
        done.append(fields[b"u"])

    async def give_up(fields: dict[bytes, bytes], exc: BaseException) -> None:
        raise AssertionError("nothing fails here")

    worker = StreamWorker(
        redis,
        handle,
        give_up=give_up,
        transient=lambda e: False,
        shards=1,
        lease_ms=600,
        block_ms=100,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if len(done) == 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 20)
    # the lease was still this worker's when the long turn ended, so the worker went on
    # with the chat's next update itself (nobody else could have started it meanwhile)
    assert owners == [worker.name.encode()]
    assert done == [b'{"update_id": 1}', b'{"update_id": 2}']
    assert (await redis.xpending(stream_name(0), GROUP))["pending"] == 0
    probe.close()


async def test_a_stuck_event_loop_lets_the_leases_expire(redis):
    now = [1000.0]
    keeper = LeaseKeeper(sync_client(redis), "w1", lambda: 60_000, clock=lambda: now[0])
    await redis.set(lease_key(3), "w1", px=1000)
    keeper.hold(3, now[0])
    keeper.beat()
    keeper.renew_once()  # a live loop: renewed for a whole lease
    assert await redis.pttl(lease_key(3)) > 30_000
    assert keeper.valid_until(3) > now[0]
    await redis.set(lease_key(3), "w1", px=1000)
    now[0] += keeper.stall_seconds + 1  # no beat from the loop since
    keeper.renew_once()
    assert 0 < await redis.pttl(lease_key(3)) <= 1000  # left to run out
    keeper.client.close()


async def test_a_lease_taken_over_by_another_worker_is_reported_lost(redis):
    keeper = LeaseKeeper(sync_client(redis), "w1", lambda: 60_000)
    await redis.set(lease_key(5), "w2", px=60_000)  # w1's lease ran out; w2 took it
    keeper.hold(5, time.monotonic())
    keeper.beat()
    keeper.renew_once()
    assert keeper.lost() == {5}
    assert keeper.valid_until(5) == 0.0  # w1 starts nothing more in shard 5
    assert await redis.get(lease_key(5)) == b"w2"
    keeper.client.close()
