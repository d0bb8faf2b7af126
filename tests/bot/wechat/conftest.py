from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Services
from bot.wechat import WechatChannel, WechatSender, add_wechat
from tests.bot.wechat.fake import APP_ID, SECRET, TOKEN, FakeWechatAPI, Platform
from tests.bot.wiring import make_services


class Clock:
    """The wall clock of the channel, the sender and the fake API: real time plus what the
    test moved it on (rows the outbox queues are due at once)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, hours: float) -> None:
        self.offset += timedelta(hours=hours)


@dataclass
class WX:
    platform: Platform
    api: FakeWechatAPI
    channel: WechatChannel
    sender: WechatSender
    services: Services
    clock: Clock


@pytest.fixture
async def make_wx(
    file_engine, kb_index, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[WX]]]:
    """Build the WeChat channel on an aiohttp test server over the application's services,
    with a fake WeChat API at WECHAT_API_BASE and a controllable clock."""
    opened: list[tuple[TestClient, FakeWechatAPI]] = []  # type: ignore[type-arg]

    async def make(*, aes_key: str = "", reply_within: float = 30.0, **settings: Any) -> WX:
        clock = Clock()
        api = FakeWechatAPI(now=clock)
        base = await api.start()
        values: dict[str, Any] = {
            "wechat_token": TOKEN,
            "wechat_app_id": APP_ID,
            "wechat_app_secret": SECRET,
            "wechat_aes_key": aes_key or None,
            "wechat_api_base": base,
        }
        services = make_services(file_engine, tmp_path, kb_index, **(values | settings))
        app = web.Application()
        channel = add_wechat(app, services, now=clock, reply_within=reply_within)
        sender = WechatSender(
            channel.api, services.session_factory, channel.wake, now=clock, storage=services.media
        )
        client = TestClient(TestServer(app))
        await client.start_server()
        opened.append((client, api))
        return WX(Platform(client, api, aes_key=aes_key), api, channel, sender, services, clock)

    yield make
    for client, api in opened:
        await client.close()
        await api.stop()
