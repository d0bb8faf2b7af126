"""`tianfu bot` (long polling) and `tianfu bot --webhook` (aiohttp server)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.app import Services, build_services
from bot.settings import Settings
from bot.telegram.dispatcher import BOT_COMMANDS, create_dispatcher
from bot.telegram.notifier import Notifier
from bot.telegram.services import BotServices

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


def bot_services(settings: Settings, services: Services) -> BotServices:
    return BotServices(
        assistant=services.assistant,
        desk=services.assistant.matching,
        session_factory=services.assistant.session_factory,
        admin_ids=frozenset(settings.admin_ids),
        push=services.push,
        knowledge=services.knowledge,
        corpus_overlay=services.corpus_overlay,
    )


async def scheduler(services: BotServices, interval: float, stop: asyncio.Event) -> None:
    """The one scheduler loop: re-match, expire, auto-close, then the push round; messages
    go to the queue."""
    while not stop.is_set():
        for job in (services.desk, services.push):
            if job is None:
                continue
            try:
                outcome = job.run_due(services.session_factory)
                with services.session_factory() as session:
                    services.queue(session, outcome)
            except Exception:  # noqa: BLE001 - a failed pass is retried at the next tick
                log.exception("scheduler job %s failed", type(job).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


class Background:
    """The notifier and the scheduler, started with the bot and stopped with it."""

    def __init__(self, bot: Bot, services: BotServices, interval: float) -> None:
        self.stop = asyncio.Event()
        self.notifier = Notifier(bot, services.session_factory, services.wake)
        self.tasks: list[asyncio.Task[None]] = []
        self.services = services
        self.interval = interval

    async def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self.notifier.run(self.stop)),
            asyncio.create_task(scheduler(self.services, self.interval, self.stop)),
        ]

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _prepare(settings: Settings) -> tuple[Bot, Dispatcher, BotServices, Background]:
    services = bot_services(settings, build_services(settings))
    bot = make_bot(settings)
    dp = create_dispatcher(settings, services)
    background = Background(bot, services, settings.scheduler_interval_seconds)

    async def on_startup(bot: Bot) -> None:
        await bot.set_my_commands(BOT_COMMANDS)
        await background.start()

    async def on_shutdown(bot: Bot) -> None:
        await background.close()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return bot, dp, services, background


async def run_polling(settings: Settings) -> None:
    bot, dp, _, _ = _prepare(settings)
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("tianfu bot: long polling")
    await dp.start_polling(bot, polling_timeout=10, handle_signals=True)


def run_webhook(settings: Settings) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    if not settings.webhook_url or settings.webhook_secret is None:
        msg = "webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET"
        raise ValueError(msg)
    bot, dp, services, _ = _prepare(settings)
    secret = settings.webhook_secret.get_secret_value()

    async def set_hook(bot: Bot) -> None:
        await bot.set_webhook(
            settings.webhook_url, secret_token=secret, drop_pending_updates=False
        )

    dp.startup.register(set_hook)
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
        app, path=WEBHOOK_PATH
    )
    setup_application(app, dp, bot=bot)
    if settings.dashboard_token is not None and settings.dashboard_token.get_secret_value():
        from bot.web.dashboard import add_dashboard

        add_dashboard(
            app,
            token=settings.dashboard_token.get_secret_value(),
            session_factory=services.session_factory,
        )
    log.info(
        "tianfu bot: webhook on %s:%s%s",
        settings.webhook_host,
        settings.webhook_port,
        WEBHOOK_PATH,
    )
    web.run_app(app, host=settings.webhook_host, port=settings.webhook_port, print=None)
