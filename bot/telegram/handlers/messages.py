"""Text messages (and captions); a clear answer for content we cannot read yet."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message
from sqlmodel import Session

from bot.telegram.services import BotServices, handle_text

UNSUPPORTED_ZH = (
    "目前只能看懂文字消息。请用文字描述：作物、症状、地点和联系电话，"
    "比如“宜宾翠屏区李子树流胶，想请专家看看”。图片可以加上文字说明一起发。"
)
UNSUPPORTED_EN = (
    "I can only read text for now. Please describe the crop, the symptoms, the place "
    "and a phone number in words; photos may carry a caption."
)


def setup() -> Router:
    router = Router(name=__name__)

    @router.message(F.text | F.caption)
    async def on_text(message: Message, services: BotServices, session: Session) -> None:
        text = message.text if message.text is not None else (message.caption or "")
        await handle_text(message, text, services, session)

    @router.message()
    async def on_other(message: Message) -> None:
        english = message.from_user is not None and (
            message.from_user.language_code or ""
        ).startswith("en")
        await message.answer(UNSUPPORTED_EN if english else UNSUPPORTED_ZH, parse_mode=None)

    return router
