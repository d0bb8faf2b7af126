"""Deliver queued messages within Telegram's limits: about 30 messages/s overall and one per
second per chat; honour retry_after; back off on network errors; stop at 403 (blocked)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
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

from bot.telegram import media as tg_media
from bot.telegram.render import buttons_from_json, keyboard
from bot.telegram.turns import CHANNEL
from store.clock import utcnow
from store.media import MediaStorage
from store.outbox import OutboxMessage, block, due, mark, retry_later
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
    ) -> None:
        self.bot = bot
        self.clock, self.sleep, self.now = clock, sleep, now
        self.session_factory = session_factory
        self.media = media
        self.wake = wake or asyncio.Event()
        self.gap = 1.0 / per_second
        self.chat_interval = per_chat_interval
        self._last_send = 0.0
        self._last_chat: dict[str, float] = {}
        self._blocked: set[str] = set()
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until *stop* is set; pending rows survive a restart in the database."""
        while not stop.is_set():
            try:
                busy = await self.drain_once()
            except Exception:  # noqa: BLE001 - keep the loop alive; the row stays pending
                log.exception("notifier pass failed")
                busy = False
            if busy:
                await self.sleep(0.05)
                continue
            if stop.is_set():
                break
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)

    async def drain(self, timeout: float = 30.0) -> None:
        """Deliver everything due now (tests, shutdown)."""
        deadline = self.clock() + timeout
        while await self.drain_once() and self.clock() < deadline:
            await self.sleep(0.01)

    async def drain_once(self) -> bool:
        """One pass over due rows. True when something is still waiting (per-chat pacing)."""
        with self.session_factory() as session:
            rows = due(session=session, channel=CHANNEL, now=self.now())
        self._blocked.clear()
        waiting = False
        for row in rows:
            if row.external_id in self._blocked:
                continue  # blocked during this pass; the store already marked its rows
            if row.kind == "push" and not self._wanted(row):
                continue
            now = self.clock()
            ready_at = self._last_chat.get(row.external_id, 0.0) + self.chat_interval
            if ready_at > now:
                waiting = True  # this chat had a message less than a second ago
                continue
            gap = self._last_send + self.gap - now
            if gap > 0:
                await self.sleep(gap)
            await self._deliver(row)
        return waiting

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

    async def _deliver(self, row: OutboxMessage) -> None:
        self._last_send = self.clock()
        self._last_chat[row.external_id] = self._last_send
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
            return
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
            self._last_chat[row.external_id] = self.clock() + exc.retry_after
            return
        except TelegramForbiddenError as exc:
            log.info("chat %s blocked the bot: %s", row.external_id, exc.message)
            with self.session_factory() as s:
                block(session=s, channel=CHANNEL, external_id=row.external_id)
            self._blocked.add(row.external_id)
            return
        except TelegramBadRequest as exc:
            with self.session_factory() as s:
                mark(session=s, message_id=row.id or 0, status="failed", error=exc.message[:500])
            log.warning("message %s refused: %s", row.id, exc.message)
            return
        except (TelegramNetworkError, TelegramServerError, OSError) as exc:
            with self.session_factory() as s:
                status = retry_later(session=s, row=row, error=str(exc))
            log.warning("message %s not delivered (%s), now %s", row.id, exc, status)
            return
        with self.session_factory() as s:
            mark(session=s, message_id=row.id or 0, status="sent", sent_at=self.now())
        self.sent += 1
        if row.media and self.media is not None:
            await self._deliver_media(chat_id, row, self.media)

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
