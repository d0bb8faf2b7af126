"""Regional indicators on a hand-built fixture where every number is known."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session

from store import orders as o
from store.experts import ExpertProfile, ExpertProfileCreate, upsert_expert_profile
from store.metrics import indicators, region_report
from store.needs import Need
from store.order_tables import Order
from store.questions import log_question
from store.users import User, UserCreate, create_user
from store.validation import Region, child_regions

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
SINCE, UNTIL = T0, T0 + timedelta(weeks=4)
YIBIN = Region("四川省", "宜宾市")
LUZHOU = Region("四川省", "泸州市")
SICHUAN = Region("四川省")
_ids = itertools.count(1)


def person(session: Session, region: Region, name: str) -> User:
    return create_user(
        session=session,
        user_in=UserCreate(
            channel="test",
            external_id=f"m{next(_ids)}",
            display_name=name,
            province=region.province,
            city=region.city,
            county=region.county,
        ),
    )


def expert(session: Session, region: Region, name: str) -> User:
    user = person(session, region, name)
    upsert_expert_profile(
        session=session,
        user=user,
        profile_in=ExpertProfileCreate(fields=["果树栽培"], service_regions=[region]),
    )
    # registered before the period: experts count where they were registered by its end
    session.execute(
        update(ExpertProfile)
        .where(ExpertProfile.user_id == user.id)
        .values(created_at=T0 - timedelta(days=30))
    )
    session.refresh(user)
    return user


def need(session: Session, who: User, region: Region, at: datetime, **extra: object) -> int:
    from tests.factories import need_in

    posted = o.post_need(
        session=session,
        requester=who,
        need_in=need_in(province=region.province, city=region.city, county=region.county, **extra),
    )
    order_id = posted.order.id
    session.execute(update(Need).where(Need.id == posted.need.id).values(created_at=at))
    session.execute(update(Order).where(Order.id == order_id).values(created_at=at))
    session.commit()
    return order_id


@pytest.fixture
def world(session: Session) -> Session:
    """Sichuan: five needs in Yibin and Luzhou, three experts, four questions."""
    cuiping = Region("四川省", "宜宾市", "翠屏区")
    nanxi = Region("四川省", "宜宾市", "南溪区")
    hejiang = Region("四川省", "泸州市", "合江县")
    x = expert(session, cuiping, "专家甲")
    expert(session, Region("四川省", "宜宾市", "叙州区"), "专家丙")  # never accepts
    y = expert(session, hejiang, "专家乙")
    a, b = person(session, cuiping, "农户甲"), person(session, cuiping, "农户乙")
    c, d = person(session, nanxi, "农户丙"), person(session, hejiang, "农户丁")
    h = timedelta(hours=1)

    n1 = need(session, a, cuiping, T0 + 24 * h)
    o.accept(session=session, order_id=n1, expert=x, now=T0 + 26 * h)  # 2 h
    o.resolve(session=session, order_id=n1, expert=x, now=T0 + 48 * h)
    o.close(session=session, order_id=n1, requester=a, score=5)
    need(session, a, cuiping, T0 + 30 * h, crop="李", category="soil")  # unmet, posted
    n3 = need(session, b, cuiping, T0 + 50 * h)
    o.accept(session=session, order_id=n3, expert=x, now=T0 + 54 * h)  # 4 h
    n4 = need(session, c, nanxi, T0 + 60 * h, crop="柑橘", category="disease")
    o.expire(session=session, order_id=n4)  # unmet, expired
    n5 = need(session, d, hejiang, T0 + 200 * h)
    o.accept(session=session, order_id=n5, expert=y, now=T0 + 206 * h)  # 6 h
    o.resolve(session=session, order_id=n5, expert=y, now=T0 + 230 * h)
    o.close(session=session, order_id=n5, requester=d, score=3)
    # outside the period: counts nowhere
    old = need(session, d, hejiang, T0 - 100 * h)
    o.accept(session=session, order_id=old, expert=y, now=T0 - 99 * h)

    for text, answered, region in [
        ("李子树流胶怎么办", True, cuiping),
        ("柑橘黄龙病怎么防", True, nanxi),
        ("无人机飞防要备案吗", False, cuiping),
        ("水稻什么时候插秧", True, hejiang),
    ]:
        row = log_question(
            session=session,
            question=text,
            answered=answered,
            region=(region.province, region.city, region.county),
        )
        row.created_at = T0 + 10 * h
        session.add(row)
    session.commit()
    return session


def test_province_total(world: Session) -> None:
    ind = indicators(session=world, region=SICHUAN, since=SINCE, until=UNTIL)
    assert (ind.requesters, ind.served_requesters) == (4, 3)
    assert ind.acquisition_rate == pytest.approx(0.75)
    assert (ind.needs, ind.accepted_needs, ind.resolved_needs, ind.unmet_needs) == (5, 3, 2, 2)
    assert ind.resolution_rate == pytest.approx(0.4)
    assert (ind.experts, ind.active_experts) == (3, 2)
    assert ind.supply_rate == pytest.approx(2 / 3)
    assert ind.median_accept_seconds == pytest.approx(4 * 3600)
    assert (ind.rating_avg, ind.rating_count) == (pytest.approx(4.0), 2)
    assert (ind.questions, ind.unanswered) == (4, 1)
    assert ind.unanswered_rate == pytest.approx(0.25)


def test_children_side_by_side(world: Session) -> None:
    report = region_report(session=world, region=SICHUAN, since=SINCE, until=UNTIL)
    by_city = {c.region.city: c for c in report.children}
    assert len(by_city) == 21  # every city and prefecture of Sichuan, with or without data
    yibin, luzhou, chengdu = by_city["宜宾市"], by_city["泸州市"], by_city["成都市"]
    assert (yibin.requesters, yibin.served_requesters, yibin.needs) == (3, 2, 4)
    assert yibin.median_accept_seconds == pytest.approx(3 * 3600)  # mean of 2 h and 4 h
    assert (yibin.experts, yibin.active_experts, yibin.supply_rate) == (2, 1, 0.5)
    assert (yibin.rating_avg, yibin.questions, yibin.unanswered) == (5.0, 3, 1)
    assert (luzhou.needs, luzhou.acquisition_rate, luzhou.rating_avg) == (1, 1.0, 3.0)
    assert luzhou.median_accept_seconds == pytest.approx(6 * 3600)
    # an empty region: zeros and "no data", never a division error
    assert not chengdu.has_data
    assert (chengdu.needs, chengdu.experts, chengdu.questions) == (0, 0, 0)
    assert chengdu.acquisition_rate is None and chengdu.supply_rate is None
    assert chengdu.median_accept_seconds is None and chengdu.rating_avg is None


@pytest.mark.parametrize("region", [SICHUAN, YIBIN, Region()], ids=["province", "city", "nation"])
def test_report_total_built_from_children_equals_the_direct_figures(
    world: Session, region: Region
) -> None:
    report = region_report(session=world, region=region, since=SINCE, until=UNTIL)
    assert report.total == indicators(session=world, region=region, since=SINCE, until=UNTIL)


def test_city_view_lists_counties(world: Session) -> None:
    report = region_report(session=world, region=YIBIN, since=SINCE, until=UNTIL)
    by_county = {c.region.county: c for c in report.children}
    assert {"翠屏区", "南溪区", "叙州区"} <= set(by_county)
    assert (by_county["翠屏区"].needs, by_county["南溪区"].needs) == (3, 1)
    assert by_county["南溪区"].acquisition_rate == 0.0
    assert by_county["叙州区"].experts == 1
    assert [c.label for c in report.unmet_categories] == ["disease", "soil"]
    assert {(c.label, c.count) for c in report.unmet_crops} == {("李", 1), ("柑橘", 1)}
    assert [(g.kind, g.text, g.count) for g in report.gaps] == [
        ("unanswered", "无人机飞防要备案吗", 1)
    ]


def test_weekly_trend(world: Session) -> None:
    report = region_report(session=world, region=SICHUAN, since=SINCE, until=UNTIL)
    assert [w.start for w in report.weekly] == [SINCE + timedelta(weeks=i) for i in range(4)]
    assert [(w.needs, w.accepted) for w in report.weekly] == [(4, 2), (1, 1), (0, 0), (0, 0)]
    assert [w.questions for w in report.weekly] == [4, 0, 0, 0]


def test_county_has_no_children_and_empty_db_gives_zeros(session: Session) -> None:
    report = region_report(session=session, region=Region("四川省", "宜宾市", "翠屏区"))
    assert report.children == []
    assert not report.total.has_data
    assert report.total.acquisition_rate is None
    assert report.gaps == [] and report.unmet_crops == []
    assert len(report.weekly) == 12 and all(w.needs == 0 for w in report.weekly)


def test_municipality_children_are_districts() -> None:
    kids = child_regions(Region("重庆市"))
    assert Region("重庆市", "重庆市", "万州区") in kids


def test_national_view_lists_provinces(world: Session) -> None:
    report = region_report(session=world, region=Region(), since=SINCE, until=UNTIL)
    by_prov = {c.region.province: c for c in report.children}
    assert len(by_prov) >= 31
    assert by_prov["四川省"].needs == 5 and by_prov["云南省"].needs == 0
    assert report.total.needs == 5


def test_bad_period_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="not before its end"):
        region_report(session=session, region=SICHUAN, since=UNTIL, until=SINCE)


def test_migration_from_v1_backfills_the_mirrored_columns(world: Session) -> None:
    """A version-1 database (no mirrored columns) gets them, filled from orders and ratings."""
    from store import db
    from tests.factories import downgrade, fresh_connections

    engine = world.get_bind()
    before = indicators(session=world, region=SICHUAN, since=SINCE, until=UNTIL)
    world.close()
    downgrade(engine, 1)
    assert db.init_db(engine) == db.SCHEMA_VERSION
    fresh_connections(engine)
    with Session(engine) as fresh:
        after = indicators(session=fresh, region=SICHUAN, since=SINCE, until=UNTIL)
    assert after == before
    assert (after.accepted_needs, after.rating_count) == (3, 2)
    assert after.median_accept_seconds == pytest.approx(4 * 3600)  # accept_seconds backfilled


def test_gaps_in_a_region_include_answers_and_articles_rated_not_useful(world: Session) -> None:
    from sqlmodel import select

    from store.feedback import FeedbackSource, record_feedback
    from store.questions import QuestionLog

    answered = world.exec(select(QuestionLog).where(QuestionLog.question == "李子树流胶怎么办"))
    row = answered.one()
    row.top_hit, row.top_title = "hort-plum-gummosis", "李树流胶病的防治"
    world.add(row)
    world.commit()
    voter = person(world, Region("四川省", "宜宾市", "翠屏区"), "农户戊")
    record_feedback(
        session=world,
        user_id=voter.id,
        article_id="hort-plum-gummosis",
        source=FeedbackSource.ANSWER,
        ref_id=row.id,
        useful=False,
    )
    until = datetime.now(UTC) + timedelta(minutes=1)
    yibin = region_report(session=world, region=YIBIN, since=SINCE, until=until)
    kinds = {(g.kind, g.text) for g in yibin.gaps}
    assert ("unhelpful", "李子树流胶怎么办") in kinds
    assert ("article", "李树流胶病的防治") in kinds
    assert ("unanswered", "无人机飞防要备案吗") in kinds
    luzhou = region_report(session=world, region=LUZHOU, since=SINCE, until=until)
    assert luzhou.gaps == []  # nobody there asked in vain or voted 没用


def test_a_long_period_counts_every_week(world: Session) -> None:
    """Twenty years of weeks (more than SQLite allows terms in one compound SELECT)."""
    since = SINCE - timedelta(weeks=52 * 20)
    report = region_report(session=world, region=SICHUAN, since=since, until=UNTIL)
    assert len(report.weekly) == 52 * 20 + 4
    assert report.weekly[0].start == since and report.weekly[-1].start == UNTIL - timedelta(
        weeks=1
    )
    # the same rows as in the four-week view, in the same weeks
    tail = [(w.needs, w.accepted, w.questions) for w in report.weekly[-4:]]
    assert tail == [(4, 2, 4), (1, 1, 0), (0, 0, 0), (0, 0, 0)]
    # and the need posted before the four weeks is in its own, earlier week
    assert sum(w.needs for w in report.weekly) == report.total.needs == 6
