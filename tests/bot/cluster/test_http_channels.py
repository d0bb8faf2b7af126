"""The web chat and WeChat through Redis (issue 17): the HTTP request queues the update, a
`tianfu worker` runs the turn, and the replies go out exactly once - in the request's answer,
or (when the wait ran out) through /api/events or the customer-service API. On SQLite and
PostgreSQL; skipped without Redis."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.background import BACKGROUND, Background
from bot.cluster.handoff import Handoff
from bot.cluster.streams import GROUP, chat_key, shard_of, stream_name
from bot.telegram.recording import RecordingSession
from bot.telegram.worker import TelegramWorker
from bot.web.chat import add_chat
from bot.web.serve import build_app
from bot.wechat import WECHAT, WechatSender, add_wechat
from store.clock import utcnow
from store.media import MediaFile
from store.outbox import OutboxMessage
from store.replies import reply_ids
from store.updates import HandledUpdate
from tests.bot.cluster.test_ingress_worker import wait_until
from tests.bot.test_web_chat import _read_events, login, origin
from tests.bot.wechat.fake import APP_ID, SECRET, TOKEN, FakeWechatAPI, Platform
from tests.bot.wiring import make_services
from tests.media_files import png

SHARDS = 4
WEB_SECRET = "web-secret-for-tests-0123456789"


def services_for(engine, tmp_path, kb_index, redis_url, **extra):  # type: ignore[no-untyped-def]
    return make_services(
        engine,
        tmp_path,
        kb_index,
        redis_url=redis_url,
        stream_shards=SHARDS,
        web_secret=WEB_SECRET,
        **extra,
    )


async def _worker(services, redis):  # type: ignore[no-untyped-def]
    worker = TelegramWorker(
        services.settings, services, Bot("42:T", session=RecordingSession()), redis, jobs=False
    )
    worker.consumer.lease_ms = 600  # a dead owner's shard is free again quickly
    worker.consumer.block_ms = 200
    stop = asyncio.Event()
    return worker, stop, asyncio.create_task(worker.run(stop))


async def _stop(*running) -> None:  # type: ignore[no-untyped-def]
    for _, stop, _ in running:
        stop.set()
    await asyncio.gather(*(task for _, _, task in running))


def _rows(services, **where) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with services.session_factory() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(OutboxMessage, name) == value)
        return list(s.exec(stmt).all())


def _handled(services, channel: str) -> list[HandledUpdate]:  # type: ignore[no-untyped-def]
    with services.session_factory() as s:
        stmt = select(HandledUpdate).where(HandledUpdate.channel == channel)
        return list(s.exec(stmt).all())


async def test_web_chat_through_a_worker_answers_in_the_request_once(
    engine, kb_index, tmp_path, redis, redis_url
):
    # a generous wait: the answer must come in the request however slow the machine is
    services = services_for(engine, tmp_path, kb_index, redis_url, web_reply_wait_seconds=20)
    client = TestClient(TestServer(build_app(services, chosen=[add_chat])))
    await client.start_server()
    running = await _worker(services, redis)
    try:
        sid = await login(client)
        body = {"text": "你好", "id": "page-request-0001"}
        resp = await client.post("/api/chat", json=body, headers=origin(client))
        assert resp.status == 200
        first = await resp.json()
        assert first["id"] == "page-request-0001"
        assert first["replies"] and first["replies"][0]["text"].startswith("您好")
        # the page resending the same request (a lost answer): queued and handled once
        again = await client.post("/api/chat", json=body, headers=origin(client))
        assert again.status == 200 and (await again.json())["replies"] == []
        # a request without an id of its own gets one
        thanks = await client.post("/api/chat", json={"text": "谢谢"}, headers=origin(client))
        assert (await thanks.json())["replies"][0]["text"].startswith("不客气")
        # an upload is stored before it is queued; the worker's turn uses the stored file
        form = FormData()
        form.add_field("file", png(), filename="leaf.png", content_type="image/png")
        form.add_field("text", "叶子发黄了")
        up = await client.post("/api/media", data=form, headers=origin(client))
        assert up.status == 200
        assert (await up.json())["replies"]
    finally:
        await _stop(running)
        await client.close()
    assert running[0].consumer.handled == 3  # 你好, 谢谢, the photo (the resend was dropped)
    assert len(_handled(services, "web")) == 3
    with services.session_factory() as s:
        photos = list(s.exec(select(MediaFile)).all())
    assert len(photos) == 1 and photos[0].kind == "photo"
    rows = _rows(services, channel="web", external_id=sid)
    assert rows and {r.status for r in rows} == {"sent"}  # each taken by its request


async def test_web_replies_not_ready_in_time_arrive_over_sse(
    engine, kb_index, tmp_path, redis, redis_url
):
    services = services_for(engine, tmp_path, kb_index, redis_url, web_reply_wait_seconds=0)
    client = TestClient(TestServer(build_app(services, chosen=[add_chat])))
    await client.start_server()
    try:
        await login(client)
        resp = await client.post("/api/chat", json={"text": "你好"}, headers=origin(client))
        assert resp.status == 202  # no worker yet
        assert (await resp.json())["replies"] == []
        running = await _worker(services, redis)
        try:
            events = await _read_events(client, 1, timeout=30)
        finally:
            await _stop(running)
    finally:
        await client.close()
    assert events[0]["text"].startswith("您好")
    assert {r.status for r in _rows(services, channel="web")} == {"sent"}


async def _wechat(services) -> tuple[TestClient, web.Application]:  # type: ignore[no-untyped-def]
    app = web.Application()
    app[BACKGROUND] = Background(services, 3600)
    add_wechat(app, services, reply_within=20)  # generous: the answer must be passive
    client = TestClient(TestServer(app))
    await client.start_server()
    return client, app


def _wechat_settings(api_base: str) -> dict:
    return {
        "wechat_token": TOKEN,
        "wechat_app_id": APP_ID,
        "wechat_app_secret": SECRET,
        "wechat_api_base": api_base,
    }


async def test_wechat_through_a_worker_and_a_retry_answered_once(
    file_engine, kb_index, tmp_path, redis, redis_url
):
    api = FakeWechatAPI(now=utcnow)
    base = await api.start()
    services = services_for(file_engine, tmp_path, kb_index, redis_url, **_wechat_settings(base))
    client, app = await _wechat(services)
    platform = Platform(client, api)
    running = await _worker(services, redis)
    try:
        hello = await platform.say("o_farmer", "你好", msg_id=501)
        assert hello.status == 200 and "您好" in hello.text
        # WeChat resending the same MsgId (our answer was lost): the same answer, no new turn
        retry = await platform.say("o_farmer", "你好", msg_id=501)
        assert retry.text == hello.text
        sender = WechatSender(app[WECHAT].api, services.session_factory, storage=services.media)
        await sender.drain_once()
    finally:
        await _stop(running)
        await client.close()
        await api.stop()
    assert running[0].consumer.handled == 1
    handled = _handled(services, "wechat")
    assert [h.update_id for h in handled] == ["501"]
    # the passive reply took the whole answer: nothing left for the customer-service API
    assert api.texts("o_farmer") == []
    assert {r.status for r in _rows(services, channel="wechat")} == {"sent"}


async def test_a_killed_workers_web_and_wechat_updates_are_taken_over_once(
    file_engine, kb_index, tmp_path, redis, redis_url
):
    api = FakeWechatAPI(now=utcnow)
    base = await api.start()
    services = services_for(file_engine, tmp_path, kb_index, redis_url, **_wechat_settings(base))
    factory = services.session_factory
    web_in = Handoff(redis, SHARDS, "web", factory)
    wx_in = Handoff(redis, SHARDS, "wechat", factory)
    gone = (utcnow() - timedelta(seconds=1)).isoformat()  # the requests stopped waiting
    sid = "sid-of-a-browser-0001"
    api.user_wrote("o_farmer")  # WeChat's 48 h window is open
    for n, text in enumerate(["你好", "谢谢"], 1):
        await web_in.queue(f"w{n}", sid, {"sid": sid, "text": text, "until": gone})
        message = {
            "key": f"90{n}",
            "openid": "o_farmer",
            "account": "gh_tianfu_test",
            "kind": "text",
            "text": text,
        }
        await wx_in.queue(f"90{n}", "o_farmer", {"m": message, "until": gone})
    from bot.cluster.leases import lease_key
    from bot.cluster.streams import ensure_groups

    await ensure_groups(redis, SHARDS)
    # a worker read everything, committed the first update of each chat, then was killed
    # before acknowledging anything (its shard leases still held for a moment)
    dead = TelegramWorker(
        services.settings, services, Bot("42:T", session=RecordingSession()), redis, jobs=False
    )
    firsts = []
    for channel, chat in (("web", sid), ("wechat", "o_farmer")):
        shard = shard_of(chat_key(channel, chat), SHARDS)
        read = await redis.xreadgroup(GROUP, "dead-worker", {stream_name(shard): ">"}, count=10)
        assert len(read[0][1]) == 2  # both updates of the chat are in one stream, in order
        firsts.append(read[0][1][0][1])
        await redis.set(lease_key(shard), "dead-worker", px=500)
    for fields in firsts:
        await dead.handle(fields)
    running = await _worker(services, redis)
    try:
        await wait_until(lambda: running[0].consumer.handled >= 2, timeout=30)
        for shard in range(SHARDS):
            await wait_until_async(redis, stream_name(shard))
        wechat: Any = dead.channels["wechat"]
        await WechatSender(wechat.api, factory, storage=services.media).drain_once()
        await wechat.close()
        hub_rows = _rows(services, channel="web", status="pending")
    finally:
        await _stop(running)
        await api.stop()
    # every entry acknowledged once; only the unfinished updates were handled again
    assert running[0].consumer.handled == 4
    assert running[0].channels["wechat"].turns == 1  # type: ignore[attr-defined]
    with factory() as s:
        web_ids = [reply_ids(session=s, channel="web", update_id=u) for u in ("w1", "w2")]
        wx_ids = [reply_ids(session=s, channel="wechat", update_id=u) for u in ("901", "902")]
    for ids in web_ids + wx_ids:
        assert ids  # every update has its replies
    all_ids = [i for ids in web_ids + wx_ids for i in ids or []]
    assert len(all_ids) == len(set(all_ids)) == len(_rows(services))  # none twice, none extra
    # WeChat: each reply went through the customer-service API exactly once, in order
    sent = "\n".join(api.texts("o_farmer"))
    assert sent.count("您好") == 1 and sent.count("不客气") == 1
    assert sent.index("您好") < sent.index("不客气")
    # web: the replies wait, due, for the person's event stream
    assert len(hub_rows) == len([i for ids in web_ids for i in ids or []])
    assert hub_rows[0].text.startswith("您好") and hub_rows[-1].text.startswith("不客气")


async def wait_until_async(redis, stream: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(600):
        if (await redis.xpending(stream, GROUP))["pending"] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{stream} still has pending entries")


async def test_redis_away_web_says_try_again_and_wechat_answers_here(
    file_engine, kb_index, tmp_path
):
    """Nothing listens on that port: the web chat answers 503 in Chinese (the page keeps the
    message for the person to send again); WeChat, which cannot resend later, is handled in
    the serving process as without Redis."""
    api = FakeWechatAPI(now=utcnow)
    base = await api.start()
    services = services_for(
        file_engine, tmp_path, kb_index, "redis://127.0.0.1:1/0", **_wechat_settings(base)
    )
    client = TestClient(TestServer(build_app(services, chosen=[add_chat])))
    await client.start_server()
    wx_client, _ = await _wechat(services)
    try:
        await login(client)
        resp = await client.post("/api/chat", json={"text": "你好"}, headers=origin(client))
        assert resp.status == 503 and "稍后再试" in (await resp.json())["error"]
        hello = await Platform(wx_client, api).say("o_farmer", "你好", msg_id=777)
        assert "您好" in hello.text
    finally:
        await client.close()
        await wx_client.close()
        await api.stop()
    assert _handled(services, "web") == []
    assert [h.update_id for h in _handled(services, "wechat")] == ["777"]
