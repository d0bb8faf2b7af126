"""The WeChat Official Account (服务号) channel: `/wechat` and its customer-service sender.

Mount it on the aiohttp application with :func:`add_wechat` and start the sender with
:func:`start_wechat_sender` (it runs while the application runs), or both at once with
:func:`add_wechat_if_configured` when WECHAT_TOKEN is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from bot.settings import Settings, SettingsError
from bot.wechat.api import WechatAPI
from bot.wechat.channel import REPLY_WITHIN, WechatChannel
from bot.wechat.protocol import Codec
from bot.wechat.sender import WechatSender
from store.clock import utcnow

if TYPE_CHECKING:
    from bot.app import Services

__all__ = [
    "WECHAT",
    "WechatChannel",
    "WechatSender",
    "add_wechat",
    "add_wechat_if_configured",
    "start_wechat_sender",
    "wechat_channel",
    "wechat_configured",
]

log = logging.getLogger(__name__)
WECHAT = web.AppKey("wechat", WechatChannel)
SENDER = web.AppKey("wechat_sender", WechatSender)


def wechat_configured(settings: Settings) -> bool:
    """Whether WECHAT_TOKEN is set (then /wechat is served)."""
    return settings.wechat_token is not None and bool(settings.wechat_token.get_secret_value())


def add_wechat(
    app: web.Application,
    services: Services,
    *,
    now: Callable[[], datetime] = utcnow,
    reply_within: float = REPLY_WITHIN,
) -> WechatChannel:
    """Serve the account's server URL at `/wechat` (GET: URL check; POST: messages). With
    REDIS_URL the messages' turns run in `tianfu worker` (bot.cluster.handoff).

    Args:
        now: the wall-clock time (the 48 h window); tests pass a controllable clock.
        reply_within: seconds a turn may take for a passive reply (WeChat waits 5).

    Raises:
        SettingsError: WECHAT_TOKEN is not set, or an AES key without WECHAT_APP_ID.
    """
    channel = wechat_channel(services, now=now, reply_within=reply_within)
    settings = services.settings
    if settings.redis_url:
        from bot.background import background_of
        from bot.cluster.handoff import Handoff
        from bot.cluster.streams import connect

        redis = connect(settings.redis_url)
        channel.handoff = Handoff(
            redis, settings.stream_shards, "wechat", services.session_factory
        )
        background_of(app).add(channel.handoff)

        async def close_redis(_: web.Application) -> None:
            await redis.aclose()

        app.on_cleanup.append(close_redis)
    app[WECHAT] = channel
    app.router.add_get("/wechat", channel.get)
    app.router.add_post("/wechat", channel.post)

    async def close(_: web.Application) -> None:
        for task in list(channel.later):  # slow turns finish and queue their answers
            with contextlib.suppress(Exception):
                await task
        await channel.close()

    app.on_cleanup.append(close)
    return channel


def wechat_channel(
    services: Services,
    *,
    now: Callable[[], datetime] = utcnow,
    reply_within: float = REPLY_WITHIN,
) -> WechatChannel:
    """The account's inbound side (for `/wechat`, or for `tianfu worker`'s queued updates).

    Raises:
        SettingsError: WECHAT_TOKEN is not set, or an AES key without WECHAT_APP_ID.
    """
    settings = services.settings
    if not wechat_configured(settings):
        msg = "WECHAT_TOKEN is not set: the WeChat channel needs the account's server Token"
        raise SettingsError(msg)
    token = settings.wechat_token.get_secret_value() if settings.wechat_token else ""
    aes = settings.wechat_aes_key.get_secret_value() if settings.wechat_aes_key else ""
    if aes and not settings.wechat_app_id:
        msg = "WECHAT_AES_KEY is set but WECHAT_APP_ID is not: 安全模式 needs the AppID"
        raise SettingsError(msg)
    secret = settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
    if not (settings.wechat_app_id and secret):
        log.warning(
            "WECHAT_APP_ID or WECHAT_APP_SECRET is not set: /wechat answers within 4.5 s "
            "only; slower answers and messages for other people stay queued"
        )
    api = WechatAPI(
        base=settings.wechat_api_base,
        app_id=settings.wechat_app_id,
        secret=secret,
        session_factory=services.session_factory,
        now=now,
    )
    return WechatChannel(
        services, Codec(token, aes, settings.wechat_app_id), api, now, reply_within
    )


def add_wechat_if_configured(app: web.Application, services: Services) -> None:
    """`tianfu serve`'s mount: `/wechat` and its sender when WECHAT_TOKEN is set."""
    if wechat_configured(services.settings):
        add_wechat(app, services)
        start_wechat_sender(app, services)


def start_wechat_sender(app: web.Application, services: Services) -> None:
    """Run the customer-service sender while *app* runs (after :func:`add_wechat`)."""
    channel = app[WECHAT]
    sender = WechatSender(
        channel.api,
        services.session_factory,
        channel.wake,
        now=channel.now,
        storage=services.media,
    )
    app[SENDER] = sender

    async def running(_: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        yield
        stop.set()
        sender.wake.set()
        await task

    app.cleanup_ctx.append(running)
