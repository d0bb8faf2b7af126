"""`tianfu serve`: one application with every configured channel mounted, its background
tasks started and stopped with it; `tianfu run` serves when a channel over HTTP is set up."""

from __future__ import annotations

from aiogram import Bot
from aiohttp.test_utils import TestClient, TestServer

from bot.background import BACKGROUND
from bot.cli import _serves
from bot.telegram.notifier import Notifier
from bot.telegram.recording import RecordingSession
from bot.telegram.runner import Polling
from bot.web.hub import EventHub
from bot.web.serve import build_app
from tests.bot.wiring import make_services, settings_for

HOOK = {
    "webhook_url": "https://bot.example.org/telegram/webhook",
    "webhook_secret": "s3cret-token-0123456789",
}


async def test_one_application_serves_every_channel(engine, tmp_path) -> None:
    services = make_services(
        engine,
        tmp_path,
        telegram_bot_token="42:TEST",
        dashboard_token="dash-token",
        web_secret="web-secret-0123456789abc",
        **HOOK,
    )
    app = build_app(services, bot=Bot("42:TEST", session=RecordingSession()))
    background = app[BACKGROUND]
    assert {type(s) for s in background.senders} == {EventHub, Notifier}
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        assert len(background.tasks) == 3  # the scheduler, the web hub, the notifier
        assert (await client.get("/api/events")).status == 401  # no cookie yet
        assert (await client.get("/chat")).status == 200
        assert (await client.get("/dashboard")).status == 401
        assert (await client.post("/telegram/webhook", json={})).status == 401
    finally:
        await client.close()
    assert background.tasks == [] and background.stop.is_set()


async def test_without_a_webhook_telegram_polls_in_the_background(engine, tmp_path) -> None:
    services = make_services(engine, tmp_path, telegram_bot_token="42:TEST")
    app = build_app(services, bot=Bot("42:TEST", session=RecordingSession()))
    assert {type(s) for s in app[BACKGROUND].senders} == {EventHub, Polling, Notifier}
    assert "/dashboard" not in {r.resource.canonical for r in app.router.routes() if r.resource}


def test_run_serves_when_a_channel_over_http_is_configured(tmp_path) -> None:
    assert not _serves(settings_for(tmp_path))
    assert not _serves(settings_for(tmp_path, telegram_bot_token="42:TEST"))  # long polling
    assert _serves(settings_for(tmp_path, web_secret="web-secret-0123456789abc"))
    assert _serves(settings_for(tmp_path, telegram_bot_token="42:TEST", **HOOK))
