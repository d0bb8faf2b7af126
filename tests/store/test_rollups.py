"""Indicator rollups: exact through every move, the same figures as the records, and a check
that finds and repairs differences by region and day (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from store import orders as o
from store.metrics import region_report
from store.needs import Need
from store.rollup_check import check
from store.rollup_reads import usable_days
from store.rollup_tables import NEED_DAYS, midnight, utc_day
from store.validation import Region
from tests.store.test_metrics import (  # noqa: F401 - world is a fixture
    LUZHOU,
    SICHUAN,
    T0,
    YIBIN,
    expert,
    need,
    person,
    world,
)

CUIPING = Region("四川省", "宜宾市", "翠屏区")
HEJIANG = Region("四川省", "泸州市", "合江县")
DAY0 = midnight(utc_day(T0))


def test_every_move_keeps_the_rollups_exact(session: Session) -> None:
    """Post, accept, release, accept again, resolve, close with a rating, auto-close, cancel
    (open and taken) and expire: the rollups never differ from a recount."""
    x = expert(session, CUIPING, "专家甲")
    y = expert(session, HEJIANG, "专家乙")
    session.commit()  # expert() dates the profiles after making them: recount
    check(session, repair=True)
    a = person(session, CUIPING, "农户甲")
    b = person(session, HEJIANG, "农户乙")
    from tests.factories import need_in

    def post(who, region: Region, **extra: object) -> int:  # type: ignore[no-untyped-def]
        posted = o.post_need(
            session=session,
            requester=who,
            need_in=need_in(
                province=region.province, city=region.city, county=region.county, **extra
            ),
        )
        return posted.order.id or 0

    n1 = post(a, CUIPING)
    n2 = post(a, HEJIANG, requester_kind="enterprise")  # one requester, two cities
    n3 = post(b, HEJIANG, crop="李", category="soil")
    n4 = post(b, HEJIANG)
    n5 = post(a, CUIPING)
    assert check(session) == []
    o.accept(session=session, order_id=n1, expert=x)
    o.release(session=session, order_id=n1, expert_id=x.id or 0, actor_id=None)
    assert check(session) == []
    o.accept(session=session, order_id=n1, expert=y)
    o.resolve(session=session, order_id=n1, expert=y)
    o.close(session=session, order_id=n1, requester=a, score=4)
    o.accept(session=session, order_id=n2, expert=y)
    o.resolve(session=session, order_id=n2, expert=y, now=T0)
    o.auto_close_due(session=session, days=7)
    o.accept(session=session, order_id=n3, expert=y)
    o.cancel(session=session, order_id=n3, requester=b)
    o.cancel(session=session, order_id=n4, requester=b)
    o.expire(session=session, order_id=n5)
    assert check(session) == []
    (row,) = session.execute(
        select(NEED_DAYS).where(
            NEED_DAYS.c.level == 3,
            NEED_DAYS.c.city == "泸州市",
            NEED_DAYS.c.requester_kind == "enterprise",
        )
    ).all()
    assert (row.needs, row.accepted, row.resolved, row.unmet) == (1, 1, 1, 0)


def _spread(session: Session) -> None:
    """More of the same people on other days and cities: requesters counted once per view."""
    a, c = person(session, CUIPING, "农户戊"), person(session, LUZHOU, "农户己")
    y = expert(session, HEJIANG, "专家丁")
    h = timedelta(hours=1)
    for at, who, region in [
        (T0 + 80 * h, a, HEJIANG),
        (T0 + 100 * h, a, CUIPING),
        (T0 + 130 * h, c, HEJIANG),
        (T0 + 250 * h, c, HEJIANG),
    ]:
        order_id = need(session, who, region, at)
        o.accept(session=session, order_id=order_id, expert=y, now=at + 3 * h)


CASES = [
    (SICHUAN, 0, 28),
    (SICHUAN, 3, 7),  # starting mid-way: a requester's earlier days are outside
    (YIBIN, 0, 28),
    (LUZHOU, 2, 12),
    (CUIPING, 0, 28),
    (Region(), 0, 28),
]


def test_rollups_give_the_records_figures(world: Session) -> None:  # noqa: F811 - the fixture
    _spread(world)
    # the fixture dates its needs and questions after posting them: the check finds that, by
    # region and day, and repairs it
    found = check(world, repair=True)
    assert {d.table for d in found} >= {"rollup_need_days", "rollup_question_days"}
    day = utc_day(T0 + timedelta(hours=24))
    assert any(d.region == "四川省宜宾市翠屏区" and d.day == day for d in found)
    assert check(world) == []
    for region, start_day, days in CASES:
        since = DAY0 + timedelta(days=start_day)
        until = since + timedelta(days=days)
        assert usable_days(world, region, since, until) is not None
        fast = region_report(session=world, region=region, since=since, until=until)
        slow = region_report(session=world, region=region, since=since, until=until, rollups=False)
        assert fast == slow, (region, start_day, days)
        assert fast.total.needs > 0


def test_a_database_from_before_the_levelled_need_days_gets_them_counted(
    world: Session,  # noqa: F811 - the fixture
) -> None:
    """Schema 13 kept need, unmet and question days per county only: migrating counts them
    again at every level, and a province reads its own rows with the same figures."""
    from store import db
    from tests.factories import downgrade

    check(world, repair=True)
    since, until = DAY0, DAY0 + timedelta(days=28)
    before = region_report(session=world, region=SICHUAN, since=since, until=until)
    engine = world.get_bind()
    world.close()
    downgrade(engine, 13)  # type: ignore[arg-type]
    assert db.init_db(engine) == db.SCHEMA_VERSION  # type: ignore[arg-type]
    with Session(engine) as fresh:
        assert check(fresh) == []
        levels = fresh.execute(select(NEED_DAYS.c.level).distinct()).scalars().all()
        assert sorted(levels) == [0, 1, 2, 3]
        after = region_report(session=fresh, region=SICHUAN, since=since, until=until)
        assert after == before and after.total.needs > 0


def test_a_need_dated_outside_the_rollups_is_found_and_repaired(world: Session) -> None:  # noqa: F811
    check(world, repair=True)
    world.execute(update(Need).where(Need.id == 1).values(created_at=T0 - timedelta(days=3)))
    world.commit()
    found = check(world)
    assert found and {d.day for d in found} >= {utc_day(T0 - timedelta(days=3))}
    assert check(world, repair=True) == found
    assert check(world) == []


def test_the_usual_period_up_to_now_is_read_from_the_rollups(world: Session) -> None:  # noqa: F811
    now = datetime.now(UTC)
    start = midnight(utc_day(now)) - timedelta(weeks=12)
    assert usable_days(world, SICHUAN, start, now) is not None
    assert usable_days(world, SICHUAN, start + timedelta(hours=1), now) is None
    assert usable_days(world, Region(), start, now) is None  # a probe by time needs a region
    # a question asked later that day than the period's end rules the rollups out
    assert usable_days(world, SICHUAN, DAY0, T0) is None


def test_experts_moving_registering_and_merging_keep_the_rollups_exact(
    world: Session,  # noqa: F811 - the fixture
) -> None:
    """Active experts are counted where the expert lives: moving house, a new profile and
    two users joined into one move their days between regions, in the same transaction."""
    from store.experts import ExpertProfileCreate, upsert_expert_profile
    from store.links import merge_users
    from store.users import update_user

    since, until = DAY0, DAY0 + timedelta(days=28)

    def active(region: Region) -> int:
        fast = region_report(session=world, region=region, since=since, until=until)
        slow = region_report(session=world, region=region, since=since, until=until, rollups=False)
        assert fast == slow
        return fast.total.active_experts

    z = expert(world, CUIPING, "专家戊")
    order_id = need(world, person(world, HEJIANG, "农户庚"), HEJIANG, T0 + timedelta(hours=30))
    o.accept(session=world, order_id=order_id, expert=z, now=T0 + timedelta(hours=31))
    check(world, repair=True)  # need() too dates its need after posting it
    before_active = active(LUZHOU)
    before = region_report(session=world, region=SICHUAN, since=since, until=until).total
    world.refresh(z)  # the check's rollback expired it
    update_user(session=world, user=z, province="四川省", city="泸州市", county="合江县")
    assert check(world) == []
    assert active(LUZHOU) == before_active + 1
    # a requester who becomes an expert, then is joined into an expert with accepted orders
    w = person(world, LUZHOU, "农户辛")
    upsert_expert_profile(session=world, user=w, profile_in=ExpertProfileCreate(fields=["果树"]))
    assert check(world) == []
    merge_users(session=world, keep_id=w.id or 0, gone_id=z.id or 0)
    assert check(world) == []
    assert active(LUZHOU) == before_active + 1
    after = region_report(session=world, region=SICHUAN, since=since, until=until).total
    # z's profile went with z (w keeps theirs, made after the period): one expert fewer
    assert after.experts == before.experts - 1


def test_a_median_time_to_accept_is_exact_to_the_minute(session: Session) -> None:
    """Waits of 1 min 30 s and 2 min 50 s: the median of the whole minutes, 1 and 2."""
    x = expert(session, CUIPING, "专家甲")
    a = person(session, CUIPING, "农户甲")
    for wait in (90, 170):
        order_id = need(session, a, CUIPING, T0)
        o.accept(session=session, order_id=order_id, expert=x, now=T0 + timedelta(seconds=wait))
    check(session, repair=True)  # need() dates its need after posting it
    since, until = DAY0, DAY0 + timedelta(days=1)
    for rollups in (True, False):
        report = region_report(
            session=session, region=SICHUAN, since=since, until=until, rollups=rollups
        )
        assert report.total.median_accept_seconds == 90.0
        (yibin,) = [c for c in report.children if c.region == YIBIN]
        assert yibin.median_accept_seconds == 90.0
