"""Outer middlewares: duplicate updates, a DB session per update, the handled-update row,
per-user throttle."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update, User
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.ops import TURN_SECONDS, UPDATES_FAILED, UPDATES_HANDLED, update_context
from bot.telegram.turns import CHANNEL, Turn
from store.updates import add_handled, handled_or_blocked, was_handled

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DedupMiddleware(BaseMiddleware):
    """Telegram redelivers updates it thinks were lost: handle each update_id once."""

    def __init__(self, size: int = 10_000) -> None:
        self.seen: OrderedDict[int, None] = OrderedDict()
        self.size = size

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            if event.update_id in self.seen:
                log.info("duplicate update %s ignored", event.update_id)
                return None
            self.seen[event.update_id] = None
            if len(self.seen) > self.size:
                self.seen.popitem(last=False)
        return await handler(event, data)


class SessionMiddleware(BaseMiddleware):
    """One database session per update, closed when the update is done."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        with self.session_factory() as session:
            data["session"] = session
            return await handler(event, data)


class HandledMiddleware(BaseMiddleware):
    """The database's memory of handled updates (after SessionMiddleware): an update whose
    row exists is a redelivery and does nothing; the others get a :class:`Turn` that the
    handler commits with its output, or - for updates no turn handles (a file, a sticker, a
    throttled message) - the row is written after the handler.

    Args:
        via_outbox: replies to the chat go through the outbox (``tianfu worker``).
    """

    def __init__(self, *, via_outbox: bool = False) -> None:
        self.via_outbox = via_outbox

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        session: Session = data["session"]
        update_id = str(event.update_id)
        sender = data.get("event_from_user")
        blocked: bool | None = None
        if isinstance(sender, User):  # whether they had blocked us is asked at once
            handled, blocked = handled_or_blocked(
                session=session, channel=CHANNEL, update_id=update_id, external_id=str(sender.id)
            )
        else:
            handled = was_handled(session=session, channel=CHANNEL, update_id=update_id)
        if handled:
            log.info("update %s was handled before: nothing to do", update_id)
            return None
        chat = data.get("event_chat")
        chat_id = str(chat.id) if isinstance(chat, Chat) else ""
        turn = Turn(update_id, chat_id, self.via_outbox, blocked=blocked)
        data["turn"] = turn
        started = time.perf_counter()
        with update_context(update_id):
            try:
                result = await handler(event, data)
            except Exception:
                UPDATES_FAILED.labels(CHANNEL).inc()
                raise
        UPDATES_HANDLED.labels(CHANNEL).inc()
        TURN_SECONDS.labels(CHANNEL).observe(time.perf_counter() - started)
        if not turn.recorded:
            try:
                add_handled(
                    session=session, channel=CHANNEL, update_id=update_id, chat_id=turn.chat_id
                )
                session.commit()
            except IntegrityError:  # handled meanwhile elsewhere: that one counts
                session.rollback()
        return result


class ThrottleMiddleware(BaseMiddleware):
    """At most *rate* messages per *per* seconds from one user; one friendly warning."""

    def __init__(self, rate: int = 8, per: float = 10.0) -> None:
        self.rate, self.per = rate, per
        self.hits: dict[int, deque[float]] = {}
        self.warned: dict[int, float] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        if user is None or not isinstance(event, Message | CallbackQuery):
            return await handler(event, data)
        now = time.monotonic()
        q = self.hits.setdefault(user.id, deque())
        while q and now - q[0] > self.per:
            q.popleft()
        if len(q) >= self.rate:
            if now - self.warned.get(user.id, 0.0) > self.per:
                self.warned[user.id] = now
                text = (
                    "You are sending messages too fast; please wait a few seconds."
                    if (user.language_code or "").startswith("en")
                    else "您发得太快了，请稍等几秒再试。"
                )
                if isinstance(event, Message):
                    await event.answer(text)
                else:
                    await event.answer(text, show_alert=False)
            return None
        q.append(now)
        return await handler(event, data)
