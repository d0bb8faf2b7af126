"""Telegram's bot, its long polling, and its webhook route (mounted by `tianfu serve`).

With REDIS_URL the webhook is the cluster's ingress: it verifies each update and appends it
to a Redis Stream (bot.cluster.streams) for `tianfu worker` processes, instead of handling it;
the serving process still runs a sender and the scheduler, which share their work with the
workers'."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import Services, build_services
from bot.background import Background, WakeRelay
from bot.ops import UPDATES_QUEUED, UPDATES_REFUSED, freeze_heap
from bot.settings import Settings
from bot.telegram.dispatcher import BOT_COMMANDS, create_dispatcher
from bot.telegram.notifier import Notifier
from bot.telegram.ratelimit import Limiter, LocalLimiter, RedisLimiter
from bot.web.ops import add_ops

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
    settings: Settings,
    services: Services | None = None,
    bot: Bot | None = None,
    redis: Any | None = None,
) -> tuple[Bot, Dispatcher, Services, Background]:
    """The bot, its Dispatcher and the background tasks started and stopped with it (with
    *redis*: Telegram's limits shared with the cluster, and woken by workers' commits)."""
    services = services or build_services(settings)
    bot = bot or make_bot(settings)
    dp = create_dispatcher(settings, services)
    background = Background(
        services,
        settings.scheduler_interval_seconds,
        [notifier(bot, services, redis), *([WakeRelay(redis, services.wake)] if redis else [])],
    )

    async def on_startup(bot: Bot) -> None:
        await bot.set_my_commands(BOT_COMMANDS)
        await background.start()

    async def on_shutdown(bot: Bot) -> None:
        await background.close()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return bot, dp, services, background


def make_limiter(settings: Settings, redis: Any | None) -> Limiter:
    """Telegram's limits for this process alone, or shared through Redis."""
    rate, interval = settings.telegram_rate_per_second, settings.telegram_chat_interval_seconds
    if redis is not None:
        return RedisLimiter(redis, rate, interval)
    return LocalLimiter(rate, interval)


def notifier(bot: Bot, services: Services, redis: Any | None = None) -> Notifier:
    """The outbox's Telegram sender of this process (limits shared through *redis*)."""
    return Notifier(
        bot,
        services.session_factory,
        services.wake,
        media=services.media,
        limiter=make_limiter(services.settings, redis),
    )


async def run_polling(settings: Settings, services: Services | None = None) -> None:
    """Long polling until interrupted (*services* built from *settings* unless given)."""
    bot, dp, _, _ = _prepare(settings, services)
    freeze_heap()
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


def mount_webhook(
    app: web.Application, settings: Settings, bot: Bot, dp: Dispatcher, redis: Any | None = None
) -> None:
    """Telegram updates at WEBHOOK_PATH on *app* (checked against WEBHOOK_SECRET); the
    dispatcher starts and stops with the application and sets the webhook when it starts.
    With *redis* the updates are appended to the update streams instead of handled here."""
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


def route_of(body: Any) -> tuple[int, int]:
    """(update id, chat id) of a decoded update, read from the JSON itself: the ingress
    needs only these two to queue it, and the worker validates the whole update (a model of
    every field costs more than the rest of the webhook's work). The chat is the one
    aiogram's user context resolves (the event's chat, a callback's message's chat), else
    the sender (inline queries, poll answers), else 0.

    Raises:
        ValueError: *body* is not an object with an integer update_id and one event.
    """
    if not isinstance(body, dict) or type(body.get("update_id")) is not int:
        msg = "no integer update_id"
        raise ValueError(msg)
    events = [v for k, v in body.items() if k != "update_id" and isinstance(v, dict)]
    if len(events) != 1:
        msg = f"{len(events)} events in update {body['update_id']}"
        raise ValueError(msg)
    event = events[0]
    chat = event.get("chat") or (event.get("message") or {}).get("chat")
    user = event.get("from") or event.get("user")
    for found in (chat, user):
        if isinstance(found, dict) and type(found.get("id")) is int:
            return body["update_id"], found["id"]
    return body["update_id"], 0


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
            update_id, chat = route_of(self.bot.session.json_loads(raw))
        except ValueError as exc:  # not JSON, or no update
            reason = str(exc).splitlines()[0][:200]
            log.warning("webhook: refused %d bytes from %s: %s", len(raw), request.remote, reason)
            return web.Response(status=400, text="400 Bad Request: not a Telegram update\n")
        try:
            new = await self.ingress.append(str(update_id), str(chat), raw)
        except (RedisError, OSError) as exc:
            UPDATES_REFUSED.inc()
            log.warning("webhook: update %s not queued, Redis away: %s", update_id, exc)
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
    """An application with only the webhook (see :func:`mount_webhook`) and /healthz,
    /readyz, /metrics; `tianfu serve` mounts the same route beside the other channels."""
    app = web.Application()
    mount_webhook(app, settings, bot, dp, redis)
    add_ops(app, services)
    return app


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
