"""Inline buttons: typed callback data back into the assistant's actions."""

from __future__ import annotations

import contextlib

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from sqlmodel import Session

from bot.app import Services
from bot.telegram.render import unpack
from bot.telegram.turns import CHANNEL, Turn, deliver
from dialogs.types import Incoming


def setup() -> Router:
    router = Router(name=__name__)

    @router.callback_query()
    async def on_button(
        query: CallbackQuery, services: Services, session: Session, turn: Turn | None = None
    ) -> None:
        action = unpack(query.data or "")
        with contextlib.suppress(TelegramBadRequest):  # a redelivered press: the query is old
            await query.answer()
        message = query.message
        if action is None or not isinstance(message, Message):
            return
        # a pressed keyboard is spent: remove it so a second tap cannot act twice (already
        # removed when this press is redelivered)
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=None)
        user = query.from_user
        incoming = Incoming(
            channel=CHANNEL,
            user_id=str(user.id),
            action=action,
            display_name=user.full_name or str(user.id),
            locale="en" if (user.language_code or "").startswith("en") else "zh",
        )
        outcome = services.assistant.handle(incoming, session=session, commit=False)
        await deliver(message, outcome, services, session, turn)

    return router
