"""What the Telegram handlers are given (as Dispatcher workflow data): few, fixed names."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import Message
from sqlmodel import Session

from bot.telegram.render import buttons_to_json, keyboard
from dialogs.assistant import Assistant
from dialogs.matching import MatchDesk
from dialogs.push import PushPlanner
from dialogs.types import Incoming, Outcome
from retrieval.index import HybridIndex
from store.outbox import enqueue_many, is_blocked, unblock

CHANNEL = "telegram"
_ORDER_REF = re.compile(r"#(\d+)")


@dataclass(slots=True)
class BotServices:
    assistant: Assistant
    desk: MatchDesk
    session_factory: Callable[[], Session]
    admin_ids: frozenset[int] = frozenset()
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # tells the notifier to look
    push: PushPlanner | None = None  # the push job, run by the scheduler after the desk's
    knowledge: HybridIndex | None = None  # where administrators' articles are indexed
    corpus_overlay: Path | None = None  # where administrators' articles are saved

    def seen(self, session: Session, external_id: str) -> None:
        """A person who writes to the bot again has unblocked it: deliver to them again."""
        if is_blocked(session=session, channel=CHANNEL, external_id=external_id):
            unblock(session=session, channel=CHANNEL, external_id=external_id)

    def queue(self, session: Session, outcome: Outcome) -> int:
        """Persist this outcome's messages for other people (one transaction); the notifier
        delivers them."""
        n = enqueue_many(
            session=session,
            messages=[
                {
                    "channel": msg.channel,
                    "external_id": msg.external_id,
                    "text": msg.text,
                    "buttons": buttons_to_json(msg.buttons),
                    "kind": msg.kind,
                    "ref": msg.ref,
                }
                for msg in outcome.outbound
            ],
        )
        if n:
            self.wake.set()
        return n


def incoming_from(message: Message, text: str) -> Incoming:
    user = message.from_user
    assert user is not None
    ref = ""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.is_bot:
        m = _ORDER_REF.search(replied.text or replied.caption or "")
        if m:
            ref = f"order:{m.group(1)}"
    return Incoming(
        channel=CHANNEL,
        user_id=str(user.id),
        text=text,
        display_name=user.full_name or user.username or str(user.id),
        locale="en" if (user.language_code or "").startswith("en") else "zh",
        reply_to_ref=ref,
    )


async def handle_text(
    message: Message, text: str, services: BotServices, session: Session
) -> None:
    """The whole life of a text update: to the assistant, queue for others, reply here."""
    incoming = incoming_from(message, text)
    services.seen(session, incoming.user_id)
    if services.assistant.llm is not None:
        # a turn may wait up to LLM_TIMEOUT for the model: keep the event loop serving others
        outcome = await asyncio.to_thread(services.assistant.handle, incoming, session=session)
    else:
        outcome = services.assistant.handle(incoming, session=session)
    services.queue(session, outcome)
    await reply_all(message, outcome)


async def reply_all(message: Message, outcome: Outcome, attempts: int = 3) -> None:
    """Send the replies for this chat: plain text (never parsed as HTML) and inline buttons.

    Flood control (429) is honoured by waiting retry_after and sending again.
    """
    for reply in outcome.replies:
        for attempt in range(attempts):
            try:
                await message.answer(
                    reply.text, reply_markup=keyboard(reply.buttons), parse_mode=None
                )
                break
            except TelegramRetryAfter as exc:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(exc.retry_after)
