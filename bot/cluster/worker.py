"""`tianfu worker`'s consumer: updates of one chat in order, one at a time, across workers.

Design: the streams are sharded by chat (see streams.py) and every shard has one owner at a
time, a worker holding the shard's lease - a Redis key ``SET NX PX`` with the worker's name,
renewed every third of its life by a compare-and-expire script. The owner reads its shards
through the consumer group and handles each shard's entries strictly one after another, so one
chat's updates are handled in the order they arrived, never two at once, whichever worker
holds the shard. Workers announce themselves in a sorted set; each takes at most its share of
the shards (ceil(shards / live workers)) and gives back extras between two entries, so shards
spread over the workers and move when one joins or leaves.

An entry is acknowledged (XACK, then XDEL) only after the update's database transaction has
committed (the handler returns). Before reading new entries of a shard the owner finishes what
is pending: first its own unacknowledged entries, then those of a previous owner, which it
takes with XAUTOCLAIM once they have been idle for a lease's life (a dead owner's lease has
expired by then, so it is not still working on them). A redelivered update whose transaction
had committed finds its handled-update row and does nothing (no second reply).

An owner that cannot renew its lease stops starting entries when the lease would have run
out. The remaining hazard is a whole process frozen (SIGSTOP, swapped out) longer than a
lease in the middle of a turn: the next owner may then handle a later update of that chat
first; the handled row still keeps any one update from being handled twice.

Failures: a database or Redis outage is retried for as long as it lasts (the entry stays
pending); any other error is retried ``max_attempts`` times, then the update goes to the dead
letter stream and the person gets an apology (``give_up``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.cluster.leases import MEMBERS, LeaseKeeper, lease_key, sync_client
from bot.cluster.streams import DEAD, GROUP, WAKE, ensure_groups, stream_name

log = logging.getLogger(__name__)

Handle = Callable[[dict[bytes, bytes]], Awaitable[None]]
GiveUp = Callable[[dict[bytes, bytes], BaseException], Awaitable[None]]
Transient = Callable[[BaseException], bool]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class StreamWorker:
    """Owns a share of the shards and handles their entries.

    Args:
        redis: a ``redis.asyncio.Redis`` client (bytes responses).
        handle: handles one entry's fields; returns after the update's transaction committed.
        give_up: called for an update that failed ``max_attempts`` times (dead letter).
        transient: True for errors worth retrying without counting (database, Redis away).
        shards: STREAM_SHARDS.
        lease_ms: the life of a shard lease (and the idle time before pending entries of a
            previous owner are claimed).
        lease_client: a synchronous Redis client for the thread that renews the leases
            (default: one to the server of *redis*).
    """

    def __init__(
        self,
        redis: Any,
        handle: Handle,
        *,
        give_up: GiveUp,
        transient: Transient,
        shards: int,
        name: str = "",
        lease_ms: int = 5000,
        block_ms: int = 1000,
        batch: int = 10,
        max_attempts: int = 5,
        lease_client: Any = None,
    ) -> None:
        self.redis = redis
        self.handle, self.give_up, self.transient = handle, give_up, transient
        self.shards = shards
        self.name = name or worker_name()
        self.lease_ms, self.block_ms, self.batch = lease_ms, block_ms, batch
        self.max_attempts = max_attempts
        self.owned: dict[int, asyncio.Task[None]] = {}
        self.leases = LeaseKeeper(
            lease_client if lease_client is not None else sync_client(redis),
            self.name,
            lambda: self.lease_ms,
        )
        self.leaving: set[int] = set()  # shards to give back after the entry in hand
        self.failures: dict[bytes, int] = {}
        self.in_flight = 0
        self.handled = 0
        self._release = redis.register_script(_RELEASE)

    # ---- membership and leases ----------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Take shards and handle them until *stop*; then finish the entries in hand, give the
        shards back and return (entries read but not started stay pending for the next owner)."""
        self.leases.start()
        try:
            await self._run(stop)
        finally:
            self.leases.stop()

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.leases.beat()
            try:
                await self._tend()
            except Exception as exc:  # noqa: BLE001 - Redis away: keep what we have, retry
                log.warning("worker %s: cannot reach Redis (%s); retrying", self.name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.lease_ms / 3000)
        self.leaving.update(self.owned)
        tasks = list(self.owned.values())
        for task in tasks:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.redis.zrem(MEMBERS, self.name)

    async def _tend(self) -> None:
        started = time.monotonic()
        now_ms = int(time.time() * 1000)
        await self.redis.zadd(MEMBERS, {self.name: now_ms + self.lease_ms})
        await self.redis.zremrangebyscore(MEMBERS, "-inf", now_ms)
        live = max(1, int(await self.redis.zcard(MEMBERS)))
        share = math.ceil(self.shards / live)
        for shard, task in list(self.owned.items()):
            if task.done():
                self._forget(shard)
        self.leaving.update(self.leases.lost() & self.owned.keys())  # renewed elsewhere
        keep = [s for s in self.owned if s not in self.leaving]
        for shard in keep[share:]:
            self.leaving.add(shard)  # more than our share: another worker joined
        if len(keep) >= share:
            return
        if not self.owned:
            await ensure_groups(self.redis, self.shards)
        free = [s for s in range(self.shards) if s not in self.owned]
        random.shuffle(free)
        for shard in free:
            if len(self.owned) - len(self.leaving) >= share:
                break
            if await self.redis.set(lease_key(shard), self.name, nx=True, px=self.lease_ms):
                self.leases.hold(shard, started)
                self.owned[shard] = asyncio.create_task(self._shard(shard))
                log.info("worker %s took shard %d", self.name, shard)

    def _forget(self, shard: int) -> None:
        self.owned.pop(shard, None)
        self.leases.drop(shard)
        self.leaving.discard(shard)

    def _may_start(self, shard: int) -> bool:
        return shard not in self.leaving and time.monotonic() < self.leases.valid_until(shard)

    # ---- one shard ---------------------------------------------------------------------------
    async def _shard(self, shard: int) -> None:
        stream = stream_name(shard)
        behind = True  # pending entries (ours or a previous owner's) may wait: those first
        try:
            while self._may_start(shard):
                try:
                    entries, behind = await self._next(stream, behind)
                except Exception as exc:  # noqa: BLE001 - Redis away or restarting
                    if "NOGROUP" in str(exc):  # Redis lost its data: start the group again
                        with contextlib.suppress(Exception):
                            await ensure_groups(self.redis, self.shards)
                    log.warning("shard %d: read failed (%s); retrying", shard, exc)
                    await asyncio.sleep(0.5)
                    continue
                for entry_id, fields in entries:
                    if not self._may_start(shard):
                        break  # left pending for whoever holds the shard next
                    if not await self._one(stream, entry_id, fields):
                        behind = True  # failed: back off, then take it again first (order)
                        break
        finally:
            with contextlib.suppress(Exception):
                await self._release(keys=[lease_key(shard)], args=[self.name])
            self._forget(shard)

    async def _next(
        self, stream: str, behind: bool
    ) -> tuple[list[tuple[bytes, dict[bytes, bytes]]], bool]:
        """What this shard's owner handles next, and whether older entries may still wait:
        while *behind*, its own pending entries, else a previous owner's (once idle for a
        lease); then new ones. Never new ones while older wait. (Once caught up nothing else
        can leave entries pending in a shard we own, until one of ours fails.)"""
        if behind:
            mine = await self.redis.xreadgroup(GROUP, self.name, {stream: "0"}, count=self.batch)
            if mine and mine[0][1]:
                return [(i, f) for i, f in mine[0][1] if f], True
            pending = await self.redis.xpending(stream, GROUP)
            if pending and pending.get("pending"):
                claimed = await self.redis.xautoclaim(
                    stream, GROUP, self.name, self.lease_ms, "0-0", count=self.batch
                )
                entries = [(i, f) for i, f in claimed[1] if f]
                if not entries:  # a previous owner's entries are not idle long enough yet
                    await asyncio.sleep(min(0.5, self.lease_ms / 4000))
                return entries, True
        new = await self.redis.xreadgroup(
            GROUP, self.name, {stream: ">"}, count=self.batch, block=self.block_ms
        )
        return (list(new[0][1]) if new else []), False

    async def _one(self, stream: str, entry_id: bytes, fields: dict[bytes, bytes]) -> bool:
        """Handle one entry; True when it is done (acknowledged or to be acknowledged)."""
        self.in_flight += 1
        try:
            await self.handle(fields)
        except Exception as exc:  # noqa: BLE001 - the entry stays pending and is retried
            if self.transient(exc):
                log.warning("update %s not handled yet (%s); will retry", entry_id, exc)
                await asyncio.sleep(1.0)
                return False
            attempts = self.failures.get(entry_id, 0) + 1
            self.failures[entry_id] = attempts
            if attempts < self.max_attempts:
                log.warning("update %s failed (attempt %d): %r", entry_id, attempts, exc)
                await asyncio.sleep(min(8.0, 0.5 * 2**attempts))
                return False
            log.error("update %s failed %d times; giving up: %r", entry_id, attempts, exc)
            try:
                await self.give_up(fields, exc)
                await self.redis.xadd(DEAD, {**fields, b"error": repr(exc)[:500].encode()})
            except Exception as err:  # noqa: BLE001 - retried like any other failure
                log.warning("update %s: giving up failed too (%s)", entry_id, err)
                await asyncio.sleep(1.0)
                return False
        finally:
            self.in_flight -= 1
        self.failures.pop(entry_id, None)
        self.handled += 1
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xack(stream, GROUP, entry_id).xdel(stream, entry_id).publish(WAKE, b"1")
                await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - redelivered later; its handled row makes it a no-op
            log.warning("update %s handled but not acknowledged (%s)", entry_id, exc)
        return True


async def relay_wakeups(redis: Any, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Set *wake* whenever a worker anywhere committed messages (the sender looks at once
    instead of at its next poll); reconnects when Redis restarts."""
    while not stop.is_set():
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(WAKE)
            while not stop.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None:
                    wake.set()
        except Exception:  # noqa: BLE001 - Redis away: the sender polls meanwhile
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
