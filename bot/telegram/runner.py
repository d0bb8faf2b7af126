"""Telegram's bot, its long polling, and its webhook route (mounted by `tianfu serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import Services, build_services
from bot.background import Background
from bot.settings import Settings
from bot.telegram.dispatcher import BOT_COMMANDS, create_dispatcher
from bot.telegram.notifier import Notifier

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


def make_bot(settings: Settings) -> Bot:
    """A Bot on the official API, or on TELEGRAM_API_BASE (self-hosted or a test server)."""
    if settings.telegram_bot_token is None:
        msg = "TELEGRAM_BOT_TOKEN is not set"
        raise ValueError(msg)
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    else:
        session = AiohttpSession()
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


def _prepare(
    settings: Settings, services: Services | None = None, bot: Bot | None = None
) -> tuple[Bot, Dispatcher, Services, Background]:
    """The bot, its Dispatcher and the background tasks started and stopped with it."""
    services = services or build_services(settings)
    bot = bot or make_bot(settings)
    dp = create_dispatcher(settings, services)
    background = Background(
        services,
        settings.scheduler_interval_seconds,
        [Notifier(bot, services.session_factory, services.wake, media=services.media)],
    )

    async def on_startup(bot: Bot) -> None:
        await bot.set_my_commands(BOT_COMMANDS)
        await background.start()

    async def on_shutdown(bot: Bot) -> None:
        await background.close()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return bot, dp, services, background


async def run_polling(settings: Settings, services: Services | None = None) -> None:
    """Long polling until interrupted (*services* built from *settings* unless given)."""
    bot, dp, _, _ = _prepare(settings, services)
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("tianfu bot: long polling")
    await dp.start_polling(bot, polling_timeout=10, handle_signals=True)


class CheckedRequestHandler(SimpleRequestHandler):
    """The webhook's handler: a body that is not an update (empty, not JSON, not an Update)
    gets 400 and one log line, not a 500 with a traceback."""

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if self.verify_secret(secret, bot):
            raw = await request.read()  # aiohttp keeps the body for the handler's own read
            try:
                Update.model_validate(bot.session.json_loads(raw), context={"bot": bot})
            except ValueError as exc:  # JSON and pydantic validation errors alike
                reason = str(exc).splitlines()[0][:200]
                log.warning(
                    "webhook: refused %d bytes from %s: %s", len(raw), request.remote, reason
                )
                return web.Response(status=400, text="400 Bad Request: not a Telegram update\n")
        return await super().handle(request)


def mount_webhook(app: web.Application, settings: Settings, bot: Bot, dp: Dispatcher) -> None:
    """Telegram updates at WEBHOOK_PATH on *app* (checked against WEBHOOK_SECRET); the
    dispatcher starts and stops with the application and sets the webhook when it starts."""
    if not settings.webhook_url or settings.webhook_secret is None:
        msg = "webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET"
        raise ValueError(msg)
    secret = settings.webhook_secret.get_secret_value()

    async def set_hook(bot: Bot) -> None:
        await bot.set_webhook(
            settings.webhook_url, secret_token=secret, drop_pending_updates=False
        )

    async def set_commands(bot: Bot) -> None:
        await bot.set_my_commands(BOT_COMMANDS)

    dp.startup.register(set_commands)
    dp.startup.register(set_hook)
    CheckedRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
        app, path=WEBHOOK_PATH
    )
    setup_application(app, dp, bot=bot)


class Polling:
    """Long polling as one of a server's background senders (Telegram without a webhook)."""

    def __init__(self, bot: Bot, dp: Dispatcher) -> None:
        self.bot, self.dp = bot, dp

    async def run(self, stop: asyncio.Event) -> None:
        await self.bot.set_my_commands(BOT_COMMANDS)
        await self.bot.delete_webhook(drop_pending_updates=False)
        task = asyncio.create_task(
            self.dp.start_polling(
                self.bot, polling_timeout=10, handle_signals=False, close_bot_session=False
            )
        )
        await stop.wait()
        with contextlib.suppress(RuntimeError):  # polling had not started yet
            await self.dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await task
