"""What `tianfu worker` does with an entry, by its channel (issue 17).

Every channel's updates share the streams; an entry carries its channel (``ch``; none means
Telegram, as queued before channels were tagged). Telegram's entries go to the aiogram
Dispatcher (bot.telegram.worker); the web chat's and WeChat's to the handlers built here.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.app import Services


class QueuedChannel(Protocol):
    """Runs one queued update of its channel; returns once the turn committed."""

    channel: str

    def handle(self, fields: dict[bytes, bytes]) -> Awaitable[None]: ...

    def give_up(self, fields: dict[bytes, bytes], exc: BaseException) -> Awaitable[None]: ...

    def close(self) -> Awaitable[None]: ...


def channel_of(fields: dict[bytes, bytes]) -> str:
    return fields.get(b"ch", b"telegram").decode()


def queued_channels(services: Services, redis: Any) -> dict[str, QueuedChannel]:
    """The handlers of the HTTP channels' updates: the web chat always, WeChat when
    WECHAT_TOKEN is set."""
    from bot.cluster.handoff import Handoff
    from bot.web.queued import WebTurns

    settings = services.settings

    def handoff(channel: str) -> Handoff:
        return Handoff(redis, settings.stream_shards, channel, services.session_factory)

    handlers: dict[str, QueuedChannel] = {"web": WebTurns(services, handoff("web"))}
    from bot.wechat import wechat_configured

    if wechat_configured(settings):
        from bot.wechat import wechat_channel

        channel = wechat_channel(services)
        channel.handoff = handoff("wechat")
        handlers["wechat"] = channel
    return handlers
