"""The indicator and push benchmarks run end to end at a small size (figures are not judged)."""

from __future__ import annotations

from bench import push, stats
from bot.cli_bench import demo_seed


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
