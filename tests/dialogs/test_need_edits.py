"""Conversations that bend after the form (issue 14 item 6): a posted need corrected (its place
changes while no expert has taken it, experts for the new place are told and see it rebuilt;
once taken, the requester is told to tell the expert), an expert stepping down, a weather
forecast asked for."""

from __future__ import annotations

from sqlmodel import select

from dialogs.notices import need_summary
from dialogs.science import asks_forecast
from dialogs.state import ConversationState
from store.conversations import load_state
from store.experts import ExpertProfile
from store.needs import Need
from tests.dialogs.chat import Chat
from tests.dialogs.test_orders import NEED

HEJIANG = "我是农技站的，擅长果树栽培和土壤改良，泸州合江一带都能跑，电话13900000007，我叫周平"


def test_a_posted_need_corrected_changes_its_place_until_it_is_taken(assistant):
    farmer = Chat(assistant, "老王")
    farmer.send(NEED)
    farmer.send("跳过")
    farmer.press("确认")
    expert = Chat(assistant, "周专家")  # signs up after the need was posted
    expert.send(HEJIANG)
    expert.send("跳过")
    assert "登记成功" in expert.press("确认").text
    out = farmer.send("搞错了 地方是泸州合江县")
    assert "已改为：地点 四川省泸州市合江县" in out.text
    told = [m for m in out.outbound if m.external_id == "周专家"]
    assert told and "合江县" in told[0].text and "翠屏" not in told[0].text
    with assistant.session_factory() as s:
        need = s.exec(select(Need)).one()
        assert (need.city, need.county) == ("泸州市", "合江县")
        assert "翠屏" not in need_summary(need)
        order_id = need.id
    expert.send(f"接单 {order_id}")
    out = farmer.send("不对 地点应该是江安县")
    assert "已经有专家接单" in out.text and f"回复 {order_id}" in out.text
    with assistant.session_factory() as s:
        assert s.exec(select(Need)).one().county == "合江县"  # the expert took it as it was


def test_an_expert_stepping_down_is_offered_the_withdrawal_and_gets_no_more_needs(assistant):
    expert = Chat(assistant, "周专家")
    expert.send(HEJIANG)
    expert.send("跳过")
    expert.press("确认")
    out = expert.send("我不想当专家了")
    assert "要撤销您的专家登记吗" in out.text and "您擅长哪些领域" not in out.text
    assert "撤销专家登记" in expert.buttons()
    assert "已撤销您的专家登记" in expert.send("是的").text
    farmer = Chat(assistant, "老王")
    farmer.send("我在泸州合江县，荔枝园土壤板结，想请专家来看看，电话13800001234")
    farmer.send("跳过")
    posted = farmer.press("确认")
    assert not [m for m in posted.outbound if m.external_id == "周专家"]
    with assistant.session_factory() as s:
        profile = s.exec(select(ExpertProfile)).one()
        assert not profile.available and profile.fields  # kept for export or deletion
    # a sign-up given up on with the same words stops the form
    newcomer = Chat(assistant, "小李")
    newcomer.send("我想当专家")
    assert "已取消" in newcomer.send("我不想当专家了").text


def test_a_weather_forecast_asked_for_is_an_honest_no_and_never_a_need(assistant):
    assert asks_forecast("明天成都下不下雨") and asks_forecast("这几天天气咋样")
    assert not asks_forecast("明天下雨 今天能打药不")  # about spraying
    assert not asks_forecast("降水概率百分之七十是啥意思")
    chat = Chat(assistant, "小周")
    out = chat.send("明天成都下不下雨")
    assert "天气预报我这里查不到" in out.text and "12121" in out.text
    assert "找专家" not in chat.buttons()
    with assistant.session_factory() as s:
        assert (
            ConversationState.from_json(
                load_state(session=s, channel=chat.channel, external_id=chat.user)
            ).form
            is None
        )
