"""`tianfu bench bot --updates N`: text updates through the real Dispatcher (recording session,
embedded stack, no LLM): updates/s and p50/p99 handling latency for questions and form turns."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import peak_rss_mb, percentile

QUESTIONS = [
    "稻瘟病怎么防治",
    "李子树流胶了咋个办",
    "发芽的土豆能吃吗",
    "鱼塘鱼浮头怎么办",
    "打雷的时候能不能在树下躲雨",
    "猕猴桃溃疡病怎么防",
    "土壤酸化怎么改良",
    "量子计算机是什么",
]
FORM = [
    "我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看",
    "13800001234",
    "跳过",
    "不对，是在泸州合江",
    "算了",
]


async def _run(n_updates: int) -> dict[str, Any]:
    import logging

    from aiogram import Bot

    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    from bot.app import build_services
    from bot.settings import load_settings
    from bot.telegram.dispatcher import create_dispatcher
    from bot.telegram.recording import ChatDriver, RecordingSession
    from bot.telegram.runner import bot_services
    from knowledge.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="tianfu-botbench-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp), database_url="", telegram_bot_token="42:BENCH"
        )
        from bot.app import open_knowledge_index

        ingest(open_knowledge_index(settings), progress=False)
        services = bot_services(settings, build_services(settings))
        session = RecordingSession()
        bot = Bot("42:BENCH", session=session)
        driver = ChatDriver(create_dispatcher(settings, services), bot, session)
        timings: dict[str, list[float]] = {"question": [], "form": []}
        # five turns per person: a whole form, and under the per-user throttle
        users = max(1, n_updates // len(FORM))
        started = time.perf_counter()
        for i in range(n_updates):
            uid = 10_000 + i % users
            turn = i // users
            user = driver.user(uid, f"u{uid}")
            if uid % 2:
                kind, text = "question", QUESTIONS[(uid + turn) % len(QUESTIONS)]
            else:
                kind, text = "form", FORM[turn % len(FORM)]
            t = time.perf_counter()
            await driver.send(user, text)
            timings[kind].append((time.perf_counter() - t) * 1000)
        elapsed = time.perf_counter() - started
        await bot.session.close()
    out: dict[str, Any] = {"updates": n_updates, "updates_per_s": round(n_updates / elapsed, 1)}
    for kind, ms in timings.items():
        out[f"{kind}_p50_ms"] = round(percentile(ms, 50), 2)
        out[f"{kind}_p99_ms"] = round(percentile(ms, 99), 2)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def run(n_updates: int) -> dict[str, Any]:
    return asyncio.run(_run(n_updates))
