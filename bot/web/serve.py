"""`tianfu serve`: ONE aiohttp application for every HTTP channel.

Mounted on it: the dashboard (when DASHBOARD_TOKEN is set), the web chat (`/chat`, `/api/*`)
and, when TELEGRAM_BOT_TOKEN is set, Telegram: the webhook route when WEBHOOK_URL and
WEBHOOK_SECRET are set, else long polling in the background. The scheduler and each
channel's outbox sender start with the application and stop with it.

Adding a channel is one line in :func:`mounts`: a function ``add_x(app, services)`` that adds
its routes and, if it sends on its own, its sender (``background_of(app).add(sender)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot
from aiohttp import web

from bot.app import Services, build_services
from bot.background import BACKGROUND, Background, background_of
from bot.ops import freeze_heap
from bot.settings import Settings
from bot.web.dashboard import QuietAccessLogger

log = logging.getLogger(__name__)

Mount = Callable[[web.Application, Services], None]


def add_dashboard_if_configured(app: web.Application, services: Services) -> None:
    """The indicator dashboard, when DASHBOARD_TOKEN is set."""
    token = services.settings.dashboard_token
    if token is not None and token.get_secret_value():
        from bot.web.dashboard import add_dashboard

        add_dashboard(
            app, token=token.get_secret_value(), session_factory=services.session_factory
        )


def add_telegram_if_configured(
    app: web.Application, services: Services, bot: Bot | None = None
) -> None:
    """Telegram, when TELEGRAM_BOT_TOKEN is set: the webhook route (WEBHOOK_URL and
    WEBHOOK_SECRET set) or long polling, plus its outbox sender (the notifier)."""
    settings = services.settings
    if settings.telegram_bot_token is None and bot is None:
        return
    from bot.background import WakeRelay
    from bot.telegram.dispatcher import create_dispatcher
    from bot.telegram.runner import Polling, make_bot, mount_webhook, notifier

    bot = bot or make_bot(settings)
    dp = create_dispatcher(settings, services)
    redis = None
    if settings.webhook_url and settings.redis_url:  # the cluster's ingress (issue 17)
        from bot.cluster.streams import connect

        redis = connect(settings.redis_url)
        background_of(app).add(WakeRelay(redis, services.wake))
    if settings.webhook_url:
        mount_webhook(app, settings, bot, dp, redis)
    else:
        background_of(app).add(Polling(bot, dp))
    background_of(app).add(notifier(bot, services, redis))

    async def close_bot(_: web.Application) -> None:
        await bot.session.close()

    app.on_cleanup.append(close_bot)


def mounts() -> list[Mount]:
    """Everything `tianfu serve` serves; one line per channel."""
    from bot.web.chat import add_chat
    from bot.web.ops import add_ops
    from bot.wechat import add_wechat_if_configured

    return [
        add_dashboard_if_configured,
        add_chat,
        add_telegram_if_configured,
        add_wechat_if_configured,
        add_ops,
    ]


def build_app(
    services: Services, *, bot: Bot | None = None, chosen: list[Mount] | None = None
) -> web.Application:
    """The one application over *services* (*bot*: a Telegram bot to use, e.g. a test's;
    *chosen*: mount only these)."""
    settings = services.settings
    # the largest body any route takes: a photo or voice upload (each route checks its own)
    limit = max(settings.media_max_photo_bytes, settings.media_max_voice_bytes) + 256 * 1024
    app = web.Application(client_max_size=limit)
    background = Background(services, settings.scheduler_interval_seconds)
    app[BACKGROUND] = background
    for mount in chosen if chosen is not None else mounts():
        if mount is add_telegram_if_configured and bot is not None:
            add_telegram_if_configured(app, services, bot)
        else:
            mount(app, services)

    async def start(_: web.Application) -> None:
        await background.start()

    async def stop(_: web.Application) -> None:
        await background.close()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    return app


def serve(
    settings: Settings,
    services: Services | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Serve until interrupted (*services* built from *settings* unless given)."""
    services = services or build_services(settings)
    app = build_app(services)

    async def dispose(_: web.Application) -> None:
        services.close()

    app.on_cleanup.append(dispose)
    freeze_heap()
    host = host or settings.web_host
    port = port or settings.web_port
    log.info("tianfu serve: http://%s:%s/chat", host, port)
    web.run_app(
        app,
        host=host,
        port=port,
        print=None,
        access_log_class=QuietAccessLogger,  # the dashboard's ?token= stays out of the log
        shutdown_timeout=5,
    )
