"""The 接单 flow end to end: need posted -> experts notified -> race -> one wins -> contacts
exchanged -> resolved -> rated -> aggregate; re-match, expiry, cancel and every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from dialogs.actions import parse_action
from dialogs.assistant import Assistant
from dialogs.matching import MatchDesk
from dialogs.types import Incoming, Outcome, Reply
from store.clock import utcnow
from store.experts import ExpertProfile
from store.order_tables import Order
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat

NEED = "我在宜宾翠屏区，李子园土壤酸化板结，果子产量低，想请专家来看看，电话13800001234"

EXPERTS = [
    (
        "张老师",
        "我是农技站的，搞果树病虫害防治和土壤改良十几年了，宜宾翠屏一带都能跑，电话13900000001，我叫张建国",
    ),
    (
        "李专家",
        "我是农科院的研究员，擅长果树栽培和土壤肥料，宜宾市都能去，电话13900000002，我叫李明",
    ),
    ("王技术员", "我是植保站的技术员，搞果树病虫害防治，宜宾翠屏区，电话13900000003，我叫王芳"),
    (
        "赵工",
        "我是农业农村局的农艺师，擅长土壤改良和测土配方施肥，宜宾市，电话13900000004，我叫赵强",
    ),
    ("钱老师", "我是大学的教授，研究果树栽培，宜宾翠屏，电话13900000005，我叫钱进"),
    ("孙兽医", "我是畜牧站的兽医，专门看猪病，宜宾翠屏，电话13900000006，我叫孙亮"),
    ("周专家", "我是农技站的，擅长果树栽培，泸州合江一带都能跑，电话13900000007，我叫周平"),
    (
        "吴站长",
        "我是农技中心的，擅长土壤肥料和测土配方施肥，宜宾翠屏区，电话13900000008，我叫吴军",
    ),
]


# those whose introduction names no title (研究员, 技术员, 农艺师, 教授) are asked for one
ASKED_TITLE = {"张老师", "孙兽医", "周专家", "吴站长"}


@pytest.fixture
def assistant(engine, kb_index, tmp_path) -> Assistant:
    return make_assistant(engine, kb_index, tmp_path, match_timeout=timedelta(hours=2))


@pytest.fixture
def desk(assistant: Assistant) -> MatchDesk:
    return assistant.matching


@pytest.fixture
def world(assistant, desk):
    chats = {}
    for name, intro in EXPERTS:
        chat = Chat(assistant, name)
        out = chat.send(intro)
        if name in ASKED_TITLE:
            assert out.replies[-1].text.startswith("您的职称是？"), out.text
            out = chat.send("跳过")
        assert out.replies[-1].text.startswith("请确认登记信息"), out.text
        assert "登记成功" in chat.press("确认").text
        chats[name] = chat
    chats["老王"] = Chat(assistant, "老王")
    return assistant, desk, chats


def post_need(chats) -> tuple[int, list]:
    farmer = chats["老王"]
    farmer.send(NEED)
    farmer.send("跳过")
    out = farmer.press("确认")
    assert "需求已发布" in out.text
    order_id = int(out.text.split("编号 ")[1].split("）")[0])
    return order_id, out.outbound


def test_need_to_rating(world):
    assistant, desk, chats = world
    order_id, outbound = post_need(chats)
    notified = [m.external_id for m in outbound]
    assert len(notified) == 5
    # wrong field (animals, pests only) or elsewhere (泸州) are not told
    assert not {"孙兽医", "周专家", "王技术员"} & set(notified)
    farmer_reply = chats["老王"].text
    assert "已为您通知 5 位专家" in farmer_reply and "擅长" in farmer_reply
    for msg in outbound:
        assert "13800001234" not in msg.text  # no contact before acceptance
        assert [b.label for r in msg.buttons for b in r] == ["接单", "不合适"]
        assert msg.ref == f"order:{order_id}"

    # two experts race; the first wins, the second is refused politely
    first, second = notified[0], notified[1]
    win = assistant.handle(
        Incoming("test", first, action=parse_action(f"accept:{order_id}"), display_name=first)
    )
    # (issue 15: phones are exchanged only when the farmer agrees, no longer on accepting)
    assert "接单成功" in win.text and "13800001234" not in win.text
    to_farmer = [m for m in win.outbound if m.external_id == "老王"]
    assert len(to_farmer) == 1 and "接单" in to_farmer[0].text and "未认证" in to_farmer[0].text
    assert "139000000" not in to_farmer[0].text
    chats["老王"].last = Outcome(replies=[Reply(to_farmer[0].text, to_farmer[0].buttons)])
    agreed = chats["老王"].press("同意交换联系方式")
    assert "139000000" in agreed.text
    assert "13800001234" in agreed.outbound[0].text and agreed.outbound[0].external_id == first
    told_taken = {m.external_id for m in win.outbound if "已被其他专家接单" in m.text}
    assert told_taken == set(notified) - {first}
    late = chats[second].send(f"接单 {order_id}")
    assert "已被其他专家接单" in late.text and "13800001234" not in late.text

    # only the winner may resolve; the requester rates; the aggregate moves
    assert "不是您承接或发布的" in chats[second].send(f"已解决 {order_id} 我也弄好了").text
    winner = Chat(assistant, first)
    out = winner.send(f"已解决 {order_id} 已指导撒石灰改良")
    assert "标记为已解决" in out.text
    rate_msg = out.outbound[0]
    assert rate_msg.external_id == "老王" and "已指导撒石灰改良" in rate_msg.text
    # the farmer presses 4星 on the message they received
    chats["老王"].last = Outcome(replies=[Reply(rate_msg.text, rate_msg.buttons)])
    out = chats["老王"].press("4星")
    assert "感谢评价" in out.text
    assert "打了 4 星" in out.outbound[0].text
    with assistant.session_factory() as s:
        order = s.get(Order, order_id)
        assert order.status == "closed"
        uid = order.expert_id
        profile = s.exec(select(ExpertProfile).where(ExpertProfile.user_id == uid)).one()
        assert (profile.rating_count, profile.rating_avg) == (1, 4.0)
    timeline = chats["老王"].send(f"/order {order_id}").text
    for step in ("发布需求", "已通知专家", "专家接单", "专家标记已解决", "完成并评价"):
        assert step in timeline


def test_accept_by_replying_to_the_notification(world):
    assistant, _, chats = world
    order_id, outbound = post_need(chats)
    expert = outbound[0].external_id
    out = assistant.handle(
        Incoming(
            "test", expert, text="接单", display_name=expert, reply_to_ref=f"order:{order_id}"
        )
    )
    assert "接单成功" in out.text


def test_privacy_refusals(world):
    assistant, _, chats = world
    order_id, _ = post_need(chats)
    # the requester cannot accept their own need, even as a registered expert
    own = Chat(assistant, "张老师")
    own_need = own.send("我家李子树流胶严重，想请专家来看看，宜宾翠屏，电话13900000001")
    own.send("跳过")
    posted = own.press("确认").text
    own_id = int(posted.split("编号 ")[1].split("）")[0])
    assert "· 电话：13900000001" in own_need.text  # understood as a need of their own
    assert "不能自己接单" in own.send(f"接单 {own_id}").text
    # a plain user cannot accept
    stranger = Chat(assistant, "路人甲")
    assert "还没有登记为专家" in stranger.send(f"接单 {order_id}").text
    # nobody but the parties sees the timeline
    assert "不是您承接或发布的" in stranger.send(f"/order {order_id}").text
    # nobody but the requester can cancel
    assert "不是您承接或发布的" in Chat(assistant, "李专家").send(f"取消订单 {order_id}").text
    # unknown ids are answered plainly
    assert "没有找到编号 999" in chats["李专家"].send("接单 999").text


def test_cancel_before_resolved_tells_the_expert(world):
    assistant, _, chats = world
    order_id, outbound = post_need(chats)
    expert = outbound[0].external_id
    Chat(assistant, expert).send(f"接单 {order_id}")
    out = chats["老王"].send(f"取消订单 {order_id}")
    assert "已取消" in out.text
    assert out.outbound[0].external_id == expert and "已被需求方取消" in out.outbound[0].text
    assert "不能取消" in chats["老王"].send(f"取消订单 {order_id}").text


def test_timeout_rematch_then_expiry(world):
    assistant, desk, chats = world
    order_id, outbound = post_need(chats)
    first_round = {m.external_id for m in outbound}
    later = utcnow() + timedelta(hours=3)
    out = desk.run_due(assistant.session_factory, now=later)
    to_farmer = [m for m in out.outbound if m.external_id == "老王"]
    new_experts = {m.external_id for m in out.outbound if m.kind == "new_need"}
    assert len(first_round) == 5 and "周专家" not in first_round
    assert [m.kind for m in to_farmer] == ["rematched"]
    assert f"需求 #{order_id} 暂时没有专家接单，已扩大到全省" in to_farmer[0].text
    assert "又通知了 1 位专家" in to_farmer[0].text
    assert new_experts == {"周专家"}  # the province's fruit expert in 泸州, not told before
    assert desk.run_due(assistant.session_factory, now=later).outbound == []  # idempotent

    # keep waiting: widening to the whole country finds nobody new, then an honest expiry,
    # told once and only to the requester
    told = []
    for hours in (6, 9, 12, 15):
        result = desk.run_due(assistant.session_factory, now=utcnow() + timedelta(hours=hours))
        told += result.outbound
    assert [(m.external_id, m.kind) for m in told] == [("老王", "expired")]
    assert f"很抱歉，需求 #{order_id} 扩大范围后仍没有专家接单" in told[0].text
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == "expired"
    # an expired need stays visible to experts who browse, and can still be taken
    browse = chats["周专家"].send("找项目")
    assert f"#{order_id}" in browse.text


def test_browse_needs_fit_region_and_field(world):
    _, _, chats = world
    order_id, _ = post_need(chats)
    assert f"#{order_id}" in chats["王技术员"].send("找项目").text
    assert "还没有登记为专家" in chats["老王"].send("/needs").text


def test_auto_close_after_days(world):
    assistant, desk, chats = world
    order_id, outbound = post_need(chats)
    expert = outbound[0].external_id
    Chat(assistant, expert).send(f"接单 {order_id}")
    Chat(assistant, expert).send(f"已解决 {order_id}")
    out = desk.run_due(assistant.session_factory, now=utcnow() + timedelta(days=8))
    assert {m.external_id for m in out.outbound if m.kind == "closed"} == {"老王", expert}
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).status == "closed"
