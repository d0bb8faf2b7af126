"""`tianfu stats check` and the nightly rollup check as an operator meets them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from bot.cli import main
from bot.demo import Size, seed
from dialogs.stats import RollupCheck
from store.db import init_db, make_engine, make_session_factory
from store.needs import Need
from store.rollup_check import check
from tests.bot.wiring import settings_for

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TINY = Size(experts=30, requesters=100, needs=200, questions=50)


def _seeded(tmp_path):  # type: ignore[no-untyped-def]
    settings = settings_for(tmp_path)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.db_url)
    init_db(engine)
    seed(engine, TINY, now=NOW)
    return settings, engine


def _misdate(engine) -> None:  # type: ignore[no-untyped-def]
    """A need moved to another day behind the rollups' back (a bad import, a manual fix)."""
    with Session(engine) as s:
        s.execute(
            update(Need).where(Need.id == 7).values(created_at=datetime(2026, 1, 5, tzinfo=UTC))
        )
        s.commit()


def test_stats_check_reports_by_region_and_day_and_repairs(tmp_path, capsys) -> None:
    settings, engine = _seeded(tmp_path)
    assert main(["stats", "check"], settings) == 0
    assert "agree" in capsys.readouterr().out
    _misdate(engine)
    assert main(["stats", "check", "--dry-run"], settings) == 1
    out = capsys.readouterr().out
    assert "rollup_need_days  四川省" in out and "2026-01-05" in out and "dry run" in out
    assert main(["stats", "check"], settings) == 1
    assert "repaired" in capsys.readouterr().out
    assert main(["stats", "check"], settings) == 0
    engine.dispose()


def test_nightly_job_runs_once_a_day_from_its_hour(tmp_path) -> None:
    settings, engine = _seeded(tmp_path)
    factory = make_session_factory(engine)
    _misdate(engine)
    job = RollupCheck(hour=3)
    job.run_due(factory, datetime(2026, 6, 2, 2, 59, tzinfo=UTC))  # before its hour
    with factory() as s:
        assert check(s)
    job.run_due(factory, datetime(2026, 6, 2, 3, 0, tzinfo=UTC))
    with factory() as s:
        assert check(s) == []
    _misdate(engine)
    with Session(engine) as s:
        s.execute(
            update(Need).where(Need.id == 8).values(created_at=datetime(2026, 1, 6, tzinfo=UTC))
        )
        s.commit()
    job.run_due(factory, datetime(2026, 6, 2, 23, 0, tzinfo=UTC))  # done for today
    with factory() as s:
        assert check(s)
    job.run_due(factory, datetime(2026, 6, 2, 3, 0, tzinfo=UTC) + timedelta(days=1))
    with factory() as s:
        assert check(s) == []
    engine.dispose()
