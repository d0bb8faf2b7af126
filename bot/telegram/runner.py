"""`tianfu bot` (long polling) and `tianfu bot --webhook` (aiohttp server)."""

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
from bot.settings import Settings
from bot.telegram.dispatcher import BOT_COMMANDS, create_dispatcher
from bot.telegram.notifier import Notifier
from bot.web.dashboard import QuietAccessLogger

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


async def scheduler(services: Services, interval: float, stop: asyncio.Event) -> None:
    """Run the scheduler round every *interval* seconds until *stop*; its messages go to the
    outbox."""
    while not stop.is_set():
        try:
            outcome = services.run_due()
            with services.session_factory() as session:
                services.queue(session, outcome)
        except Exception:  # noqa: BLE001 - the database may be away; retried at the next tick
            log.exception("scheduler round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


class Background:
    """The notifier and the scheduler, started with the bot and stopped with it."""

    def __init__(self, bot: Bot, services: Services, interval: float) -> None:
        self.stop = asyncio.Event()
        self.notifier = Notifier(
            bot, services.session_factory, services.wake, media=services.media
        )
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
        self.services.wake.set()  # the notifier waits on this, not on stop: end its wait now
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _prepare(
    settings: Settings, services: Services | None = None, bot: Bot | None = None
) -> tuple[Bot, Dispatcher, Services, Background]:
    """The bot, its Dispatcher and the background tasks started and stopped with it."""
    services = services or build_services(settings)
    bot = bot or make_bot(settings)
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


def webhook_app(
    settings: Settings, services: Services, bot: Bot, dp: Dispatcher
) -> web.Application:
    """The webhook's aiohttp application: updates at WEBHOOK_PATH (checked against
    WEBHOOK_SECRET) and, when DASHBOARD_TOKEN is set, the dashboard."""
    if not settings.webhook_url or settings.webhook_secret is None:
        msg = "webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET"
        raise ValueError(msg)
    secret = settings.webhook_secret.get_secret_value()

    async def set_hook(bot: Bot) -> None:
        await bot.set_webhook(
            settings.webhook_url, secret_token=secret, drop_pending_updates=False
        )

    dp.startup.register(set_hook)
    app = web.Application()
    CheckedRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
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
    return app


def run_webhook(settings: Settings, services: Services | None = None) -> None:
    """Serve the webhook (and the dashboard) until interrupted."""
    if not settings.webhook_url or settings.webhook_secret is None:
        msg = "webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET"
        raise ValueError(msg)
    bot, dp, services, _ = _prepare(settings, services)
    app = webhook_app(settings, services, bot, dp)
    log.info(
        "tianfu bot: webhook on %s:%s%s",
        settings.webhook_host,
        settings.webhook_port,
        WEBHOOK_PATH,
    )
    web.run_app(
        app,
        host=settings.webhook_host,
        port=settings.webhook_port,
        print=None,
        access_log_class=QuietAccessLogger,  # the dashboard's ?token= stays out of the log
    )
