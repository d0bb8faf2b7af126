"""`tianfu bot` (long polling) and `tianfu bot --webhook` (aiohttp server).

With REDIS_URL the webhook is the cluster's ingress: it verifies each update and appends it
to a Redis Stream (bot.cluster.streams) for `tianfu worker` processes, instead of handling it;
it still runs a sender and the scheduler, which share their work with the workers'."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import socket
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import Services, build_services
from bot.ops import UPDATES_QUEUED, UPDATES_REFUSED
from bot.settings import Settings
from bot.telegram.dispatcher import BOT_COMMANDS, create_dispatcher
from bot.telegram.notifier import Notifier
from bot.telegram.ratelimit import Limiter, LocalLimiter, RedisLimiter
from bot.web.dashboard import QuietAccessLogger
from bot.web.ops import add_ops
from store.clock import utcnow
from store.leases import take_lease
from store.updates import prune_handled

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


SCHEDULER_LEASE = "scheduler"


async def scheduler(
    services: Services, interval: float, stop: asyncio.Event, holder: str = ""
) -> None:
    """Run the scheduler round every *interval* seconds until *stop*; its messages go to the
    outbox. A round first takes the database lease "scheduler" for the interval, so however
    many processes run this loop, each round runs once."""
    holder = holder or f"{socket.gethostname()}:{os.getpid()}"
    lease = max(0.5, interval - 0.5)  # a little short: the holder's next tick may take it again
    while not stop.is_set():
        try:
            with services.session_factory() as session:
                mine = take_lease(
                    session=session, name=SCHEDULER_LEASE, holder=holder, seconds=lease
                )
            if mine:
                outcome = services.run_due()
                with services.session_factory() as session:
                    services.queue(session, outcome)
                    # no channel redelivers an update two days late
                    prune_handled(session=session, before=utcnow() - timedelta(days=2))
        except Exception:  # noqa: BLE001 - the database may be away; retried at the next tick
            log.exception("scheduler round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def make_limiter(settings: Settings, redis: Any | None) -> Limiter:
    """Telegram's limits for this process alone, or shared through Redis."""
    rate, interval = settings.telegram_rate_per_second, settings.telegram_chat_interval_seconds
    if redis is not None:
        return RedisLimiter(redis, rate, interval)
    return LocalLimiter(rate, interval)


class Background:
    """The notifier and the scheduler, started with the bot and stopped with it (with
    *redis*: limits shared with the cluster, and woken by workers' commits)."""

    def __init__(
        self,
        bot: Bot,
        services: Services,
        interval: float,
        *,
        redis: Any | None = None,
        sender: bool = True,
        jobs: bool = True,
    ) -> None:
        self.stop = asyncio.Event()
        self.notifier = Notifier(
            bot,
            services.session_factory,
            services.wake,
            limiter=make_limiter(services.settings, redis),
        )
        self.tasks: list[asyncio.Task[None]] = []
        self.services = services
        self.interval = interval
        self.redis, self.sender, self.jobs = redis, sender, jobs

    async def start(self) -> None:
        if self.sender:
            self.tasks.append(asyncio.create_task(self.notifier.run(self.stop)))
            if self.redis is not None:
                from bot.cluster.worker import relay_wakeups

                waker = relay_wakeups(self.redis, self.services.wake, self.stop)
                self.tasks.append(asyncio.create_task(waker))
        if self.jobs:
            self.tasks.append(
                asyncio.create_task(scheduler(self.services, self.interval, self.stop))
            )

    async def close(self) -> None:
        self.stop.set()
        self.services.wake.set()  # the notifier waits on this, not on stop: end its wait now
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _prepare(
    settings: Settings,
    services: Services | None = None,
    bot: Bot | None = None,
    redis: Any | None = None,
) -> tuple[Bot, Dispatcher, Services, Background]:
    """The bot, its Dispatcher and the background tasks started and stopped with it."""
    services = services or build_services(settings)
    bot = bot or make_bot(settings)
    dp = create_dispatcher(settings, services)
    background = Background(bot, services, settings.scheduler_interval_seconds, redis=redis)

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


class StreamIngressHandler:
    """The webhook's handler with REDIS_URL: check the secret and the body, append the update
    to its chat's stream (once per update id), answer 200 - or 503 when Redis cannot take it,
    so that Telegram sends it again later."""

    def __init__(self, bot: Bot, ingress: Any, secret: str) -> None:
        self.bot, self.ingress, self.secret = bot, ingress, secret

    async def handle(self, request: web.Request) -> web.Response:
        from redis.exceptions import RedisError

        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return web.Response(status=401, text="Unauthorized")
        raw = await request.read()
        try:
            update = Update.model_validate(self.bot.session.json_loads(raw), context={})
        except ValueError as exc:  # JSON and pydantic validation errors alike
            reason = str(exc).splitlines()[0][:200]
            log.warning("webhook: refused %d bytes from %s: %s", len(raw), request.remote, reason)
            return web.Response(status=400, text="400 Bad Request: not a Telegram update\n")
        context = UserContextMiddleware.resolve_event_context(update)
        chat = context.chat.id if context.chat else (context.user.id if context.user else 0)
        try:
            new = await self.ingress.append(str(update.update_id), str(chat), raw)
        except (RedisError, OSError) as exc:
            UPDATES_REFUSED.inc()
            log.warning("webhook: update %s not queued, Redis away: %s", update.update_id, exc)
            return web.Response(status=503, text="503 queue unavailable, retry later\n")
        if new:
            UPDATES_QUEUED.inc()
        return web.json_response({})


def webhook_app(
    settings: Settings,
    services: Services,
    bot: Bot,
    dp: Dispatcher,
    redis: Any | None = None,
) -> web.Application:
    """The webhook's aiohttp application: updates at WEBHOOK_PATH (checked against
    WEBHOOK_SECRET; with *redis* appended to the update streams instead of handled here),
    /healthz, /readyz, /metrics and, when DASHBOARD_TOKEN is set, the dashboard."""
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
    if redis is not None:
        from bot.cluster.streams import Ingress, ensure_groups

        ingress = Ingress(redis, settings.stream_shards)
        app.router.add_post(WEBHOOK_PATH, StreamIngressHandler(bot, ingress, secret).handle)

        async def groups(_: web.Application) -> None:
            try:  # so that the stream lag is measured from the first update on
                await ensure_groups(redis, settings.stream_shards)
            except Exception as exc:  # noqa: BLE001 - the workers create them too
                log.warning("webhook: cannot create the stream groups yet: %s", exc)

        app.on_startup.append(groups)
    else:
        CheckedRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
            app, path=WEBHOOK_PATH
        )
    setup_application(app, dp, bot=bot)
    add_ops(app, services)
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
    redis = None
    if settings.redis_url:
        from bot.cluster.streams import connect

        redis = connect(settings.redis_url)
    bot, dp, services, _ = _prepare(settings, services, redis=redis)
    app = webhook_app(settings, services, bot, dp, redis)
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
