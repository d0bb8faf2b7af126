"""Background work started with a server and stopped with it: the scheduler round and the
outbox senders of the channels (Telegram's notifier, the web chat's event hub, ...)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from store.clock import utcnow
from store.leases import take_lease
from store.updates import prune_handled

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)


class Sender(Protocol):
    """Something that works until *stop* is set (an outbox sender of one channel)."""

    def run(self, stop: asyncio.Event) -> Awaitable[None]: ...


SCHEDULER_LEASE = "scheduler"


async def scheduler(
    services: Services, interval: float, stop: asyncio.Event, holder: str = ""
) -> None:
    """Run the scheduler round every *interval* seconds until *stop*; its messages go to the
    outbox. A round first takes the database lease "scheduler" for the interval, so however
    many processes run this loop, each round runs once."""
    holder = holder or f"{socket.gethostname()}:{os.getpid()}"
    lease = max(0.5, interval - 0.5)  # a little short: the holder's next tick may take it again
    while not stop.is_set():
        try:
            with services.session_factory() as session:
                mine = take_lease(
                    session=session, name=SCHEDULER_LEASE, holder=holder, seconds=lease
                )
            if mine:
                outcome = services.run_due()
                with services.session_factory() as session:
                    services.queue(session, outcome)
                    # no channel redelivers an update two days late
                    prune_handled(session=session, before=utcnow() - timedelta(days=2))
        except Exception:  # noqa: BLE001 - the database may be away; retried at the next tick
            log.exception("scheduler round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


class WakeRelay:
    """Wakes this process's senders whenever a worker anywhere committed messages (REDIS_URL),
    instead of at their next poll."""

    def __init__(self, redis: Any, wake: asyncio.Event) -> None:
        self.redis, self.wake = redis, wake

    async def run(self, stop: asyncio.Event) -> None:
        from bot.cluster.worker import relay_wakeups

        await relay_wakeups(self.redis, self.wake, stop)


class Background:
    """The scheduler and the channels' senders, started together and stopped together.

    Args:
        services: the application's services (the scheduler round, the wake event).
        interval: seconds between scheduler rounds (SCHEDULER_INTERVAL_SECONDS).
        senders: the outbox senders; more may be added with :meth:`add` before :meth:`start`.
        jobs: run the scheduler here (a worker started with --no-jobs leaves it to others).
    """

    def __init__(
        self,
        services: Services,
        interval: float,
        senders: list[Sender] | None = None,
        *,
        jobs: bool = True,
    ) -> None:
        self.stop = asyncio.Event()
        self.services = services
        self.interval = interval
        self.senders: list[Sender] = list(senders or [])
        self.tasks: list[asyncio.Task[None]] = []
        self.jobs = jobs

    def add(self, sender: Sender) -> None:
        self.senders.append(sender)

    async def start(self) -> None:
        self.stop.clear()
        self.tasks = [asyncio.create_task(_forever(s, self.stop)) for s in self.senders]
        if self.jobs:
            self.tasks.append(
                asyncio.create_task(scheduler(self.services, self.interval, self.stop))
            )

    async def close(self) -> None:
        self.stop.set()
        self.services.wake.set()  # senders wait on this, not on stop: end their wait now
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []


async def _forever(sender: Sender, stop: asyncio.Event) -> None:
    try:
        await sender.run(stop)
    except Exception:  # noqa: BLE001 - one channel failing must not stop the others
        log.exception("sender %s stopped", type(sender).__name__)


BACKGROUND = web.AppKey("background", Background)


def background_of(app: web.Application) -> Background:
    """An application's background tasks (a mounted channel adds its outbox sender here)."""
    return app[BACKGROUND]
