"""`tianfu bench bot --updates N`: text updates through the real Dispatcher (recording session,
embedded stack, no LLM): updates/s, CPU ms per update and p50/p99 handling latency for
questions and form turns.

The caller (bot.cli_bench_load) builds the application and hands in how to send one update, so
bench does not import the application."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
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


Send = Callable[[int, str], Awaitable[None]]  # (Telegram user id, text) -> handled


async def measure(
    n_updates: int, send: Send, statements: Callable[[], int] | None = None
) -> dict[str, Any]:
    """Send *n_updates* texts through *send* (the caller's Dispatcher) and time each; with
    *statements* (SQL statements run so far, commits included) also the mean per turn."""
    timings: dict[str, list[float]] = {"question": [], "form": []}
    sql: dict[str, int] = {"question": 0, "form": 0}
    # five turns per person: a whole form, and under the per-user throttle
    users = max(1, n_updates // len(FORM))
    started, cpu_started = time.perf_counter(), time.process_time()
    for i in range(n_updates):
        uid = 10_000 + i % users
        turn = i // users
        if uid % 2:
            kind, text = "question", QUESTIONS[(uid + turn) % len(QUESTIONS)]
        else:
            kind, text = "form", FORM[turn % len(FORM)]
        before = statements() if statements is not None else 0
        t = time.perf_counter()
        await send(uid, text)
        timings[kind].append((time.perf_counter() - t) * 1000)
        if statements is not None:
            sql[kind] += statements() - before
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    out: dict[str, Any] = {
        "updates": n_updates,
        "updates_per_s": round(n_updates / elapsed, 1),
        # the process's CPU time per update: steadier than wall time on a shared machine
        "cpu_ms_per_update": round(cpu * 1000 / max(1, n_updates), 2),
    }
    for kind, ms in timings.items():
        out[f"{kind}_p50_ms"] = round(percentile(ms, 50), 2)
        out[f"{kind}_p99_ms"] = round(percentile(ms, 99), 2)
        if statements is not None and ms:
            out[f"{kind}_sql_per_turn"] = round(sql[kind] / len(ms), 2)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out
