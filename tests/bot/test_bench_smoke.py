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
