"""An HTTP channel's request handed to the workers, and its wait for their answer (issue 17).

With REDIS_URL the web chat and WeChat do not run turns in the serving process: the request
is verified and deduplicated here, appended to its chat's stream (bot.cluster.streams, tagged
with the channel) and a ``tianfu worker`` runs the turn. The worker commits the replies as
outbox rows reserved for this request until a deadline the request set (store.replies), and
publishes the update's id on ``DONE``. The request waits for that (a bounded time), then takes
the reserved rows with one conditional UPDATE and answers with them; when the wait runs out,
the rows fall due at the deadline and the channel's sender delivers them instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.cluster.streams import DONE, PREFIX, Ingress
from store.clock import utcnow
from store.replies import reply_ids

log = logging.getLogger(__name__)

MARGIN = 1.0  # seconds between the request's last take and the sender's first look (clocks)
ANSWER_SECONDS = 120  # how long the answer a request gave is kept for a retry of it


class Handoff:
    """One channel's way into the streams and back.

    Args:
        redis: a ``redis.asyncio.Redis`` client.
        shards: STREAM_SHARDS.
        channel: the channel whose updates these are ("web", "wechat").
        session_factory: database sessions (the handled-update rows are read there).
        poll: seconds between looks at the database when no notice arrives.
    """

    def __init__(
        self,
        redis: Any,
        shards: int,
        channel: str,
        session_factory: Callable[[], Session],
        poll: float = 0.25,
    ) -> None:
        self.redis, self.channel = redis, channel
        self.session_factory = session_factory
        self.ingress = Ingress(redis, shards, channel)
        self.poll = poll
        self._waiting: dict[str, set[asyncio.Event]] = {}

    @staticmethod
    def deadline(wait: float) -> datetime:
        """Until when the replies of a request that waits *wait* seconds are held for it."""
        return utcnow() + timedelta(seconds=wait + MARGIN)

    async def queue(self, update_id: str, chat_id: str, payload: dict[str, Any]) -> bool:
        """Append the update; False when it was queued before (a retry). Raises RedisError or
        OSError when Redis cannot be reached."""
        body = json.dumps({**payload, "id": update_id}, ensure_ascii=False).encode()
        return await self.ingress.append(update_id, chat_id, body)

    async def wait(self, update_id: str, seconds: float) -> list[int] | None:
        """The ids of the update's reply rows once a worker committed its turn, or None when
        that took longer than *seconds*."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        event = asyncio.Event()
        self._waiting.setdefault(update_id, set()).add(event)
        try:
            while True:
                with self.session_factory() as session:
                    ids = reply_ids(session=session, channel=self.channel, update_id=update_id)
                left = end - loop.time()
                if ids is not None or left <= 0:
                    return ids
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), min(self.poll, left))
                event.clear()
        finally:
            waiters = self._waiting.get(update_id, set())
            waiters.discard(event)
            if not waiters:
                self._waiting.pop(update_id, None)

    def done(self, update_id: str) -> None:
        """A worker committed *update_id*: its waiters look now."""
        for event in self._waiting.get(update_id, ()):
            event.set()

    async def remember(self, update_id: str, answer: str) -> None:
        """Keep the answer given, for a retry of the same update (best effort)."""
        with contextlib.suppress(Exception):
            await self.redis.set(self._answer_key(update_id), answer, ex=ANSWER_SECONDS)

    async def recall(self, update_id: str) -> str:
        """The answer an earlier request for the same update gave, or ""."""
        try:
            value = await self.redis.get(self._answer_key(update_id))
        except Exception:  # noqa: BLE001 - Redis away: no passive answer, the sender delivers
            return ""
        return value.decode() if isinstance(value, bytes) else str(value or "")

    async def announce(self, update_id: str) -> None:
        """(In the worker) tell the waiting request, wherever it is, that *update_id*
        committed (best effort: the request polls the database anyway)."""
        try:
            await self.redis.publish(DONE, f"{self.channel}:{update_id}".encode())
        except Exception as exc:  # noqa: BLE001
            log.debug("cannot announce %s:%s: %s", self.channel, update_id, exc)

    def _answer_key(self, update_id: str) -> str:
        return f"{PREFIX}:answer:{self.channel}:{update_id}"

    async def run(self, stop: asyncio.Event) -> None:
        """Listen for workers' notices (a background task of the application); without it the
        waiters still see their rows, at the next poll."""
        prefix = f"{self.channel}:".encode()
        while not stop.is_set():
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(DONE)
                while not stop.is_set():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    data = message.get("data") if message else None
                    if isinstance(data, bytes) and data.startswith(prefix):
                        self.done(data[len(prefix) :].decode())
            except Exception:  # noqa: BLE001 - Redis away: the waiters poll meanwhile
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
