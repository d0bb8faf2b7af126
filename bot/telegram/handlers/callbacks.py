"""Inline buttons: typed callback data back into the assistant's actions."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from sqlmodel import Session

from bot.app import Services
from bot.telegram.render import unpack
from bot.telegram.turns import CHANNEL, reply_all
from dialogs.types import Incoming


def setup() -> Router:
    router = Router(name=__name__)

    @router.callback_query()
    async def on_button(query: CallbackQuery, services: Services, session: Session) -> None:
        action = unpack(query.data or "")
        await query.answer()
        message = query.message
        if action is None or not isinstance(message, Message):
            return
        # a pressed keyboard is spent: remove it so a second tap cannot act twice
        await message.edit_reply_markup(reply_markup=None)
        user = query.from_user
        incoming = Incoming(
            channel=CHANNEL,
            user_id=str(user.id),
            action=action,
            display_name=user.full_name or str(user.id),
            locale="en" if (user.language_code or "").startswith("en") else "zh",
        )
        outcome = services.assistant.handle(incoming, session=session)
        services.queue(session, outcome)
        await reply_all(message, outcome, services=services)

    return router
