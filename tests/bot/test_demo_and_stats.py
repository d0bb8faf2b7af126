"""`tianfu demo seed` and `tianfu stats` as an operator runs them."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bot.demo import DemoRefused, Size, seed
from store.metrics import region_report
from store.order_tables import Order, OrderEvent, Rating
from store.users import User, UserCreate, create_user
from store.validation import Region

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TINY = Size(experts=60, requesters=200, needs=400, questions=150)


def test_seed_is_consistent_and_indicators_plausible(engine: Engine) -> None:
    report = seed(engine, TINY, now=NOW)
    assert (report.experts, report.needs) == (60, 400)
    with Session(engine) as s:
        accepted = s.scalar(select(func.count()).where(Order.accepted_at.isnot(None)))
        with_expert = s.scalar(select(func.count()).where(Order.expert_id.isnot(None)))
        assert accepted == with_expert == report.orders_accepted
        accept_events = s.scalar(select(func.count()).where(OrderEvent.action == "accept"))
        assert accept_events == accepted
        closed = s.scalar(select(func.count()).where(Order.status == "closed"))
        assert s.scalar(select(func.count()).select_from(Rating)) == closed
        # explicit ids did not leave PostgreSQL sequences behind: a real user can still sign up
        user = create_user(session=s, user_in=UserCreate(channel="test", external_id="real"))
        assert user.id is not None and user.id > 260
        rep = region_report(session=s, region=Region("四川省"), until=NOW)
    assert len(rep.children) == 21
    assert 0.3 < (rep.total.acquisition_rate or 0) < 1.0
    assert 0.3 < (rep.total.supply_rate or 0) < 1.0
    assert sum(c.needs for c in rep.children) == rep.total.needs > 0
    assert sum(w.needs for w in rep.weekly) == rep.total.needs
    assert rep.gaps and rep.total.unanswered_rate is not None


def test_seed_refuses_real_users_and_a_second_run(engine: Engine) -> None:
    with Session(engine) as s:
        create_user(session=s, user_in=UserCreate(channel="telegram", external_id="42"))
    with pytest.raises(DemoRefused, match="1 real users; pass --force"):
        seed(engine, TINY, now=NOW)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1  # nothing written
    seed(engine, TINY, now=NOW, force=True)
    with pytest.raises(DemoRefused, match="already present"):
        seed(engine, TINY, now=NOW, force=True)


def test_cli_seed_stats_and_csv(tianfu, tmp_path) -> None:
    first = tianfu("demo", "seed", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "4000 needs" in first.stdout and "21 cities" in first.stdout
    again = tianfu("demo", "seed", cwd=tmp_path)
    assert again.returncode == 1 and "refused" in again.stderr
    out = tmp_path / "宜宾.csv"
    run = tianfu("stats", "--region", "宜宾市", "--csv", str(out), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "四川省宜宾市" in run.stdout and "翠屏区" in run.stdout
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese correctly
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["地区", "提需求人数", "需求数"]
    assert rows[1][0] == "宜宾市" and len(rows) == 1 + 1 + 10  # header, city, 10 counties
    assert int(rows[1][2]) == sum(int(r[2]) for r in rows[2:])


def test_cli_stats_refuses_bad_input(tianfu, tmp_path) -> None:
    bad = tianfu("stats", "--region", "宜兵市", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown region '宜兵市'" in bad.stderr
    assert "宜宾市" in bad.stderr
    bad = tianfu("stats", "--since", "2026-02-30", cwd=tmp_path)
    assert bad.returncode == 2 and "2026-02-30" in bad.stderr


def test_cli_stats_long_and_bad_periods(tianfu, tmp_path) -> None:
    long = tianfu("stats", "--since", "2001-01-01", "--until", "2026-01-01", cwd=tmp_path)
    assert long.returncode == 0, long.stderr
    assert "2001-01-01 .. 2026-01-01" in long.stdout
    backwards = tianfu("stats", "--since", "2026-03-01", "--until", "2026-01-01", cwd=tmp_path)
    assert backwards.returncode == 2 and backwards.stdout == ""
    assert backwards.stderr.strip() == (
        "tianfu stats: 统计时段无效：起始日期 2026-03-01 不早于结束日期 2026-01-01"
    )
    for value in ("0001-01-01", "9999-12-31"):
        far = tianfu("stats", "--since", value, cwd=tmp_path)
        assert far.returncode == 2 and f"日期“{value}”超出范围" in far.stderr
    garbled = tianfu("stats", "--until", "明天", cwd=tmp_path)
    assert garbled.returncode == 2 and "日期“明天”无效" in garbled.stderr
