"""Indicator queries on a synthetic database: a province view with all its cities and a city
view with all its counties, on SQLite (or DATABASE_URL) with `needs` needs."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bench.measure import peak_rss_mb
from store.db import init_db, make_engine, make_session_factory
from store.metrics import region_report
from store.needs import METRICS_INDEXES
from store.validation import Region

VIEWS = {"province": Region("四川省"), "city": Region("四川省", "成都市")}
# (engine, needs) -> the counts written: needs, experts, requesters, questions
Seed = Callable[[Engine, int], dict[str, int]]


def run(needs: int, *, seed: Seed, url: str = "", repeats: int = 3) -> dict[str, Any]:
    """Seed a throwaway database of *needs* needs with *seed* and time the two views."""
    with tempfile.TemporaryDirectory(prefix="tianfu-bench-stats-") as tmp:
        db_url = url or f"sqlite:///{Path(tmp) / 'stats.db'}"
        engine = make_engine(db_url)
        init_db(engine)
        started = time.perf_counter()
        # a bulk load: indexes are built once afterwards (a sort), not row by row; order events
        # are not read by the indicators and are left out
        with engine.begin() as conn:
            for name in METRICS_INDEXES:
                conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
        seeded = seed(engine, needs)
        seed_s = time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as conn:
            for name, columns in METRICS_INDEXES.items():
                conn.execute(text(f"CREATE INDEX {name} ON needs ({', '.join(columns)})"))
            if engine.dialect.name == "postgresql":
                conn.execute(text("ANALYZE"))
        index_s = time.perf_counter() - started
        factory = make_session_factory(engine)
        out: dict[str, Any] = {
            "backend": engine.dialect.name,
            "needs": seeded["needs"],
            "experts": seeded["experts"],
            "requesters": seeded["requesters"],
            "questions": seeded["questions"],
            "seed_s": round(seed_s, 1),
            "index_s": round(index_s, 1),
        }
        for name, region in VIEWS.items():
            times = []
            for _ in range(repeats):
                with factory() as session:
                    t0 = time.perf_counter()
                    report = region_report(session=session, region=region)
                    times.append(time.perf_counter() - t0)
            out[f"{name}_view_s"] = {
                "first": round(times[0], 3),
                "median": round(statistics.median(times), 3),
                "children": len(report.children),
                "needs_in_view": report.total.needs,
            }
        out["peak_rss_mb"] = round(peak_rss_mb(), 1)
        engine.dispose()
        return out
