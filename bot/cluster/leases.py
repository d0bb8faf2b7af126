"""Shard leases kept alive from a thread of their own (bot.cluster.worker).

A worker owns a shard while its lease key lives (``SET NX PX``, then a compare-and-expire
script every third of the lease). Renewing from the event loop ties the lease to the loop:
a turn that holds it (a slow model, a blocking call, a long database transaction) lets the
lease run out while the work is in progress, and another worker takes the shard and starts
the chat's next update - two at once, out of order. `LeaseKeeper` renews from a daemon thread
with its own synchronous Redis client, so a lease lasts as long as the process is alive,
however long a turn takes.

A process that is alive but whose event loop is stuck (a deadlock, not a long turn) must
still give its shards up: the loop reports in with :meth:`LeaseKeeper.beat` and the keeper
stops renewing after ``stall_seconds`` without one; the leases then expire and another worker
takes the shards over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MEMBERS = "tianfu:workers"  # live workers: a sorted set scored by when each stops counting
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
SAFETY = 0.8  # a lease is trusted for this share of its life (clock drift, slow replies)


def lease_key(shard: int) -> str:
    return f"tianfu:updates:{shard}:owner"


def sync_client(client: Any) -> Any:
    """A synchronous Redis client to the server of the asyncio *client* (same address,
    database, credentials and TLS), for the keeper's thread."""
    from redis import Redis

    pool = client.connection_pool
    kwargs = dict(pool.connection_kwargs)
    keep = {
        "host", "port", "db", "username", "password", "path",
        "socket_timeout", "socket_connect_timeout",
    }  # fmt: skip
    args = {k: v for k, v in kwargs.items() if k in keep}
    if "SSL" in pool.connection_class.__name__:
        args["ssl"] = True
        args.update({k: v for k, v in kwargs.items() if k.startswith("ssl_")})
    if "path" in args:  # a unix socket
        args["unix_socket_path"] = args.pop("path")
        args.pop("host", None)
        args.pop("port", None)
    return Redis(**args)


class LeaseKeeper:
    """Renews the leases of the shards a worker holds, every third of a lease.

    Args:
        client: a synchronous ``redis.Redis`` (used by the keeper's thread only).
        name: the worker's name (the value of its lease keys).
        lease_ms: the life of a lease, read at every round (tests shorten it).
        stall_seconds: stop renewing when the event loop has not called :meth:`beat` for
            this long (a stuck loop, not a long turn: turns do not hold the loop this long).
        clock: monotonic seconds.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        lease_ms: Callable[[], int],
        *,
        stall_seconds: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.name, self.lease_ms = client, name, lease_ms
        self.stall_seconds, self.clock = stall_seconds, clock
        self._renew = client.register_script(RENEW)
        self._lock = threading.Lock()
        self._until: dict[int, float] = {}  # shard -> monotonic time its lease surely lasts
        self._lost: set[int] = set()
        self._beat = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    # ---- called from the event loop ----------------------------------------------------------
    def hold(self, shard: int, taken_at: float) -> None:
        """*shard*'s lease was just taken (the SET NX sent at *taken_at*)."""
        with self._lock:
            self._until[shard] = taken_at + self.lease_ms() / 1000 * SAFETY
            self._lost.discard(shard)

    def drop(self, shard: int) -> None:
        with self._lock:
            self._until.pop(shard, None)
            self._lost.discard(shard)

    def valid_until(self, shard: int) -> float:
        with self._lock:
            return self._until.get(shard, 0.0)

    def lost(self) -> set[int]:
        """Shards whose lease could not be renewed (another worker may hold them now)."""
        with self._lock:
            return set(self._lost)

    def beat(self) -> None:
        """The event loop is alive."""
        self._beat = self.clock()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    # ---- the keeper's thread -----------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.lease_ms() / 3000):
            try:
                self.renew_once()
            except Exception as exc:  # noqa: BLE001 - Redis away: the leases run out on their own
                log.warning("worker %s cannot renew its shard leases (%s)", self.name, exc)

    def renew_once(self) -> None:
        """One round: renew every held shard's lease (and the worker's membership)."""
        self.rounds += 1
        if self.clock() - self._beat > self.stall_seconds:
            log.error(
                "worker %s: event loop stuck for over %.0f s; letting its shard leases expire",
                self.name,
                self.stall_seconds,
            )
            return
        lease = self.lease_ms()
        with self._lock:
            shards = sorted(self._until)
        started = self.clock()
        now_ms = int(time.time() * 1000)
        self.client.zadd(MEMBERS, {self.name: now_ms + lease})
        for shard in shards:
            renewed = self._renew(keys=[lease_key(shard)], args=[self.name, lease])
            with self._lock:
                if shard not in self._until:  # given back meanwhile
                    continue
                if renewed:
                    self._until[shard] = started + lease / 1000 * SAFETY
                else:
                    log.warning("worker %s lost shard %d", self.name, shard)
                    self._until[shard] = 0.0
                    self._lost.add(shard)
