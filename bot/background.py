"""Background work started with a server and stopped with it: the scheduler round and the
outbox senders of the channels (Telegram's notifier, the web chat's event hub, ...)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)


class Sender(Protocol):
    """Something that works until *stop* is set (an outbox sender of one channel)."""

    def run(self, stop: asyncio.Event) -> Awaitable[None]: ...


async def scheduler(services: Services, interval: float, stop: asyncio.Event) -> None:
    """Run the scheduler round every *interval* seconds until *stop*; its messages go to the
    outbox."""
    while not stop.is_set():
        try:
            outcome = services.run_due()
            with services.session_factory() as session:
                services.queue(session, outcome)
        except Exception:  # noqa: BLE001 - the database may be away; retried at the next tick
            log.exception("scheduler round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


class Background:
    """The scheduler and the channels' senders, started together and stopped together.

    Args:
        services: the application's services (the scheduler round, the wake event).
        interval: seconds between scheduler rounds (SCHEDULER_INTERVAL_SECONDS).
        senders: the outbox senders; more may be added with :meth:`add` before :meth:`start`.
    """

    def __init__(
        self, services: Services, interval: float, senders: list[Sender] | None = None
    ) -> None:
        self.stop = asyncio.Event()
        self.services = services
        self.interval = interval
        self.senders: list[Sender] = list(senders or [])
        self.tasks: list[asyncio.Task[None]] = []

    def add(self, sender: Sender) -> None:
        self.senders.append(sender)

    async def start(self) -> None:
        self.stop.clear()
        self.tasks = [
            asyncio.create_task(scheduler(self.services, self.interval, self.stop)),
            *(asyncio.create_task(_forever(s, self.stop)) for s in self.senders),
        ]

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
