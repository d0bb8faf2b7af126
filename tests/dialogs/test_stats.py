"""`/stats` in chat: figures for administrators, a polite refusal for everyone else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogs.assistant import Assistant
from dialogs.nlu.intents import Intent, understand
from dialogs.nlu.periods import find_period
from dialogs.nlu.regions import RegionLookupError, lookup
from dialogs.stats import StatsDesk, parse_date
from store import orders as o
from store.clock import utcnow
from store.db import make_session_factory
from store.validation import Region
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat
from tests.factories import make_expert, make_user, post

ADMIN = "管理员小周"


@pytest.fixture
def assistant(engine, tmp_path) -> Assistant:
    factory = make_session_factory(engine)
    with factory() as session:
        farmer, expert = make_user(session, "农户老王"), make_expert(session, "专家老李")
        served = post(session, farmer).order.id
        o.accept(session=session, order_id=served, expert=expert)
        post(session, make_user(session, "农户老张"), crop="柑橘", category="disease")
    desk = StatsDesk(lambda user: user.external_id == ADMIN, Region("四川省"))
    return make_assistant(engine, None, tmp_path, stats=desk)


def test_admin_sees_city_figures(assistant: Assistant) -> None:
    reply = Chat(assistant, ADMIN).send("/stats 宜宾市").text
    assert "四川省宜宾市" in reply
    assert "需求 2 条" in reply
    assert "科技服务获取率 50.0%（1/2" in reply
    assert "专家供给率 100.0%（1/1" in reply
    assert "未满足最多：病害 1、柑橘 1" in reply
    assert "翠屏区：需求 2" in reply


def test_default_region_and_plain_words(assistant: Assistant) -> None:
    chat = Chat(assistant, ADMIN)
    province = chat.send("/stats").text
    assert "四川省 科技服务指标" in province
    assert "· 宜宾市：需求 2" in province  # the province view lists its cities
    assert "四川省宜宾市翠屏区" in chat.send("看看宜宾翠屏区的服务指标").text


def test_english_admin(assistant: Assistant) -> None:
    reply = Chat(assistant, ADMIN, locale="en").send("/stats 宜宾").text
    assert "Service acquisition rate 50.0% (1/2 requesters served)" in reply


def test_non_admin_is_refused_without_figures(assistant: Assistant) -> None:
    reply = Chat(assistant, "农户老王").send("/stats 宜宾市").text
    assert reply == "抱歉，地区服务指标只对平台管理员开放。如需查看，请联系管理员开通。"


def test_unknown_and_ambiguous_regions(assistant: Assistant) -> None:
    chat = Chat(assistant, ADMIN)
    reply = chat.send("/stats 宜兵市").text
    assert "没找到地区“宜兵市”" in reply and "宜宾市" in reply
    reply = chat.send("/stats 朝阳区").text
    assert "北京市朝阳区" in reply and "吉林省长春市朝阳区" in reply


def test_since_date(assistant: Assistant) -> None:
    chat = Chat(assistant, ADMIN)
    assert "起始日期 2030-01-01 还没到" in chat.send("/stats 宜宾 2030-01-01").text
    assert "需求 2 条" in chat.send("/stats 宜宾 2026-01-01").text
    assert "日期“2026-13-45”看不懂" in chat.send("/stats 宜宾 2026-13-45").text


def test_empty_region_says_no_data(assistant: Assistant) -> None:
    assert "这个时间段还没有数据" in Chat(assistant, ADMIN).send("/stats 成都市").text


def test_stats_intent_and_lookup() -> None:
    assert understand("/stats 宜宾市").intent == Intent.STATS
    assert understand("宜宾的服务获取率怎么样").intent == Intent.STATS
    assert understand("稻瘟病怎么防治").intent == Intent.QUESTION
    assert lookup("宜宾") == Region("四川省", "宜宾市")
    assert lookup("全国") == Region()
    with pytest.raises(RegionLookupError, match="did you mean"):
        lookup("宜兵市")
    with pytest.raises(ValueError, match="2026-02-30"):
        parse_date("2026-02-30")


# ---- periods in words, the usual region, follow-ups ------------------------------------------
def test_a_period_in_words_is_the_period_shown(assistant: Assistant) -> None:
    chat = Chat(assistant, ADMIN)
    year = utcnow().year
    reply = chat.send("看看宜宾今年的指标").text
    assert f"{year}-01-01 至 {utcnow().date().isoformat()}" in reply and "需求 2 条" in reply
    reply = chat.send("/stats 宜宾 去年").text
    assert f"{year - 1}-01-01 至 {year - 1}-12-31" in reply and "还没有数据" in reply
    assert "需求 2 条" in chat.send("宜宾最近一周的数据").text


def test_the_region_named_before_is_shown_again(assistant: Assistant) -> None:
    chat = Chat(assistant, ADMIN)
    chat.send("/stats 宜宾市")
    assert "四川省宜宾市 科技服务指标" in chat.send("看看指标").text


def test_an_administrator_of_a_known_region_sees_it_first(engine, tmp_path) -> None:
    factory = make_session_factory(engine)
    with factory() as session:
        admin = make_user(session, "县里的管理员")  # lives in 宜宾市翠屏区
        post(session, make_user(session, "农户老刘"))
    desk = StatsDesk(lambda user: user.id == admin.id, Region("四川省"))
    app = make_assistant(engine, None, tmp_path, stats=desk)
    chat = Chat(app, admin.external_id)
    assert "四川省宜宾市翠屏区 科技服务指标" in chat.send("看看指标").text


def test_a_short_follow_up_asks_the_same_figures_elsewhere(assistant: Assistant) -> None:
    chat = Chat(assistant, ADMIN)
    chat.send("看看宜宾市去年的指标")
    reply = chat.send("三台县呢").text
    year = utcnow().year
    assert "四川省绵阳市三台县 科技服务指标" in reply
    assert f"{year - 1}-01-01 至 {year - 1}-12-31" in reply  # the same period
    reply = chat.send("那翠屏区今年的呢").text
    assert "四川省宜宾市翠屏区 科技服务指标" in reply and "需求 2 条" in reply
    # a farmer's "三台县呢" is no request for figures
    assert "科技服务指标" not in Chat(assistant, "农户老王").send("三台县呢").text


def test_periods_in_words() -> None:
    now = datetime(2026, 3, 18, 9, 30, tzinfo=UTC)

    def days(text: str) -> tuple[str, str]:
        period = find_period(text, now)
        assert period is not None, text
        until = period.until.date().isoformat() if period.until else "now"
        return period.since.date().isoformat(), until

    assert days("上个月的指标") == ("2026-02-01", "2026-03-01")
    assert days("今年") == ("2026-01-01", "now")
    assert days("最近一周") == ("2026-03-12", "now")
    assert days("近30天") == ("2026-02-17", "now")
    assert days("去年") == ("2025-01-01", "2026-01-01")
    assert days("上周") == ("2026-03-09", "2026-03-16")
    assert days("上个季度") == ("2025-10-01", "2026-01-01")
    assert days("11月份的") == ("2025-11-01", "2025-12-01")  # said in March: last November
    assert days("2024年") == ("2024-01-01", "2025-01-01")
    # a month of a named year is that year's, not the last one of that name
    assert days("达州市2026年11月") == ("2026-11-01", "2026-12-01")
    assert days("2025年3月份") == ("2025-03-01", "2025-04-01")
    assert days("2024-02") == ("2024-02-01", "2024-03-01")
    assert find_period("绵阳市三台县", now) is None
    assert find_period("三个月大的猪", now) is None


def test_a_region_with_ratings_renders_them() -> None:
    # the stats and the expert profile once shared the key "rating_value" with different
    # arguments: any region with a rating crashed the report (KeyError 'avg')
    from dialogs.i18n import _merge
    from dialogs.stats import render
    from store.metrics import Indicators, RegionReport

    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    total = Indicators(Region("四川省", "宜宾市"), needs=3, rating_avg=4.5, rating_count=2)
    assert "4.5 分（2 次）" in render(RegionReport(total.region, since, until, total))
    assert "4.5 (2 ratings)" in render(RegionReport(total.region, since, until, total), "en")
    with pytest.raises(ValueError, match="rating_value"):
        _merge({"rating_value": "a"}, {"rating_value": "b"})
