"""Deliver queued messages within Telegram's limits: about 30 messages/s overall and one per
second per chat; honour retry_after; back off on network errors; stop at 403 (blocked).

Several notifiers may run (one per process): each claims whole chats from the outbox under a
lease (store.outbox.claim), and the limits are shared through the limiter (RedisLimiter when
REDIS_URL is set). A notifier killed mid-send leaves its claims to expire, and that one message
may go out twice: Telegram has no idempotency key, so delivery is at least once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlmodel import Session

from bot.ops import MESSAGES_SENT
from bot.telegram import media as tg_media
from bot.telegram.ratelimit import Limiter, LocalLimiter
from bot.telegram.render import buttons_from_json, keyboard
from bot.telegram.turns import CHANNEL
from store.clock import utcnow
from store.media import MediaStorage
from store.outbox import (
    OutboxMessage,
    block,
    claim,
    mark,
    mark_sent,
    release_claims,
    retry_later,
)
from store.push import still_wanted

log = logging.getLogger(__name__)


class Notifier:
    """The outbox's Telegram sender.

    Args:
        bot: the Bot that sends.
        session_factory: database sessions for the outbox.
        wake: set when something was queued (the sender looks at once instead of in a second).
        per_second: messages per second overall.
        per_chat_interval: seconds between two messages to one chat.
        clock: monotonic seconds (pacing); tests pass a fake one.
        sleep: how to wait that many seconds; tests pass one that advances the fake clock.
        now: the wall-clock time in UTC (when a row may be retried).
        media: where stored photos and voice are, for rows that carry media ids.
        limiter: the shared limits (default: this process's, from the two rates above).
        name: who claims outbox rows (default: host and process id).
        lease: seconds a claim lasts before another sender may take the rows.
        concurrency: chats sent to at the same time.
    """

    def __init__(
        self,
        bot: Bot,
        session_factory: Callable[[], Session],
        wake: asyncio.Event | None = None,
        *,
        per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = utcnow,
        media: MediaStorage | None = None,
        limiter: Limiter | None = None,
        name: str = "",
        lease: float = 60.0,
        concurrency: int = 16,
    ) -> None:
        self.bot = bot
        self.clock, self.sleep, self.now = clock, sleep, now
        self.session_factory = session_factory
        self.media = media
        self.wake = wake or asyncio.Event()
        self.limiter = limiter or LocalLimiter(per_second, per_chat_interval, clock)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = lease
        self.concurrency = concurrency
        self.sent = 0
        # delivered in this pass, recorded as sent together at its end (one UPDATE); they
        # stay claimed by this sender until then, so no other sender takes them
        self.delivered: list[int] = []

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until *stop* is set; pending rows survive a restart in the database."""
        while not stop.is_set():
            # cleared before the pass: a message queued while it runs wakes the next at once
            self.wake.clear()
            unrecorded = self.delivered  # replaced by a new list once a claim recorded it
            try:
                # what a pass delivers is recorded by the next one's claim (one transaction)
                busy = await self._pass()
            except Exception:  # noqa: BLE001 - keep the loop alive; the row stays pending
                log.exception("notifier pass failed")
                busy = False
            if busy:
                await self.sleep(0.05)
                continue
            if self.delivered and self.delivered is not unrecorded:
                continue  # delivered just now: recorded by the next pass's claim, at once
            if stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)
        # what it still held is free for others now (a failure here: the claims expire); what
        # it delivered is recorded first, else another sender would send it again
        with contextlib.suppress(Exception), self.session_factory() as session:
            if self.record_delivered():
                release_claims(session=session, channel=CHANNEL, worker=self.name)

    async def drain(self, timeout: float = 30.0) -> None:
        """Deliver everything due now (tests, shutdown)."""
        deadline = self.clock() + timeout
        while await self.drain_once() and self.clock() < deadline:
            await self.sleep(0.01)
        self.record_delivered()

    async def drain_once(self) -> bool:
        """One pass over the chats this sender claims, its deliveries recorded at its end.
        True when something is still waiting (per-chat pacing)."""
        try:
            return await self._pass()
        finally:
            self.record_delivered()

    def record_delivered(self) -> bool:
        """Mark the rows delivered since the last claim sent, in one UPDATE; False when the
        database is away (they are kept for the next claim, which records them before it
        claims: re-claimed unmarked, they would be sent twice)."""
        if not self.delivered:
            return True
        try:
            with self.session_factory() as session:
                mark_sent(session=session, message_ids=self.delivered, at=self.now())
        except Exception:  # noqa: BLE001 - the pass goes on; recorded before the next claim
            log.exception("could not record %d delivered messages yet", len(self.delivered))
            return False
        self.delivered = []
        return True

    async def _pass(self) -> bool:
        try:
            with self.session_factory() as session:
                rows = claim(
                    session=session,
                    channel=CHANNEL,
                    worker=self.name,
                    lease=self.lease,
                    now=self.now(),
                    sent=self.delivered,
                )
        except Exception:  # noqa: BLE001 - nothing claimed; the delivered wait for next time
            log.exception("could not claim (and record %d delivered)", len(self.delivered))
            return False
        self.delivered = []
        chats: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            chats.setdefault(row.external_id, []).append(row)
        # chats are sent to side by side (each waits on the network, not on the others);
        # one chat's rows one after another, in order
        gate = asyncio.Semaphore(self.concurrency)

        async def one_chat(chat_rows: list[OutboxMessage]) -> bool:
            async with gate:
                return await self._send_chat(chat_rows)

        waiting = await asyncio.gather(*(one_chat(r) for r in chats.values()))
        return any(waiting)

    async def _send_chat(self, rows: list[OutboxMessage]) -> bool:
        """Send one chat's claimed rows in order; True when the chat must wait (pacing) and
        its remaining rows stay claimed for the next pass."""
        for row in rows:
            if row.kind == "push" and not self._wanted(row):
                continue
            slot = await self.limiter.reserve(row.external_id)
            while not slot.ok and not slot.chat_wait:
                await self.sleep(slot.global_wait)  # the whole bot waits (rate, 429 pause)
                slot = await self.limiter.reserve(row.external_id)
            if not slot.ok:
                return True  # this chat had a message less than a second ago
            if not await self._deliver(row):
                return False  # blocked: the store marked the chat's other rows
        return False

    def _wanted(self, row: OutboxMessage) -> bool:
        """A push queued before its reader unsubscribed or stopped is dropped, not sent."""
        with self.session_factory() as s:
            if still_wanted(session=s, channel=CHANNEL, external_id=row.external_id, ref=row.ref):
                return True
            mark(
                session=s,
                message_id=row.id or 0,
                status="dropped",
                error="unsubscribed after it was queued",
            )
        log.info("push %s to %s dropped: unsubscribed", row.id, row.external_id)
        return False

    async def _deliver(self, row: OutboxMessage) -> bool:
        """Send one row and record what happened; False when the chat's later rows must wait
        (flood control, a network error: this row goes first when retried; or blocked)."""
        try:
            chat_id = int(row.external_id)
        except ValueError:
            with self.session_factory() as s:
                mark(
                    session=s,
                    message_id=row.id or 0,
                    status="failed",
                    error="not a Telegram chat id",
                )
            return True
        try:
            await self.bot.send_message(
                chat_id=chat_id,
                text=row.text,
                reply_markup=keyboard(buttons_from_json(row.buttons)),
                parse_mode=None,
            )
        except TelegramRetryAfter as exc:
            log.warning("flood control: retry message %s after %ss", row.id, exc.retry_after)
            with self.session_factory() as s:
                mark(
                    session=s,
                    message_id=row.id or 0,
                    next_attempt_at=self.now() + timedelta(seconds=exc.retry_after),
                )
            await self.limiter.pause(exc.retry_after)
            return False
        except TelegramForbiddenError as exc:
            log.info("chat %s blocked the bot: %s", row.external_id, exc.message)
            with self.session_factory() as s:
                block(session=s, channel=CHANNEL, external_id=row.external_id)
            return False
        except TelegramBadRequest as exc:
            with self.session_factory() as s:
                mark(session=s, message_id=row.id or 0, status="failed", error=exc.message[:500])
            log.warning("message %s refused: %s", row.id, exc.message)
            return True
        except (TelegramNetworkError, TelegramServerError, OSError) as exc:
            with self.session_factory() as s:
                status = retry_later(session=s, row=row, error=str(exc))
            log.warning("message %s not delivered (%s), now %s", row.id, exc, status)
            return False
        self.delivered.append(row.id or 0)
        self.sent += 1
        MESSAGES_SENT.labels(CHANNEL).inc()
        if row.media and self.media is not None:
            await self._deliver_media(chat_id, row, self.media)
        return True

    async def _deliver_media(
        self, chat_id: int, row: OutboxMessage, storage: MediaStorage
    ) -> None:
        """The photos and voice of a sent message, after its text; best effort (the text
        already says what they are, and a retry would repeat the text)."""
        files = tg_media.load(self.session_factory, storage, tuple(row.media or ()))
        try:
            await tg_media.send(self.bot, chat_id, files)
        except (TelegramRetryAfter, TelegramBadRequest, TelegramForbiddenError) as exc:
            log.warning("media of message %s not delivered: %s", row.id, exc.message)
        except (TelegramNetworkError, TelegramServerError, OSError) as exc:
            log.warning("media of message %s not delivered: %s", row.id, exc)
