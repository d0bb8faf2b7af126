"""The webhook queues updates in Redis; workers handle each once, one chat in order, and take
over a dead worker's updates; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from aiogram import Bot
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from sqlmodel import select

from bot.cluster.leases import lease_key
from bot.cluster.streams import DEAD, GROUP, Ingress, shard_of, stream_name
from bot.telegram.recording import RecordingSession
from bot.telegram.runner import _prepare, route_of, webhook_app
from bot.telegram.worker import TelegramWorker
from store.outbox import OutboxMessage
from store.updates import handled_order
from tests.bot.wiring import make_services

SECRET = "s3cret-token-0123456789"
SHARDS = 4


def update(update_id: int, chat: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1,
            "chat": {"id": chat, "type": "private"},
            "from": {
                "id": chat,
                "is_bot": False,
                "first_name": "老王",
                "language_code": "zh-hans",
            },
            "text": text,
        },
    }


def services_for(engine, tmp_path, kb_index, redis_url, **extra):  # type: ignore[no-untyped-def]
    return make_services(
        engine,
        tmp_path,
        kb_index,
        redis_url=redis_url,
        stream_shards=SHARDS,
        telegram_chat_interval_seconds=0,
        telegram_rate_per_second=1000,
        webhook_url="https://bot.example.org/telegram/webhook",
        webhook_secret=SECRET,
        **extra,
    )


async def wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_webhook_queues_each_update_once_and_says_503_without_redis(
    engine, kb_index, tmp_path, redis, redis_url
):
    from bot.cluster.streams import connect

    services = services_for(engine, tmp_path, kb_index, redis_url)
    bot, dp, _, _ = _prepare(services.settings, services, Bot("42:T", session=RecordingSession()))
    client = TestClient(TestServer(webhook_app(services.settings, services, bot, dp, redis)))
    await client.start_server()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    queued = REGISTRY.get_sample_value("tianfu_updates_queued_total") or 0.0
    try:
        wrong = await client.post("/telegram/webhook", json=update(1, 7, "你好"), headers={})
        assert wrong.status == 401
        for _ in range(2):  # Telegram retrying: queued once
            ok = await client.post("/telegram/webhook", json=update(1, 7, "你好"), headers=headers)
            assert ok.status == 200
        bad = await client.post("/telegram/webhook", data=b"{not json", headers=headers)
        assert bad.status == 400
        empty = await client.post("/telegram/webhook", json={"update_id": 9}, headers=headers)
        assert empty.status == 400  # no event in it
        entries = await redis.xrange(stream_name(shard_of("7", SHARDS)))
        assert len(entries) == 1 and entries[0][1][b"chat"] == b"7"
        assert (await client.get("/healthz")).status == 200
        metrics = await (await client.get("/metrics")).text()
        assert f"tianfu_updates_queued_total {queued + 1}" in metrics  # the retry is not counted
        assert "tianfu_stream_lag 1.0" in metrics  # no worker has read it yet
    finally:
        await client.close()
    # Redis away (nothing listens on that port): 503, so Telegram keeps the update
    away = services_for(engine, tmp_path, kb_index, "redis://127.0.0.1:1/0")
    dead = connect(away.settings.redis_url)
    bot2, dp2, _, _ = _prepare(away.settings, away, Bot("42:T", session=RecordingSession()))
    client = TestClient(TestServer(webhook_app(away.settings, away, bot2, dp2, dead)))
    await client.start_server()
    try:
        resp = await client.post("/telegram/webhook", json=update(2, 7, "你好"), headers=headers)
        assert resp.status == 503
        ready = await client.get("/readyz")
        assert ready.status == 503 and "redis" in await ready.text()
    finally:
        await client.close()
        await dead.aclose()


async def _start(services, redis, recorder, **kw):  # type: ignore[no-untyped-def]
    worker = TelegramWorker(
        services.settings, services, Bot("42:T", session=recorder), redis, jobs=False, **kw
    )
    worker.consumer.lease_ms = 600  # a dead owner's shard is free again quickly
    worker.consumer.block_ms = 200
    stop = asyncio.Event()
    return worker, stop, asyncio.create_task(worker.run(stop))


async def test_two_workers_handle_every_update_once_each_chat_in_order(
    engine, kb_index, tmp_path, redis, redis_url
):
    services = services_for(engine, tmp_path, kb_index, redis_url)
    ingress = Ingress(redis, SHARDS)
    chats = [101, 102, 103, 104, 105, 106]
    texts = ["你好", "稻瘟病怎么防治", "谢谢"]
    uid = 0
    for text in texts:
        for chat in chats:
            uid += 1
            await ingress.append(str(uid), str(chat), _json(update(uid, chat, text)))
    await ingress.append("3", "103", _json(update(3, 103, "你好")))  # a retry: dropped
    recorder = RecordingSession()
    a = await _start(services, redis, recorder)
    b = await _start(services, redis, recorder)
    try:
        await wait_until(lambda: a[0].consumer.handled + b[0].consumer.handled >= uid)
        await wait_until(lambda: all(len(recorder.texts(c)) >= 4 for c in chats))
        await asyncio.sleep(0.3)  # nothing more arrives
    finally:
        for _, stop, _ in (a, b):
            stop.set()
        await asyncio.gather(a[2], b[2])
    assert a[0].consumer.handled + b[0].consumer.handled == uid
    with services.session_factory() as s:
        rows = list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())
        order = handled_order(session=s, channel="telegram")
    for chat in chats:  # every reply was sent once, in the order the turns wrote them
        queued = [r.text for r in rows if r.external_id == str(chat)]
        assert recorder.texts(chat) == queued
        assert queued[0].startswith("您好") and queued[-1].startswith("不客气")
    assert {r.status for r in rows} == {"sent"}
    for chat in chats:  # each chat's updates were handled in the order they came
        ids = [int(u) for c, u in order if c == str(chat)]
        assert ids == sorted(ids) and len(ids) == 3
    for shard in range(SHARDS):
        assert await redis.xlen(stream_name(shard)) == 0  # acknowledged and deleted
        assert (await redis.xpending(stream_name(shard), GROUP))["pending"] == 0


async def test_a_dead_workers_updates_are_taken_over_and_a_committed_one_is_not_redone(
    engine, kb_index, tmp_path, redis, redis_url
):
    services = services_for(engine, tmp_path, kb_index, redis_url)
    ingress = Ingress(redis, SHARDS)
    chat = 201
    stream = stream_name(shard_of(str(chat), SHARDS))
    from bot.cluster.streams import ensure_groups

    await ensure_groups(redis, SHARDS)
    await ingress.append("1", str(chat), _json(update(1, chat, "你好")))
    await ingress.append("2", str(chat), _json(update(2, chat, "谢谢")))
    # a worker that read both, committed the first, and died before acknowledging anything
    recorder = RecordingSession()
    read = await redis.xreadgroup(GROUP, "dead-worker", {stream: ">"}, count=10)
    first_fields = read[0][1][0][1]
    dead = TelegramWorker(services.settings, services, Bot("42:T", session=recorder), redis)
    await dead.handle(first_fields)
    await redis.set(lease_key(shard_of(str(chat), SHARDS)), "dead-worker", px=500)
    worker, stop, task = await _start(services, redis, recorder)
    try:
        await wait_until(lambda: len(recorder.texts(chat)) >= 2, timeout=20)
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await task
    replies = recorder.texts(chat)
    # the committed first update is not answered again; the second comes after it
    assert len(replies) == 2 and replies[0].startswith("您好") and replies[1].startswith("不客气")
    assert (await redis.xpending(stream, GROUP))["pending"] == 0
    with services.session_factory() as s:
        assert [u for _, u in handled_order(session=s, channel="telegram")] == ["1", "2"]
        assert all(r.status == "sent" for r in s.exec(select(OutboxMessage)).all())


def _json(payload: dict) -> bytes:
    import json

    return json.dumps(payload, ensure_ascii=False).encode()


def test_the_ingress_reads_the_chat_as_aiogram_does() -> None:
    """Only the update id and the chat are read at the ingress: a message's chat, a button's
    message's chat, an inline query's sender; anything that is not one update is refused."""
    import pytest

    assert route_of(update(5, 77, "你好")) == (5, 77)
    button = {
        "id": "q",
        "from": {"id": 78, "is_bot": False, "first_name": "甲"},
        "chat_instance": "c",
        "data": "order:accept:1",
        "message": {"message_id": 3, "date": 1, "chat": {"id": -100, "type": "group"}},
    }
    assert route_of({"update_id": 6, "callback_query": button}) == (6, -100)
    inline = {"id": "i", "from": {"id": 79, "is_bot": False, "first_name": "乙"}, "query": "稻"}
    assert route_of({"update_id": 7, "inline_query": inline}) == (7, 79)
    assert route_of({"update_id": 8, "poll": {"id": "p"}}) == (8, 0)
    for body in ([], {"update_id": "8", "message": {}}, {"update_id": 8}, {"message": {}}):
        with pytest.raises(ValueError):
            route_of(body)


async def test_an_update_the_worker_cannot_read_is_dead_lettered_at_once(
    engine, kb_index, tmp_path, redis, redis_url
):
    """The ingress queued it on its id and chat alone; the worker's full validation fails:
    no retries holding the chat back, one apology, the update kept for an operator."""
    services = services_for(engine, tmp_path, kb_index, redis_url)
    broken = {"update_id": 11, "message": {"message_id": "x", "chat": {"id": 301}}}
    await Ingress(redis, SHARDS).append("11", "301", _json(broken))
    await Ingress(redis, SHARDS).append("12", "301", _json(update(12, 301, "你好")))
    recorder = RecordingSession()
    worker, stop, task = await _start(services, redis, recorder)
    try:
        await wait_until(lambda: len(recorder.texts(301)) >= 2, timeout=20)
    finally:
        stop.set()
        await task
    replies = recorder.texts(301)
    assert replies[0].startswith("抱歉") and replies[1].startswith("您好")
    ((_, dead),) = await redis.xrange(DEAD)
    assert b"validation error" in dead[b"error"] and worker.consumer.handled == 2
