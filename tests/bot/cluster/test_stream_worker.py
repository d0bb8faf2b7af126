"""The stream consumer on its own: stopping finishes the update in hand and acknowledges
nothing unfinished; an update that keeps failing goes to the dead-letter stream."""

from __future__ import annotations

import asyncio

from bot.cluster.streams import DEAD, GROUP, Ingress, ensure_groups, stream_name
from bot.cluster.worker import StreamWorker


async def test_stopping_finishes_the_update_in_hand_and_leaves_the_rest_pending(redis):
    await ensure_groups(redis, 1)
    ingress = Ingress(redis, 1)
    for uid in range(1, 4):
        await ingress.append(str(uid), "7", f'{{"update_id": {uid}}}'.encode())
    started, release = asyncio.Event(), asyncio.Event()
    done: list[bytes] = []

    async def handle(fields: dict[bytes, bytes]) -> None:
        started.set()
        await release.wait()  # the turn is still running when SIGTERM comes
        done.append(fields[b"u"])

    async def give_up(fields: dict[bytes, bytes], exc: BaseException) -> None:
        raise AssertionError("nothing fails here")

    worker = StreamWorker(
        redis, handle, give_up=give_up, transient=lambda e: False, shards=1, block_ms=100
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(started.wait(), 20)
    stop.set()
    await asyncio.sleep(0.2)
    assert not task.done()  # waits for the update in hand
    release.set()
    await asyncio.wait_for(task, 20)
    assert done == [b'{"update_id": 1}']
    # the finished one is acknowledged and gone; the two read but not started wait for the
    # next owner, in order
    entries = await redis.xrange(stream_name(0))
    assert [f[b"u"] for _, f in entries] == [b'{"update_id": 2}', b'{"update_id": 3}']
    assert (await redis.xpending(stream_name(0), GROUP))["pending"] == 2
    assert await redis.get("tianfu:updates:0:owner") is None  # the shard is given back


async def test_an_update_that_keeps_failing_goes_to_the_dead_letters(redis):
    await ensure_groups(redis, 1)
    await Ingress(redis, 1).append("9", "7", b'{"update_id": 9}')
    gave_up: list[str] = []

    async def handle(fields: dict[bytes, bytes]) -> None:
        raise ValueError("a bug in a handler")

    async def give_up(fields: dict[bytes, bytes], exc: BaseException) -> None:
        gave_up.append(str(exc))

    worker = StreamWorker(
        redis, handle, give_up=give_up, transient=lambda e: False, shards=1, max_attempts=2
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if await redis.xlen(DEAD):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 20)
    assert gave_up == ["a bug in a handler"]
    ((_, dead),) = await redis.xrange(DEAD)
    assert dead[b"u"] == b'{"update_id": 9}' and b"a bug in a handler" in dead[b"error"]
    assert await redis.xlen(stream_name(0)) == 0
