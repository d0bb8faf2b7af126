"""Issue 18's indicators on a hand-built fixture where every number is known: the service
acquisition rate split by requester kind, achievements registered and 对接 completed, in the
report, in /stats and in the CSV table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session

from dialogs.stats import render, table
from store import orders as o
from store.achievements import Achievement, AchievementIn, add_achievement
from store.metrics import indicators, region_report
from store.validation import Region
from tests.store.test_metrics import SICHUAN, SINCE, T0, UNTIL, YIBIN, expert, need, person

CUIPING = Region("四川省", "宜宾市", "翠屏区")
NANXI = Region("四川省", "宜宾市", "南溪区")
LUZHOU = Region("四川省", "泸州市", "江阳区")


@pytest.fixture
def market(session: Session) -> Session:
    """Enterprises: 甲 (翠屏, 2 needs, 1 taken), 乙 (南溪, 1 need, none taken).
    Individuals: 丙 (翠屏, a 对接 taken and resolved), 丁 (翠屏, not taken), 戊 (泸州, taken).
    Achievements: two registered in 翠屏, one in 泸州, one before the period (not counted)."""
    vet = expert(session, CUIPING, "专家")
    day = timedelta(days=1)
    jia, yi = person(session, CUIPING, "企业甲"), person(session, NANXI, "企业乙")
    bing, ding = person(session, CUIPING, "农户丙"), person(session, CUIPING, "农户丁")
    wu = person(session, LUZHOU, "农户戊")
    rows = [
        add_achievement(session=session, owner=vet, data=AchievementIn(t, "技术", "示范", "转让"))
        for t in ("甲技术", "乙技术", "丙技术", "旧技术")
    ]
    session.execute(
        update(Achievement)
        .where(Achievement.id == rows[2].id)
        .values(city="泸州市", county="江阳区")
    )
    session.execute(
        update(Achievement).where(Achievement.id == rows[3].id).values(created_at=T0 - 9 * day)
    )
    for r in rows[:3]:
        session.execute(
            update(Achievement).where(Achievement.id == r.id).values(created_at=T0 + day)
        )
    session.commit()
    kind = {"requester_kind": "enterprise"}
    taken = [
        need(session, jia, CUIPING, T0 + day, **kind),
        need(session, bing, CUIPING, T0 + day, achievement_id=rows[0].id),
        need(session, wu, LUZHOU, T0 + 2 * day),
    ]
    need(session, jia, CUIPING, T0 + 3 * day, **kind)
    need(session, yi, NANXI, T0 + 3 * day, **kind)
    need(session, ding, CUIPING, T0 + 3 * day)
    for order_id in taken:
        o.accept(session=session, order_id=order_id, expert=vet, now=T0 + 4 * day)
    o.resolve(session=session, order_id=taken[1], expert=vet, now=T0 + 5 * day)  # the 对接
    o.resolve(session=session, order_id=taken[2], expert=vet, now=T0 + 5 * day)  # no 对接
    return session


def test_acquisition_split_by_requester_kind(market: Session) -> None:
    whole = indicators(session=market, region=SICHUAN, since=SINCE, until=UNTIL)
    assert (whole.enterprise_served, whole.enterprise_requesters) == (1, 2)
    assert (whole.individual_served, whole.individual_requesters) == (2, 3)
    assert whole.enterprise_acquisition_rate == pytest.approx(0.5)
    assert whole.individual_acquisition_rate == pytest.approx(2 / 3)
    assert (whole.achievements, whole.dockings_done) == (3, 1)
    report = region_report(session=market, region=YIBIN, since=SINCE, until=UNTIL)
    assert report.total == indicators(session=market, region=YIBIN, since=SINCE, until=UNTIL)
    by_county = {c.region.county: c for c in report.children}
    cuiping, nanxi = by_county["翠屏区"], by_county["南溪区"]
    assert (cuiping.enterprise_served, cuiping.enterprise_requesters) == (1, 1)
    assert (cuiping.individual_served, cuiping.individual_requesters) == (1, 2)
    assert (cuiping.achievements, cuiping.dockings_done) == (2, 1)
    assert nanxi.enterprise_acquisition_rate == 0.0
    assert nanxi.individual_acquisition_rate is None  # nobody: no data, not 0 %
    province = region_report(session=market, region=SICHUAN, since=SINCE, until=UNTIL)
    luzhou = next(c for c in province.children if c.region.city == "泸州市")
    assert (luzhou.achievements, luzhou.dockings_done, luzhou.individual_served) == (1, 0, 1)


def test_stats_text_and_csv_table_show_the_split(market: Session) -> None:
    report = region_report(session=market, region=YIBIN, since=SINCE, until=UNTIL)
    text = render(report)
    assert "其中企业科技服务获取率 50.0%（1/2），个人 50.0%（1/2）" in text
    assert "科技成果登记 2 项，成果对接完成 1 次" in text
    header, rows = table(report)
    assert header[-4:] == ["企业获取率%", "个人获取率%", "成果登记数", "对接完成数"]
    assert rows[0][-4:] == [50.0, 50.0, 2, 1]
    cuiping = next(r for r in rows if r[0] == "翠屏区")
    assert cuiping[-4:] == [100.0, 50.0, 2, 1]
