"""`tianfu bench web`: POST /api/chat through real HTTP on loopback with N concurrent browser
sessions (each with its own cookie): requests/s and p50/p99 latency, questions and form
turns mixed as in `tianfu bench bot`.

The caller (bot.cli_bench_load) starts the application and hands in its base URL, so bench does
not import the application."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, CookieJar

from bench.bot import FORM, QUESTIONS
from bench.measure import peak_rss_mb, percentile


async def measure(base: str, sessions: int, requests: int) -> dict[str, Any]:
    """*requests* POSTs to /api/chat spread over *sessions* concurrent sessions."""
    per_session = max(1, requests // sessions)
    timings: dict[str, list[float]] = {"question": [], "form": []}
    errors: dict[int, int] = {}
    headers = {"Origin": base}

    async def person(n: int) -> None:
        # unsafe: keep cookies from an IP address (127.0.0.1), as a browser does
        jar = CookieJar(unsafe=True)
        async with ClientSession(timeout=ClientTimeout(total=120), cookie_jar=jar) as http:
            async with http.get(f"{base}/chat") as resp:  # the page issues the cookie
                await resp.read()
            for turn in range(per_session):
                if n % 2:
                    kind, text = "question", QUESTIONS[(n + turn) % len(QUESTIONS)]
                else:
                    kind, text = "form", FORM[turn % len(FORM)]
                t = time.perf_counter()
                async with http.post(
                    f"{base}/api/chat", json={"text": text}, headers=headers
                ) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors[resp.status] = errors.get(resp.status, 0) + 1
                timings[kind].append((time.perf_counter() - t) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(person(n) for n in range(sessions)))
    elapsed = time.perf_counter() - started
    every = timings["question"] + timings["form"]
    out: dict[str, Any] = {
        "sessions": sessions,
        "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1),
        "p50_ms": round(percentile(every, 50), 2),
        "p99_ms": round(percentile(every, 99), 2),
    }
    for kind, ms in timings.items():
        out[f"{kind}_p99_ms"] = round(percentile(ms, 99), 2)
    out["errors"] = errors
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out
