"""`tianfu worker`: handle Telegram updates queued in Redis by the webhook (REDIS_URL).

One process: a StreamWorker (bot.cluster.worker) feeding each update to the same aiogram
Dispatcher the bot uses, in outbox mode (replies committed with the handled-update row), a
sender and the scheduler (both safe to run in every process), and /healthz, /readyz and
/metrics on OPS_HOST:OPS_PORT. SIGTERM (or Ctrl-C) stops taking updates, finishes the ones
in hand, acknowledges only what committed, and gives the shards back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.app import Services, build_services, outbox_rows
from bot.background import Background, WakeRelay
from bot.cluster.channels import channel_of, queued_channels
from bot.cluster.streams import DEAD, connect, ensure_groups
from bot.cluster.worker import StreamWorker
from bot.ops import freeze_heap, update_context
from bot.settings import Settings
from bot.telegram.dispatcher import create_dispatcher
from bot.telegram.runner import make_bot, notifier
from bot.telegram.turns import CHANNEL
from bot.web.dashboard import QuietAccessLogger
from bot.web.ops import add_ops
from dialogs.types import Outbound
from store.outbox import enqueue_many
from store.updates import add_handled, was_handled

log = logging.getLogger(__name__)
APOLOGY = "抱歉，处理您的消息时出了点问题，请稍后再试。"


def is_transient(exc: BaseException) -> bool:
    """Errors that say "a shared engine is away", retried for as long as they last."""
    if isinstance(exc, OperationalError | RedisError | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class TelegramWorker:
    """The pieces of one worker process, started by :meth:`run` and stopped by *stop*."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        bot: Bot | None,
        redis: Any,
        *,
        sender: bool = True,
        jobs: bool = True,
    ) -> None:
        self.settings, self.services, self.bot, self.redis = settings, services, bot, redis
        self.dp = create_dispatcher(settings, services, via_outbox=True)
        self.channels = queued_channels(services, redis)  # the web chat's, WeChat's (issue 17)
        self.consumer = StreamWorker(
            redis,
            self.handle,
            give_up=self.give_up,
            transient=is_transient,
            shards=settings.stream_shards,
            lease_ms=round(settings.stream_lease_seconds * 1000),
        )
        self.background = Background(
            services,
            settings.scheduler_interval_seconds,
            ([notifier(bot, services, redis)] if bot is not None else [])
            + [WakeRelay(redis, services.wake)]
            if sender
            else [],
            jobs=jobs,
        )

    async def handle(self, fields: dict[bytes, bytes]) -> None:
        """One queued update through the Dispatcher (or its channel's handler); returns once
        its turn committed."""
        if (channel := channel_of(fields)) != CHANNEL:
            await self.channels[channel].handle(fields)
            return
        if self.bot is None:  # not retried for ever: dead-lettered after max_attempts
            msg = "a Telegram update, but TELEGRAM_BOT_TOKEN is not set"
            raise ValueError(msg)
        try:  # the ingress only read its id and chat (bot.telegram.runner.route_of)
            update = Update.model_validate(
                self.bot.session.json_loads(fields[b"u"]), context={"bot": self.bot}
            )
        except ValidationError as exc:  # it will not get better: dead-lettered at once
            reason = str(exc).splitlines()[0][:200]
            log.error("update refused, not a Telegram update: %s", reason)
            await self.give_up(fields, exc)
            await self.redis.xadd(DEAD, {**fields, b"error": reason.encode()})
            return
        await self.dp.feed_update(self.bot, update)

    async def give_up(self, fields: dict[bytes, bytes], exc: BaseException) -> None:
        """An update that keeps failing: the person gets an apology (once: the handled row
        is written with it), the update goes to the dead-letter stream (the caller)."""
        if (channel := channel_of(fields)) != CHANNEL:
            if channel in self.channels:
                await self.channels[channel].give_up(fields, exc)
            return
        if self.bot is None:
            return
        raw = self.bot.session.json_loads(fields[b"u"])
        update_id, chat = str(raw.get("update_id", "")), fields.get(b"chat", b"").decode()
        with update_context(update_id), self.services.session_factory() as session:
            if was_handled(session=session, channel=CHANNEL, update_id=update_id):
                return
            if chat and chat != "0":
                rows = outbox_rows([Outbound(CHANNEL, chat, APOLOGY, kind="reply")])
                enqueue_many(session=session, messages=rows, commit=False)
            add_handled(session=session, channel=CHANNEL, update_id=update_id, chat_id=chat)
            session.commit()
        self.services.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_groups(self.redis, self.settings.stream_shards)
        await self.background.start()
        try:
            await self.consumer.run(stop)
        finally:
            await self.background.close()
            for channel in self.channels.values():
                await channel.close()


async def serve_worker(
    settings: Settings,
    services: Services | None = None,
    *,
    sender: bool = True,
    jobs: bool = True,
    stop: asyncio.Event | None = None,
) -> None:
    """Run one worker until SIGTERM / SIGINT (or *stop*)."""
    if not settings.redis_url:
        msg = "tianfu worker needs REDIS_URL (the webhook queues updates there)"
        raise ValueError(msg)
    services = services or build_services(settings)
    from dialogs.nlu.model import default_model

    # made (loaded or trained) before the first update, not during it
    await asyncio.to_thread(default_model, settings.model_cache)
    freeze_heap()
    redis = connect(settings.redis_url)
    # a cluster may serve only the web chat and WeChat: then no Telegram bot
    bot = make_bot(settings) if settings.telegram_bot_token is not None else None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    app = web.Application()
    add_ops(app, services)
    runner = web.AppRunner(app, access_log_class=QuietAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, settings.ops_host, settings.ops_port)
    await site.start()
    worker = TelegramWorker(settings, services, bot, redis, sender=sender, jobs=jobs)
    log.info(
        "tianfu worker %s: %d shards, ops on %s",
        worker.consumer.name,
        settings.stream_shards,
        ", ".join(str(a) for a in runner.addresses),
    )
    try:
        await worker.run(stop)
    finally:
        await runner.cleanup()
        if bot is not None:
            await bot.session.close()
        await redis.aclose()
        services.close()
        log.info("tianfu worker %s stopped", worker.consumer.name)
