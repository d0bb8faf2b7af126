"""The indicator and push benchmarks run end to end at a small size (figures are not judged)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench import push, stats
from bot.cli_bench_load import demo_seed


def test_stats_benchmark_runs() -> None:
    result = stats.run(3000, seed=demo_seed, repeats=1)
    assert result["needs"] == 3000
    assert result["province_view_s"]["children"] == 21
    assert result["province_view_s"]["needs_in_view"] > 0
    assert result["city_view_s"]["children"] > 10


def test_push_benchmark_runs() -> None:
    result = push.run(300)
    assert result["users"] == 300 and result["pushes_planned"] > 0


def test_fake_llm_stops_promptly_with_a_slow_request_in_flight() -> None:
    import contextlib
    import threading
    import time
    import urllib.request

    from bench.fake_llm import FakeLLM

    server = FakeLLM(delay=30.0).start()
    assert server.port > 0  # the port the system gave the bound socket
    server.behaviour = "slow"

    def ask() -> None:
        request = urllib.request.Request(
            f"{server.base_url}/chat/completions", data=b"{}", method="POST"
        )
        # the server goes away mid-request: an error is expected
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=40)

    client = threading.Thread(target=ask, daemon=True)
    client.start()
    time.sleep(0.2)  # the request is now waiting inside the server
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 2.0
    assert server.slow_done == 0


def test_stats_benchmark_on_postgresql_generates_consistent_needs(pg_engine) -> None:  # type: ignore[no-untyped-def]
    """`tianfu bench stats --backend postgresql`, small: the needs generated inside the
    database count the same through the rollups as through the records."""
    from sqlmodel import Session, SQLModel

    from bench.scale import pg_seed
    from store.db import init_db
    from store.metrics import region_report
    from store.rollup_check import check
    from store.rollup_tables import whole_days
    from store.validation import Region

    url = pg_engine.url.render_as_string(hide_password=False)
    try:
        result = stats.run(3000, seed=pg_seed, url=url, repeats=1, fresh=True)
        assert result["backend"] == "postgresql" and result["needs"] == 3000
        assert result["province_view_s"]["children"] == 21
        assert result["province_view_s"]["needs_in_view"] > 2900  # a few are posted "now"
        with Session(pg_engine) as session:
            assert check(session) == []
            until = whole_days(until=datetime.now(UTC))
            since = until - timedelta(weeks=13)
            fast = region_report(
                session=session, region=Region("四川省"), since=since, until=until
            )
            slow = region_report(
                session=session, region=Region("四川省"), since=since, until=until, rollups=False
            )
        assert fast == slow and fast.total.needs == 3000
        assert 0 < fast.total.served_requesters < fast.total.requesters < 1000
    finally:
        pg_engine.dispose()
        SQLModel.metadata.drop_all(pg_engine)  # the next tests get every index back
        init_db(pg_engine)


def test_bot_benchmark_reports_sql_statements_per_turn_kind() -> None:
    import asyncio

    from bench import bot as bot_bench

    ran = [0]

    async def send(user_id: int, text: str) -> None:
        ran[0] += 3 if text in bot_bench.QUESTIONS else 2

    result = asyncio.run(bot_bench.measure(20, send, lambda: ran[0]))
    assert result["updates"] == 20
    assert result["question_sql_per_turn"] == 3
    assert result["form_sql_per_turn"] == 2
