"""`tianfu bench` load benchmarks: the application under load (bot, web, cluster), expert
matching, the indicators over a synthetic database, and planning a push round."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings


def cmd_matching(args: argparse.Namespace, settings: Settings) -> int:
    from bench import matching

    print(json.dumps(matching.run(args.experts, args.needs), ensure_ascii=False))
    return 0


def cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    print(json.dumps(asyncio.run(_bench_bot(args.updates)), ensure_ascii=False))
    return 0


async def _bench_bot(updates: int) -> dict[str, Any]:
    """The bot benchmark over the application's own services in a throwaway DATA_DIR."""
    import logging
    import tempfile

    from aiogram import Bot
    from sqlalchemy import event

    from bench import bot as bot_bench
    from bot.app import build_services, prepare_knowledge
    from bot.ops import freeze_heap
    from bot.settings import load_settings
    from bot.telegram.dispatcher import create_dispatcher
    from bot.telegram.recording import ChatDriver, RecordingSession

    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="tianfu-botbench-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp), database_url="", chroma_url="", telegram_bot_token="42:BENCH"
        )
        services = build_services(settings)
        prepare_knowledge(services)
        recorder = RecordingSession()
        bot = Bot("42:BENCH", session=recorder)
        driver = ChatDriver(create_dispatcher(settings, services), bot, recorder)

        async def send(user_id: int, text: str) -> None:
            await driver.send(driver.user(user_id, f"u{user_id}"), text)

        # SQL statements per turn (COMMITs included): what a turn costs the database
        ran = [0]

        def count(*_: Any) -> None:
            ran[0] += 1

        event.listen(services.engine, "before_cursor_execute", count)
        event.listen(services.engine, "commit", count)
        freeze_heap()  # as the serving processes do after start-up
        try:
            return await bot_bench.measure(updates, send, lambda: ran[0])
        finally:
            await bot.session.close()
            services.close()


# --- `tianfu bench web`: the web chat through real HTTP (issue 16) ---
def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    print(json.dumps(asyncio.run(_bench_web(args.sessions, args.requests)), ensure_ascii=False))
    return 0


async def _bench_web(sessions: int, requests: int) -> dict[str, Any]:
    """`tianfu serve`'s application on a loopback port over a throwaway DATA_DIR, measured
    by concurrent HTTP sessions (rate limits lifted: one address plays everyone)."""
    import logging
    import tempfile

    from aiohttp import web

    from bench import web as web_bench
    from bot.app import build_services, prepare_knowledge
    from bot.settings import load_settings
    from bot.web.chat import add_chat
    from bot.web.serve import build_app

    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="tianfu-webbench-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp),
            database_url="",
            chroma_url="",
            openai_api_key=None,
            web_secret="bench-web-secret-0123456789",
            web_rate_session=100_000,
            web_rate_address=1_000_000,
        )
        services = build_services(settings)
        prepare_knowledge(services)
        runner = web.AppRunner(build_app(services, chosen=[add_chat]), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            return await web_bench.measure(base, sessions, requests)
        finally:
            await runner.cleanup()
            services.close()


def cmd_cluster(args: argparse.Namespace, settings: Settings) -> int:
    """`tianfu bench cluster` (issue 17): N workers, a worker killed, Redis restarted."""
    import asyncio
    import os

    from bench.cluster import measure

    url = args.database_url or os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print(
            "tianfu bench cluster: give a PostgreSQL server with --database-url or "
            'TEST_DATABASE_URL (eval "$(.ci/pg.sh start)")',
            file=sys.stderr,
        )
        return 2
    out = asyncio.run(
        measure(
            args.workers,
            args.updates,
            url,
            chaos=not args.no_chaos,
            single=not args.no_single,
            web=args.web,
        )
    )
    print(json.dumps(out, ensure_ascii=False))
    ok = not (out["lost"] or out["duplicated"] or out.get("web_lost") or out.get("web_duplicated"))
    return 0 if ok else 1


def demo_seed(engine: Any, needs: int) -> dict[str, int]:
    """Synthetic Sichuan activity with *needs* needs (the stats benchmark's population)."""
    from bot.demo import Size, seed

    size = Size(
        experts=max(50, needs // 50),
        requesters=max(200, needs // 3),
        needs=needs,
        questions=max(100, needs // 5),
    )
    # order events are not read by the indicators and are left out
    report = seed(engine, size, force=True, events=False)
    return {
        "needs": report.needs,
        "experts": report.experts,
        "requesters": report.requesters,
        "questions": report.questions,
    }


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from bench import stats

    if args.backend == "postgresql":
        from bench.scale import pg_seed

        url = args.url or os.environ.get("TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            print(
                "tianfu bench stats: --backend postgresql needs a throwaway PostgreSQL database: "
                'set TEST_DATABASE_URL (eval "$(.ci/pg.sh start)") or pass --url; '
                "every table in it is dropped",
                file=sys.stderr,
            )
            return 2
        result = stats.run(args.needs, seed=pg_seed, url=url, fresh=True)
    else:
        result = stats.run(args.needs, seed=demo_seed, url=args.url or "")
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_push(args: argparse.Namespace, settings: Settings) -> int:
    from bench import push

    if args.users < 1:
        print("tianfu bench push: --users must be at least 1", file=sys.stderr)
        return 2
    print(json.dumps(push.run(args.users), ensure_ascii=False))
    return 0
