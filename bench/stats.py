"""Indicator queries on a synthetic database: a province view with all its cities and a city
view with all its counties, on SQLite (the demo seed) or PostgreSQL (`bench.scale.pg_seed`,
generated in the database) with `needs` needs."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from bench.measure import peak_rss_mb
from store import rollup_reads as reads
from store.clock import utcnow
from store.db import init_db, make_engine, make_session_factory
from store.ent_metrics import enterprise_figures
from store.feedback import knowledge_gaps
from store.metrics import _Query, region_report
from store.needs import METRICS_INDEXES
from store.rollup_check import rebuild
from store.rollup_tables import whole_days
from store.trends import unmet_top, weekly_trend
from store.validation import Region, child_level, child_regions

VIEWS = {"province": Region("四川省"), "city": Region("四川省", "成都市")}
# (engine, needs) -> the counts written: needs, experts, requesters, questions
Seed = Callable[[Engine, int], dict[str, int]]


# PostgreSQL load: every secondary index of the big tables is dropped and, after the load,
# only those the indicator views read are built (one sort each); the others serve the
# per-record path (periods that are not whole days) and the bot, not these views.
VIEW_INDEXES = {
    "needs": {n for n in METRICS_INDEXES if n.endswith(("_wait", "_time"))},
    "orders": {"ix_orders_expert_accepted", "ix_orders_accepted"},
    # by time: whether the last day is complete (store.rollup_reads.usable_days)
    "question_log": {
        "ix_question_log_region",
        "ix_question_log_answered",
        "ix_question_log_created_at",
    },
    "users": {"ix_users_province", "ix_users_city", "ix_users_county"},
}


def run(
    needs: int, *, seed: Seed, url: str = "", repeats: int = 3, fresh: bool = False
) -> dict[str, Any]:
    """Seed a throwaway database of *needs* needs with *seed* and time the two views.

    *fresh*: drop every table of *url* first (a throwaway PostgreSQL database).
    """
    with tempfile.TemporaryDirectory(prefix="tianfu-bench-stats-") as tmp:
        db_url = url or f"sqlite:///{Path(tmp) / 'stats.db'}"
        engine = make_engine(db_url)
        if fresh:
            SQLModel.metadata.drop_all(engine)
        init_db(engine)
        postgres = engine.dialect.name == "postgresql"
        started = time.perf_counter()
        # a bulk load: indexes are built once afterwards (a sort), not row by row; order events
        # are not read by the indicators and are left out
        dropped = _drop_indexes(engine) if postgres else _drop_metrics_indexes(engine)
        seeded = seed(engine, needs)
        seed_s = time.perf_counter() - started
        started = time.perf_counter()
        steps: dict[str, float] = {}
        if postgres:  # the demo seed (SQLite) counts its rollups itself
            with make_session_factory(engine)() as session:
                steps = rebuild(session)
        rollup_s = time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as conn:
            if postgres:
                conn.execute(text("SET maintenance_work_mem = '512MB'"))  # index sorts
            for table, name, columns in dropped:
                if not postgres or name in VIEW_INDEXES.get(table, ()):
                    conn.execute(text(f"CREATE INDEX {name} ON {table} ({', '.join(columns)})"))
        if postgres:  # statistics, and the visibility map that index-only scans rely on
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        index_s = time.perf_counter() - started
        factory = make_session_factory(engine)
        out: dict[str, Any] = {
            "backend": engine.dialect.name,
            "needs": seeded["needs"],
            "experts": seeded["experts"],
            "requesters": seeded["requesters"],
            "questions": seeded["questions"],
            "seed_s": round(seed_s, 1),
            "rollup_s": round(rollup_s, 1),
            "rollup_steps_s": steps,
            "index_s": round(index_s, 1),
        }
        if postgres:
            built = {n for names in VIEW_INDEXES.values() for n in names}
            out["indexes_not_built"] = sorted(n for _, n, _ in dropped if n not in built)
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
            with factory() as session:
                out[f"{name}_panels_s"] = panel_times(session, region)
        out["peak_rss_mb"] = round(peak_rss_mb(), 1)
        engine.dispose()
        return out


def panel_times(session: Session, region: Region) -> dict[str, float]:
    """Seconds of each panel of the view of *region*, one after the other on one connection
    (the view itself runs them two at a time): what each costs, not the view's wall time."""
    until = utcnow()
    since = whole_days(until=until) - timedelta(weeks=12)
    children = child_regions(region)
    level = child_level(children)
    days = reads.usable_days(session, region, since, until)
    parts = _Query(session, region, level, since, until, days)
    whole = _Query(session, region, None, since, until, days)
    needs: dict[str, Any] = {}

    def needs_panel() -> None:
        needs.update(parts.needs())

    panels: dict[str, Callable[[], Any]] = {
        "needs": needs_panel,
        "median": lambda: parts.median_accept({k: int(r[4] or 0) for k, r in needs.items()}),
        "experts": parts.experts,
        "active_experts": parts.active_experts,
        "questions": parts.questions,
        "whole": whole.whole,
        "unmet": lambda: (
            reads.unmet_top(session, region, days)
            if days
            else unmet_top(session=session, region=region, since=since, until=until)
        ),
        "weekly": lambda: (
            reads.weekly_trend(session, region, since, until, days)
            if days
            else weekly_trend(session=session, region=region, since=since, until=until)
        ),
        "gaps": lambda: knowledge_gaps(
            session=session, since=since, until=until, region=region, limit=20, days=days
        ),
        # the same gap read from the question log (how the view read it before its rollup)
        "gaps_from_log": lambda: knowledge_gaps(
            session=session, since=since, until=until, region=region, limit=20
        ),
        "enterprise": lambda: enterprise_figures(
            session=session, region=region, level=level, since=since, until=until, days=days
        ),
    }
    out = {}
    for name, panel in panels.items():
        t0 = time.perf_counter()
        panel()
        out[name] = round(time.perf_counter() - t0, 3)
    out["rollup_days"] = days is not None
    return out


def _drop_metrics_indexes(engine: Engine) -> list[tuple[str, str, tuple[str, ...]]]:
    with engine.begin() as conn:
        for name in METRICS_INDEXES:
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    return [("needs", name, columns) for name, columns in METRICS_INDEXES.items()]


def _drop_indexes(engine: Engine) -> list[tuple[str, str, tuple[str, ...]]]:
    """Drop the secondary indexes of the tables a load fills; (table, name, columns) each."""
    dropped = []
    with engine.begin() as conn:
        for table in VIEW_INDEXES:
            for index in SQLModel.metadata.tables[table].indexes:
                if index.unique:
                    continue
                name = str(index.name)
                conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
                dropped.append((table, name, tuple(c.name for c in index.columns)))
    return dropped
