"""Telegram's limits shared through Redis by every sender; a worker's /healthz, /readyz and
/metrics; JSON log lines carrying the update id."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import weakref

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.ops import JsonFormatter, freeze_heap, update_context
from bot.telegram.ratelimit import LocalLimiter, RedisLimiter
from bot.web.ops import add_ops
from tests.bot.wiring import make_services


async def test_two_senders_share_one_budget(redis):
    one = RedisLimiter(redis, per_second=1000, per_chat_interval=5)
    two = RedisLimiter(redis, per_second=1000, per_chat_interval=5)
    assert (await one.reserve("42")).ok
    await asyncio.sleep(0.01)
    later = await two.reserve("42")  # the other sender: this chat had a message just now
    assert not later.ok and 4 < later.chat_wait <= 5
    await asyncio.sleep(0.01)
    assert (await two.reserve("43")).ok  # another chat may go
    await one.pause(3)  # Telegram said 429, retry_after 3: every sender waits
    paused = await two.reserve("44")
    assert not paused.ok and 2.5 < paused.global_wait <= 3


async def test_overall_rate_spaces_messages():
    now = [100.0]
    limiter = LocalLimiter(per_second=10, per_chat_interval=1, clock=lambda: now[0])
    assert (await limiter.reserve("a")).ok
    slot = await limiter.reserve("b")
    assert not slot.ok and abs(slot.global_wait - 0.1) < 1e-9
    now[0] += 0.1
    assert (await limiter.reserve("b")).ok


async def test_a_redis_away_means_wait_not_send():
    from bot.cluster.streams import connect

    away = connect("redis://127.0.0.1:1/0")
    try:
        slot = await RedisLimiter(away).reserve("42")
    finally:
        await away.aclose()
    assert not slot.ok and slot.global_wait > 0


async def test_ops_endpoints(engine, kb_index, tmp_path, redis_url):
    services = make_services(engine, tmp_path, kb_index, redis_url=redis_url)
    app = web.Application()
    add_ops(app, services)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200, await ready.text()
        assert "database" in await ready.text() and "redis" in await ready.text()
        metrics = await (await client.get("/metrics")).text()
        for name in (
            "tianfu_updates_handled_total",
            "tianfu_turn_seconds_bucket",
            "tianfu_stream_lag",
            "tianfu_stream_pending",
            "tianfu_outbox_backlog 0.0",
            "tianfu_llm_breaker_open",
        ):
            assert name in metrics
    finally:
        await client.close()
    # a Chroma server that does not answer: not ready, and the answer says which
    away = dataclasses.replace(
        services,
        settings=services.settings.model_copy(update={"chroma_url": "http://127.0.0.1:1"}),
    )
    app = web.Application()
    add_ops(app, away)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        ready = await client.get("/readyz")
        text = await ready.text()
        assert ready.status == 503 and "chroma" in text and "redis" not in text
    finally:
        await client.close()


def test_json_log_lines_carry_the_update_id():
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "handled %s", ("ok",), None)
    with update_context(77):
        line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["message"] == "handled ok" and data["update_id"] == "77"
    assert "update_id" not in json.loads(JsonFormatter().format(record))


def test_start_up_heap_is_frozen_and_turns_are_still_collected():
    class Node:  # a reference cycle a turn leaves behind: only the collector frees it
        def __init__(self) -> None:
            self.me = self

    kept = Node()
    try:
        assert freeze_heap() > 0
        assert gc.get_freeze_count() > 0
        assert not any(o is kept for o in gc.get_objects())  # left out of collections
        later = weakref.ref(Node())
        gc.collect()
        assert later() is None  # garbage made after start-up is still collected
    finally:
        gc.unfreeze()
