"""`/stats` in chat: figures for administrators, a polite refusal for everyone else."""

from __future__ import annotations

import pytest

from dialogs.assistant import Assistant
from dialogs.nlu.intents import Intent, understand
from dialogs.nlu.regions import RegionLookupError, lookup
from dialogs.stats import StatsDesk, parse_date
from store import orders as o
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
