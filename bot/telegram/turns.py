"""One Telegram turn: the update as an `Incoming`, the assistant, the outbox, the replies."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import BufferedInputFile, Message
from sqlmodel import Session

from bot.app import outbox_rows
from bot.telegram import media as tg_media
from bot.telegram.render import keyboard
from dialogs.types import Incoming, Outbound, Outcome
from store.outbox import enqueue_many, is_blocked, unblock
from store.updates import add_handled

if TYPE_CHECKING:
    from bot.app import Services

CHANNEL = "telegram"
_ORDER_REF = re.compile(r"#(\d+)")
_CASE_REF = re.compile(r"^(?:案例|Case) #(\d+)")  # issue 19: a curation draft to edit


@dataclass(slots=True)
class Turn:
    """One update's bookkeeping, given to handlers as workflow data ``turn``.

    The update's handled row (store.updates) is committed with the turn's outbox rows. With
    *via_outbox* (``tianfu worker``) the replies to this chat are outbox rows too, in that same
    transaction: once it commits, the update is done and its replies will be sent, exactly
    once, whatever dies next; before it commits, nothing of the turn's output exists.
    """

    update_id: str
    chat_id: str
    via_outbox: bool = False
    recorded: bool = False
    blocked: bool | None = None  # whether the sender had blocked us (None: not read yet)


def seen(session: Session, external_id: str, turn: Turn | None = None) -> None:
    """A person who writes to the bot again has unblocked it: deliver to them again (the
    *turn* may know already whether they had blocked us)."""
    blocked = turn.blocked if turn is not None else None
    if blocked is None:
        blocked = is_blocked(session=session, channel=CHANNEL, external_id=external_id)
    if blocked:
        unblock(session=session, channel=CHANNEL, external_id=external_id)


def incoming_from(message: Message, text: str) -> Incoming:
    """The assistant's view of a text message (a reply to a notification names its order)."""
    user = message.from_user
    if user is None:  # channel posts have no sender; the routers only pass private messages
        msg = f"message {message.message_id} has no sender"
        raise ValueError(msg)
    ref = ""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.is_bot:
        shown = replied.text or replied.caption or ""
        case = _CASE_REF.match(shown)
        m = _ORDER_REF.search(shown)
        if case:
            ref = f"case:{case.group(1)}"
        elif m:
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
    message: Message, text: str, services: Services, session: Session, turn: Turn | None = None
) -> None:
    """The whole life of a text update: to the assistant, queue for others, reply here."""
    incoming = incoming_from(message, text)
    seen(session, incoming.user_id, turn)
    # deliver commits the turn: its state, messages for others and handled row at once
    if services.assistant.llm is not None:
        # a turn may wait up to LLM_TIMEOUT for the model: keep the event loop serving others
        outcome = await asyncio.to_thread(
            services.assistant.handle, incoming, session=session, commit=False
        )
    else:
        outcome = services.assistant.handle(incoming, session=session, commit=False)
    await deliver(message, outcome, services, session, turn)


async def deliver(
    message: Message, outcome: Outcome, services: Services, session: Session, turn: Turn | None
) -> None:
    """Commit the turn (messages for others, the handled row, and in worker mode the replies
    to this chat) in one transaction, then send the replies (or, in worker mode, only the
    file attachments, which the outbox does not hold)."""
    services.queue(session, outcome, commit=False)
    if turn is not None:
        if turn.via_outbox:
            chat = str(message.chat.id)
            replies = [
                Outbound(CHANNEL, chat, r.text, r.buttons, kind="reply", media=r.media)
                for r in outcome.replies
                if r.document is None or r.text
            ]
            if enqueue_many(session=session, messages=outbox_rows(replies), commit=False):
                services.wake.set()
        add_handled(
            session=session, channel=CHANNEL, update_id=turn.update_id, chat_id=turn.chat_id
        )
        turn.recorded = True
    session.commit()
    if turn is not None and turn.via_outbox:
        for reply in outcome.replies:
            if reply.document is not None:
                name, content = reply.document
                await message.answer_document(BufferedInputFile(content, filename=name))
        return
    await reply_all(message, outcome, services=services)


async def handle_media(
    message: Message, bot: Bot, services: Services, session: Session, turn: Turn | None = None
) -> None:
    """A photo or voice message (its caption as the text): downloaded, to the assistant,
    queued for others, replied here. Checking, transcribing and re-encoding run off the
    event loop."""
    media = await tg_media.media_from(message, bot)
    incoming = replace(incoming_from(message, message.caption or ""), media=media)
    seen(session, incoming.user_id, turn)
    outcome = await asyncio.to_thread(
        services.assistant.handle, incoming, session=session, commit=False
    )
    await deliver(message, outcome, services, session, turn)


async def reply_all(
    message: Message, outcome: Outcome, attempts: int = 3, services: Services | None = None
) -> None:
    """Send the replies for this chat: plain text (never parsed as HTML) and inline buttons,
    then the photos and voice a reply shows (with *services*, which know where they are).

    Flood control (429) is honoured by waiting retry_after and sending again.
    """
    for reply in outcome.replies:
        for attempt in range(attempts):
            try:
                if reply.document is not None:  # e.g. the /mydata JSON, as a file
                    name, content = reply.document
                    await message.answer_document(BufferedInputFile(content, filename=name))
                else:
                    await message.answer(
                        reply.text, reply_markup=keyboard(reply.buttons), parse_mode=None
                    )
                break
            except TelegramRetryAfter as exc:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(exc.retry_after)
        if reply.media and services is not None and message.bot is not None:
            files = tg_media.load(services.session_factory, services.media, reply.media)
            await tg_media.send(message.bot, message.chat.id, files)
