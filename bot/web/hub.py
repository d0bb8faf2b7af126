"""The web chat's outbox sender: messages for people (channel "web") go to their open event
streams (`GET /api/events`). Someone not connected keeps their messages in the outbox until
they connect. One query per tick covers everyone connected to this process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlmodel import Session

from store.clock import as_utc, utcnow
from store.outbox import OutboxMessage, mark, pending_for
from store.push import still_wanted

log = logging.getLogger(__name__)

CHANNEL = "web"


class EventHub:
    """Connections by session id, and the loop that hands each its pending messages.

    A row is marked sent by the connection that wrote it to the browser; until then it stays
    pending (a dropped connection gets it again when the person comes back).
    """

    def __init__(self, session_factory: Callable[[], Session], poll: float = 1.0) -> None:
        self.session_factory = session_factory
        self.poll = poll
        self._queues: dict[str, set[asyncio.Queue[OutboxMessage | None]]] = {}
        self._handed: dict[int, str] = {}  # row id -> session id, while being written
        self._poke = asyncio.Event()
        self.refs: dict[str, str] = {}  # session id -> ref of the last notice delivered

    def connect(self, sid: str) -> asyncio.Queue[OutboxMessage | None]:
        queue: asyncio.Queue[OutboxMessage | None] = asyncio.Queue()
        self._queues.setdefault(sid, set()).add(queue)
        self.poke()
        return queue

    def disconnect(self, sid: str, queue: asyncio.Queue[OutboxMessage | None]) -> None:
        queues = self._queues.get(sid, set())
        queues.discard(queue)
        if not queues:
            self._queues.pop(sid, None)
            # what was handed to it but not written goes out again on the next connection
            for row_id in [r for r, s in self._handed.items() if s == sid]:
                self._handed.pop(row_id, None)

    def close(self) -> None:
        """End every open stream (the server is stopping)."""
        for queues in self._queues.values():
            for queue in queues:
                queue.put_nowait(None)

    def connected(self, sid: str) -> bool:
        return bool(self._queues.get(sid))

    def poke(self) -> None:
        """Look now (something was queued for a web recipient)."""
        self._poke.set()

    def delivered(self, sid: str, row: OutboxMessage) -> None:
        """*row* reached the browser: mark it sent and remember what a reply answers."""
        with self.session_factory() as session:
            mark(session=session, message_id=row.id or 0, status="sent", sent_at=utcnow())
        self._handed.pop(row.id or 0, None)
        if row.ref:
            self.refs[sid] = row.ref

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.hand_out()
            except Exception:  # noqa: BLE001 - the database may be away; try again next tick
                log.exception("web event hub pass failed")
            self._poke.clear()
            stop_wait = asyncio.ensure_future(stop.wait())
            poke_wait = asyncio.ensure_future(self._poke.wait())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.wait({stop_wait, poke_wait}, return_when=asyncio.FIRST_COMPLETED),
                    timeout=self.poll,
                )
            for waiter in (stop_wait, poke_wait):
                waiter.cancel()

    async def hand_out(self) -> int:
        """One pass: each pending row for a connected person goes to their streams."""
        sids = list(self._queues)
        handed = 0
        now = utcnow()
        for start in range(0, len(sids), 500):
            with self.session_factory() as session:
                rows = pending_for(
                    session=session, channel=CHANNEL, external_ids=sids[start : start + 500]
                )
                for row in rows:
                    if row.id in self._handed:
                        continue
                    if as_utc(row.next_attempt_at) > now:
                        continue  # held for the request waiting for it (store.replies)
                    if row.kind == "push" and not _wanted(session, row):
                        continue
                    queues = self._queues.get(row.external_id)
                    if not queues:
                        continue
                    self._handed[row.id or 0] = row.external_id
                    for queue in queues:
                        queue.put_nowait(row)
                    handed += 1
        return handed


def _wanted(session: Session, row: OutboxMessage) -> bool:
    """A push queued before its reader unsubscribed is dropped, not sent."""
    if still_wanted(session=session, channel=CHANNEL, external_id=row.external_id, ref=row.ref):
        return True
    mark(session=session, message_id=row.id or 0, status="dropped", error="unsubscribed")
    return False
