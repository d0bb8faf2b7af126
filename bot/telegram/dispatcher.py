"""`create_dispatcher(settings, services)`: used by the runner and by every test."""

from __future__ import annotations

import logging

from aiogram import Dispatcher
from aiogram.types import BotCommand, ErrorEvent

from bot.app import Services
from bot.ops import UPDATES_FAILED
from bot.settings import Settings
from bot.telegram.handlers import callbacks, commands, messages
from bot.telegram.middlewares import (
    DedupMiddleware,
    HandledMiddleware,
    SessionMiddleware,
    ThrottleMiddleware,
)

log = logging.getLogger(__name__)

BOT_COMMANDS = [
    BotCommand(command="start", description="开始使用 / 角色选择"),
    BotCommand(command="help", description="使用说明"),
    BotCommand(command="orders", description="我的需求和接单"),
    BotCommand(command="needs", description="专家：浏览待接需求"),
    BotCommand(command="cancel", description="取消正在填写的内容"),
    BotCommand(command="subscribe", description="订阅科普推送"),
    BotCommand(command="unsubscribe", description="退订科普推送"),
    BotCommand(command="profile", description="我的兴趣画像（可清空）"),
    BotCommand(command="stop", description="停止全部推送"),
    BotCommand(command="mydata", description="查看和导出我的个人信息"),
    BotCommand(command="delete_me", description="删除我的个人信息"),
]


def create_dispatcher(
    settings: Settings, services: Services, *, via_outbox: bool = False
) -> Dispatcher:
    """The bot's Dispatcher: *services* as workflow data, a session per update, dedup and
    throttle, the routers, and an apology when a handler fails.

    With *via_outbox* (``tianfu worker``) replies are committed to the outbox with the
    handled-update row, and a failing update raises out of ``feed_update`` (nothing is
    committed; the worker does not acknowledge it and tries again) instead of apologising.
    """
    # Conversation state is our own (dialogs.state, persisted per person): aiogram's FSM
    # middleware would only look up an unused per-chat state on every update.
    dp = Dispatcher(services=services, disable_fsm=True)
    dp.update.outer_middleware(DedupMiddleware())
    dp.update.outer_middleware(SessionMiddleware(services.session_factory))
    dp.update.outer_middleware(HandledMiddleware(via_outbox=via_outbox))
    throttle = ThrottleMiddleware()
    dp.message.outer_middleware(throttle)
    dp.callback_query.outer_middleware(throttle)
    # the handler routers hang from the Dispatcher itself: every router an update passes
    # through wraps its middlewares and filters again (issue 17: a level less per update)
    dp.include_routers(commands.setup(), callbacks.setup(), messages.setup())
    if via_outbox:
        return dp

    @dp.errors()
    async def on_error(event: ErrorEvent) -> bool:
        update = event.update
        UPDATES_FAILED.labels("telegram").inc()
        log.error(
            "update %s failed: %r", update.update_id, event.exception, exc_info=event.exception
        )
        message = update.message or (
            update.callback_query.message if update.callback_query else None
        )
        if message is not None:
            try:
                await message.answer(
                    "抱歉，处理您的消息时出了点问题，请稍后再试。", parse_mode=None
                )
            except Exception:  # noqa: BLE001 - the apology is best effort
                log.warning("could not send the apology for update %s", update.update_id)
        return True

    return dp
