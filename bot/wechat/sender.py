"""Deliver queued WeChat messages through the customer-service API, within its window.

WeChat lets an account message a person for 48 hours after that person's last message, at
most 5 times. So a person's queued messages (a slow answer, the rest of a long one, an
expert's new-need notice, a requester's "已接单") are merged into as few messages as fit;
what does not fit, or waits for someone whose window is closed, stays queued until they
write again (their message wakes the sender).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import ClientError
from sqlmodel import Session

from bot.wechat.api import GONE_ERRORS, WINDOW_ERRORS, TokenRefused, WechatAPI, WechatError
from bot.wechat.render import item_of_json, pack
from store.clock import utcnow
from store.errors import NotFound
from store.media import MediaKind, MediaStorage, media_file, read_media
from store.outbox import OutboxMessage, block, mark, release_claims, retry_later
from store.push import still_wanted
from store.updates import prune_handled
from store.wechat import (
    CHANNEL,
    claim_in_window,
    close_window,
    note_sent,
    offered,
    window_left,
)

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)
WINDOW_MESSAGES = 5
KEEP_UPDATES = timedelta(days=1)  # WeChat retries within seconds; a day is plenty


class WechatSender:
    """The outbox's WeChat sender.

    Args:
        api: the WeChat API client.
        session_factory: database sessions for the outbox.
        wake: set when something was queued or someone wrote (look at once).
        now: the wall-clock time in UTC (the window); tests pass a controllable one.
        storage: where stored photos and voice are read from (None: texts only).
        name: who claims outbox rows (default: host and process id): any number of senders
            may run, each person's messages are held by one of them at a time.
        lease: seconds a claim lasts before another sender may take the rows.
    """

    def __init__(
        self,
        api: WechatAPI,
        session_factory: Callable[[], Session],
        wake: asyncio.Event | None = None,
        *,
        now: Callable[[], datetime] = utcnow,
        storage: MediaStorage | None = None,
        name: str = "",
        lease: float = 60.0,
    ) -> None:
        self.api, self.session_factory = api, session_factory
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = lease
        self.storage = storage
        self.wake = wake or asyncio.Event()
        self.now = now
        self.sent = 0  # WeChat messages sent
        self._pruned: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until *stop* is set; queued rows survive a restart in the database."""
        while not stop.is_set():
            self.wake.clear()
            try:
                await self.drain_once()
                self._prune()
            except Exception:  # noqa: BLE001 - keep the loop alive; rows stay pending
                log.exception("WeChat sender pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)

    def _prune(self) -> None:
        now = self.now()
        if self._pruned is not None and now - self._pruned < timedelta(hours=1):
            return
        self._pruned = now
        with self.session_factory() as s:
            prune_handled(session=s, before=now - KEEP_UPDATES, channel=CHANNEL)

    async def drain_once(self) -> int:
        """One pass over the queued messages of people whose window is open; how many
        WeChat messages went out."""
        with self.session_factory() as s:
            rows = claim_in_window(
                session=s,
                worker=self.name,
                now=self.now(),
                window=WINDOW,
                limit_per_window=WINDOW_MESSAGES,
                lease=self.lease,
            )
        people: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            if row.kind == "push" and not self._wanted(row):
                continue
            people.setdefault(row.external_id, []).append(row)
        before = self.sent
        try:
            for openid, queued in people.items():
                await self._deliver(openid, queued)
        except TokenRefused as exc:  # the rows stay queued until the settings are fixed
            log.error("WeChat messages cannot be sent: %s", exc)
        finally:
            if rows:  # what waits for a window is free for any sender when it opens
                with self.session_factory() as s:
                    release_claims(session=s, channel=CHANNEL, worker=self.name)
        return self.sent - before

    def _wanted(self, row: OutboxMessage) -> bool:
        """A push queued before its reader unsubscribed is dropped, not sent."""
        with self.session_factory() as s:
            if still_wanted(session=s, channel=CHANNEL, external_id=row.external_id, ref=row.ref):
                return True
            mark(session=s, message_id=row.id or 0, status="dropped", error="unsubscribed")
        return False

    async def _deliver(self, openid: str, rows: list[OutboxMessage]) -> None:
        """The person's queued rows in as few messages as the window allows: the texts
        merged, then the photos and voice messages (one message each)."""
        with self.session_factory() as s:
            quota = window_left(
                session=s, openid=openid, now=self.now(), window=WINDOW, limit=WINDOW_MESSAGES
            )
            start = offered(session=s, openid=openid) + 1
        if not quota:
            return
        texts = [r for r in rows if r.text.strip() or r.buttons]
        items = [item_of_json(r.text, r.buttons) for r in texts]
        used = done = 0
        sent: set[int | None] = set()
        for chunk in pack(items, start=start, max_chunks=quota):
            if not await self._send(openid, texts[done], self.api.send_text(openid, chunk.text)):
                return
            used += 1
            with self.session_factory() as s:
                finished = texts[done : chunk.done]
                for row in finished:
                    if row.media:  # the text is out; its photos follow
                        row.text, row.buttons = "", []
                        mark(session=s, message_id=row.id or 0, text="", buttons=[])
                    else:
                        mark(session=s, message_id=row.id or 0, status="sent", sent_at=self.now())
                        sent.add(row.id)
                if chunk.rest:  # the message ended inside this row: the rest goes next
                    mark(session=s, message_id=texts[chunk.done].id or 0, text=chunk.rest)
                refs = [r.ref for r in finished if r.ref]
                note_sent(
                    session=s,
                    openid=openid,
                    messages=1,
                    choices=chunk.choices,
                    ref=refs[-1] if refs else "",
                )
            done = chunk.done
        for row in rows:  # in order, as far as the window goes
            if row.id in sent:
                continue
            if row.text.strip() or row.buttons:
                break  # its text is still waiting: so are its photos and what follows
            if used >= quota:
                return
            took = await self._media(openid, row, quota - used)
            if took is None:
                return
            used += took

    async def _media(self, openid: str, row: OutboxMessage, room: int) -> int | None:
        """Send up to *room* of the row's media; how many messages that took (None: stop,
        WeChat refused)."""
        remaining = list(row.media or [])
        used = 0
        if not remaining:  # nothing in it at all
            with self.session_factory() as s:
                mark(session=s, message_id=row.id or 0, status="sent", sent_at=self.now())
        while remaining and used < room:
            media_id = remaining[0]
            loaded = self._load(media_id)
            if loaded is not None:
                kind, data, mime = loaded
                if not await self._send(
                    openid, row, self.api.send_media(openid, kind, data, mime)
                ):
                    return None
                used += 1
            remaining.pop(0)
            with self.session_factory() as s:
                if remaining:
                    mark(session=s, message_id=row.id or 0, media=remaining)
                else:
                    mark(session=s, message_id=row.id or 0, status="sent", sent_at=self.now())
                if loaded is not None:
                    note_sent(session=s, openid=openid, messages=1, choices=[])
        return used

    def _load(self, media_id: int) -> tuple[str, bytes, str] | None:
        """(WeChat media type, content, mime) of a stored file, or None when it cannot go
        (gone, or a voice format WeChat does not take: its transcript is in the text)."""
        if self.storage is None:
            return None
        try:
            with self.session_factory() as s:
                media = media_file(session=s, media_id=media_id)
            data = read_media(storage=self.storage, media=media)
        except (NotFound, OSError, ValueError) as exc:
            log.warning("media %s not sent to WeChat: %s", media_id, exc)
            return None
        if media.kind == MediaKind.PHOTO:
            return "image", data, media.mime
        if media.mime in ("audio/amr", "audio/mpeg"):
            return "voice", data, media.mime
        log.info("voice %s (%s) not sent: WeChat takes AMR or MP3", media_id, media.mime)
        return None

    async def _send(self, openid: str, row: OutboxMessage, call: Awaitable[None]) -> bool:
        """Await one API call; False when it failed (the row is marked as the error says)."""
        try:
            await call
        except TokenRefused:
            raise
        except WechatError as exc:
            self._refused(openid, row, exc)
            return False
        except (ClientError, TimeoutError, OSError) as exc:
            with self.session_factory() as s:
                status = retry_later(session=s, row=row, error=str(exc) or repr(exc))
            log.warning("WeChat message to %s not sent (%r), now %s", openid, exc, status)
            return False
        self.sent += 1
        return True

    def _refused(self, openid: str, row: OutboxMessage, exc: WechatError) -> None:
        with self.session_factory() as s:
            if exc.errcode in WINDOW_ERRORS:
                # WeChat counts differently than we thought: wait for their next message
                close_window(session=s, openid=openid, limit=WINDOW_MESSAGES)
                log.info("WeChat window of %s closed (%s)", openid, exc.errcode)
            elif exc.errcode in GONE_ERRORS:
                block(session=s, channel=CHANNEL, external_id=openid)
                log.info("WeChat user %s cannot be messaged (%s)", openid, exc)
            elif exc.errcode == -1 or exc.errcode == 45009 or exc.errcode >= 50000:
                status = retry_later(session=s, row=row, error=str(exc))
                log.warning("WeChat message %s not sent (%s), now %s", row.id, exc, status)
            else:
                mark(session=s, message_id=row.id or 0, status="failed", error=str(exc)[:500])
                log.warning("WeChat refused message %s: %s", row.id, exc)
