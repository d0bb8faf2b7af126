"""Small measuring helpers shared by the benchmarks."""

from __future__ import annotations

import resource
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ranking_metrics(rankings: Sequence[Sequence[str]], gold: Sequence[str]) -> dict[str, float]:
    """recall@1/5/10 and MRR@10 for ranked id lists against one gold id each."""
    n = len(gold) or 1
    out = {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0}
    for ranked, target in zip(rankings, gold, strict=True):
        top = list(ranked[:10])
        if target in top:
            rank = top.index(target) + 1
            out["mrr@10"] += 1 / rank
            for k in (1, 5, 10):
                if rank <= k:
                    out[f"recall@{k}"] += 1
    return {k: round(v / n, 4) for k, v in out.items()}


def latency_summary(ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else 0.0,
    }
