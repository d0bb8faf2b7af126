"""/start, /help, /orders, /order N, /needs, /cancel, /subscribe [topics], /unsubscribe
[topics], /stop, /profile, /stats [region]: the same words the assistant understands."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message
from sqlmodel import Session

from bot.app import Services
from bot.telegram.turns import Turn, handle_text

# command -> what a person would type for it
COMMAND_TEXT = {
    "start": "/start",
    "help": "帮助",
    "orders": "/orders",
    "needs": "/needs",
    "cancel": "算了",
    "stop": "/stop",
    "profile": "/profile",
}
WITH_ARGS = ("order", "subscribe", "unsubscribe", "stats")


def setup() -> Router:
    router = Router(name=__name__)

    @router.message(CommandStart())
    @router.message(
        Command(
            "help",
            "orders",
            "needs",
            "cancel",
            "order",
            "subscribe",
            "unsubscribe",
            "stop",
            "profile",
            "stats",
        )
    )
    async def on_command(
        message: Message,
        command: CommandObject,
        services: Services,
        session: Session,
        turn: Turn | None = None,
    ) -> None:
        if command.command in WITH_ARGS:
            text = f"/{command.command} {command.args or ''}".strip()
        else:
            text = COMMAND_TEXT.get(command.command, "帮助")
        await handle_text(message, text, services, session, turn)

    return router
