"""The marketplace's trust rules (issue 15), as conversations with the real assistant: who may
accept, contacts by consent, talking through the platform, reports, verification and
suspension by administrators."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialogs.actions import Act, Action, parse_action
from dialogs.nlu.commands import AdminCommand, AdminVerb, OrderVerb, admin_command, order_command
from dialogs.types import Incoming, Outcome, Reply
from store.order_reads import timeline
from store.order_tables import Order
from store.trust import MarketRules, contact_views
from store.users import find_user
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat
from tests.dialogs.test_core import register
from tests.dialogs.test_orders import EXPERTS, post_need

NOT_NOTIFIED = (
    "您只能承接平台推送给您的需求；通过专家认证后，也可以承接“找项目”里您服务范围内的需求。"
)
OUT_OF_SCOPE = "只能承接您服务地区和擅长领域内的需求。"
SUSPENDED = "您的账号已暂停接单，如有疑问请联系平台管理员。"
# 张老师, 李专家, 赵工, 钱老师, 吴站长 are notified of the farmer's need; these are not
NOT_TOLD = ("王技术员", "孙兽医", "周专家")


def build(engine, kb_index, tmp_path, top_n=5, **rules):  # type: ignore[no-untyped-def]
    assistant = make_assistant(
        engine,
        kb_index,
        tmp_path,
        top_n=top_n,
        match_timeout=timedelta(hours=2),
        rules=MarketRules(**rules),
        is_admin=lambda user: user.external_id == "admin",
    )
    chats = {}
    for name, intro in EXPERTS:
        chats[name] = Chat(assistant, name)
        register(chats[name], intro)
    chats["老王"] = Chat(assistant, "老王")
    chats["admin"] = Chat(assistant, "admin")
    return assistant, chats


@pytest.fixture
def world(engine, kb_index, tmp_path):  # type: ignore[no-untyped-def]
    return build(engine, kb_index, tmp_path)


def told(out: Outcome, who: str) -> list[str]:
    return [m.text for m in out.outbound if m.external_id == who]


def receive(chat: Chat, out: Outcome, who: str) -> None:
    """*who* (the person *chat* speaks as) has the message *out* sent them, with its buttons."""
    msg = next(m for m in out.outbound if m.external_id == who)
    chat.last = Outcome(replies=[Reply(msg.text, msg.buttons)])


def status_of(assistant, order_id: int) -> tuple[str, int | None]:  # type: ignore[no-untyped-def]
    with assistant.session_factory() as s:
        order = s.get(Order, order_id)
        return order.status, order.expert_id


# ---- typed values --------------------------------------------------------------------------
@pytest.mark.parametrize("wire", ["consent:12", "swap:12"])
def test_the_consent_buttons_survive_the_wire(wire: str) -> None:
    action = parse_action(wire)
    assert action is not None and action.kind in (Act.CONSENT, Act.SWAP) and str(action) == wire
    assert parse_action(wire + ":1") is None and parse_action(wire.split(":")[0]) is None


def test_reply_and_report_are_read_once() -> None:
    reply = order_command("回复 12 明天上午方便吗？电话13800001234")
    assert (reply.verb, reply.order_id, reply.note) == (
        OrderVerb.REPLY,
        12,
        "明天上午方便吗？电话13800001234",
    )
    reported = order_command("举报 #7 索要额外费用")
    assert (reported.verb, reported.order_id, reported.note) == (
        OrderVerb.REPORT,
        7,
        "索要额外费用",
    )
    assert admin_command("/verify 5 四川省农科院") == AdminCommand(
        AdminVerb.VERIFY, "5", "四川省农科院"
    )
    assert admin_command("/reject 张老师 资料不实") == AdminCommand(
        AdminVerb.UNVERIFY, "张老师", "资料不实"
    )
    assert admin_command("/experts pending") == AdminCommand(AdminVerb.PENDING)
    assert admin_command("我要验证一下") is None


# ---- who may accept --------------------------------------------------------------------------
def test_an_expert_not_notified_cannot_accept_and_learns_nothing(world) -> None:
    assistant, chats = world
    order_id, outbound = post_need(chats)
    assert not {m.external_id for m in outbound} & set(NOT_TOLD)
    for name in NOT_TOLD:
        out = chats[name].send(f"接单 {order_id}")
        assert out.text == NOT_NOTIFIED and out.outbound == []
    assert status_of(assistant, order_id) == ("matched", None)


def test_browsing_accepts_need_verification_then_stay_in_scope(engine, kb_index, tmp_path) -> None:
    assistant, chats = build(engine, kb_index, tmp_path, top_n=2)
    order_id, outbound = post_need(chats)
    notified = {m.external_id for m in outbound}
    # a soil expert of the county the two notified experts were chosen over
    name = next(n for n in ("吴站长", "赵工", "钱老师", "李专家", "张老师") if n not in notified)
    expert, admin = chats[name], chats["admin"]
    browse = expert.send("找项目")
    assert f"#{order_id}" in browse.text and "认证后才能承接" in browse.text
    # no button promises what 接单 then refuses; typed, it is refused
    assert f"接单 #{order_id}" not in expert.buttons()
    assert expert.send(f"接单 {order_id}").text == NOT_NOTIFIED
    told_one = chats[sorted(notified)[0]]  # unverified too, but told of it: may take it
    told_one.send("找项目")
    assert f"接单 #{order_id}" in told_one.buttons()
    # only an administrator verifies
    assert "只对平台管理员开放" in chats["老王"].send(f"/verify {name} 宜宾市农业农村局").text
    assert "植保站" in admin.send("/experts pending").text  # 王技术员 waits too
    out = admin.send(f"/verify {name} 宜宾市农业农村局")
    assert out.text.startswith("已认证专家 ") and out.text.endswith("（宜宾市农业农村局）。")
    assert "通过平台认证" in told(out, name)[0]
    assert out.text.split()[1].split("（")[0] not in admin.send("/experts pending").text
    # verified: a browsed need in their area and fields may be taken
    assert "认证后才能承接" not in expert.send("找项目").text
    won = expert.press(f"接单 #{order_id}")
    assert "接单成功" in won.text
    assert "认证：已认证（宜宾市农业农村局）" in told(won, "老王")[0]
    # verified, but a pest specialist is out of scope for soil acidification
    admin.send("/verify 王技术员 宜宾市植保站")
    second, _ = post_need({"老王": Chat(assistant, "老李")})
    if "王技术员" not in {m.external_id for m in _}:
        assert chats["王技术员"].send(f"接单 {second}").text == OUT_OF_SCOPE


def test_unverified_browse_accept_when_the_setting_allows(engine, kb_index, tmp_path) -> None:
    assistant, chats = build(
        engine, kb_index, tmp_path, top_n=2, unverified_may_browse_accept=True
    )
    order_id, outbound = post_need(chats)
    notified = {m.external_id for m in outbound}
    name = next(n for n in ("吴站长", "赵工", "钱老师", "李专家", "张老师") if n not in notified)
    assert "认证后才能承接" not in chats[name].send("找项目").text
    assert "接单成功" in chats[name].send(f"接单 {order_id}").text
    # still within their regions and fields
    assert chats["孙兽医"].send(f"接单 {order_id}").text == OUT_OF_SCOPE


def test_an_accept_flood_stops_at_the_daily_limit(engine, kb_index, tmp_path) -> None:
    assistant, chats = build(engine, kb_index, tmp_path, accepts_per_day=2, max_open_orders=9)
    ids = [post_need({"老王": Chat(assistant, f"农户{i}")})[0] for i in range(3)]
    zhang = chats["张老师"]
    assert "接单成功" in zhang.send(f"接单 {ids[0]}").text
    assert "接单成功" in zhang.send(f"接单 {ids[1]}").text
    refused = zhang.send(f"接单 {ids[2]}")
    assert refused.text == "您今天的接单次数已达上限（2 次），请明天再接。"
    assert refused.outbound == [] and status_of(assistant, ids[2])[0] == "matched"
    # another expert is not held back by it
    assert "接单成功" in chats["李专家"].send(f"接单 {ids[2]}").text


def test_too_many_open_orders_stop_accepting(engine, kb_index, tmp_path) -> None:
    assistant, chats = build(engine, kb_index, tmp_path, max_open_orders=1)
    first, _ = post_need({"老王": Chat(assistant, "农户1")})
    second, _ = post_need({"老王": Chat(assistant, "农户2")})
    zhang = chats["张老师"]
    assert "接单成功" in zhang.send(f"接单 {first}").text
    assert zhang.send(f"接单 {second}").text == "您手上已有 1 个未完成的接单，请先处理完再接新的。"
    zhang.send(f"已解决 {first} 已指导")
    assert "接单成功" in zhang.send(f"接单 {second}").text


# ---- contacts by consent ---------------------------------------------------------------------
def test_consent_flow_end_to_end(world) -> None:
    assistant, chats = world
    chats["admin"].send("/verify 张老师 四川省农科院")
    order_id, _ = post_need(chats)
    won = chats["张老师"].send(f"接单 {order_id}")
    assert "接单成功" in won.text and "13800001234" not in won.text and "138******34" in won.text
    profile = told(won, "老王")[0]
    assert "张建国（农技站）" in profile and "认证：已认证（四川省农科院）" in profile
    assert "评分：暂无" in profile and "13900000001" not in profile
    receive(chats["老王"], won, "老王")
    assert chats["老王"].buttons() == ["同意交换联系方式", "换一位"]
    agreed = chats["老王"].press("同意交换联系方式")
    assert agreed.text == "已同意交换联系方式。专家 张建国 的电话：13900000001。"
    assert told(agreed, "张老师") == [
        f"需求方已同意交换联系方式：需求 #{order_id}，老王，电话：13800001234。"
    ]
    receive(chats["老王"], won, "老王")  # the old button, pressed again
    assert "已经交换过" in chats["老王"].press("同意交换联系方式").text
    with assistant.session_factory() as s:
        farmer = find_user(session=s, channel="test", external_id="老王")
        seen = contact_views(session=s, user_id=farmer.id)
        assert {(v.viewer_id == farmer.id, v.order_id) for v in seen} == {
            (True, order_id),
            (False, order_id),
        }
    assert "同意交换联系方式" in chats["老王"].send(f"/order {order_id}").text


def test_an_unverified_expert_is_shown_as_such(world) -> None:
    _, chats = world
    order_id, _ = post_need(chats)
    won = chats["李专家"].send(f"接单 {order_id}")
    assert "认证：未认证" in told(won, "老王")[0] and "研究员" in told(won, "老王")[0]


def test_another_expert_please(world) -> None:
    assistant, chats = world
    order_id, outbound = post_need(chats)
    won = chats["张老师"].send(f"接单 {order_id}")
    receive(chats["老王"], won, "老王")
    out = chats["老王"].press("换一位")
    assert out.text == f"好的，需求 #{order_id} 已重新开放，会请其他专家接单。"
    assert "这次就不麻烦您了" in told(out, "张老师")[0]
    reopened = {m.external_id for m in out.outbound if m.kind == "new_need"}
    assert reopened == {m.external_id for m in outbound} - {"张老师"}
    assert status_of(assistant, order_id) == ("matched", None)
    # the replaced expert may not take it back; another one may
    assert chats["张老师"].send(f"接单 {order_id}").text == NOT_NOTIFIED
    assert "接单成功" in chats["李专家"].send(f"接单 {order_id}").text
    with assistant.session_factory() as s:
        events = [e.action for e in timeline(session=s, order_id=order_id)]
    assert events[-3:] == ["accept", "release", "accept"]


@pytest.mark.parametrize(
    ("typed", "said"), [("同意", "已同意交换联系方式"), ("换个专家吧", "已重新开放")]
)
def test_consent_or_another_expert_typed_instead_of_pressed(world, typed: str, said: str) -> None:
    """Farmers type what the button says; one need held by an expert is the one meant."""
    _, chats = world
    order_id, _ = post_need(chats)
    won = chats["张老师"].send(f"接单 {order_id}")
    receive(chats["老王"], won, "老王")
    assert said in chats["老王"].send(typed).text


# ---- talking through the platform ------------------------------------------------------------
def test_relay_both_ways_masked_until_consent(world) -> None:
    assistant, chats = world
    order_id, _ = post_need(chats)
    chats["张老师"].send(f"接单 {order_id}")
    out = chats["老王"].send(f"回复 {order_id} 明天上午在家吗，我电话13800001234")
    assert out.text == f"已转告对方（需求 #{order_id}）。"
    msg = next(m for m in out.outbound if m.external_id == "张老师")
    # before consent the expert learns nothing of who wrote: no name, no account id
    assert msg.text.startswith(f"【需求 #{order_id}】需求方说：明天上午在家吗")
    assert "老王" not in msg.text
    assert "13800001234" not in msg.text and "138******34" in msg.text
    assert msg.ref == f"order:{order_id}"
    # the expert answers by replying to that message
    back = assistant.handle(
        Incoming(
            "test", "张老师", text="好的，九点到", display_name="张老师", reply_to_ref=msg.ref
        )
    )
    assert told(back, "老王") == [
        f"【需求 #{order_id}】专家张建国说：好的，九点到\n"
        f"（直接回复这条消息，或说“回复 {order_id} 内容”即可回话）"
    ]
    shown = chats["老王"].send(f"/order {order_id}").text
    assert "需求方留言：明天上午在家吗" in shown and "专家留言：好的，九点到" in shown
    assert "13800001234" not in shown.split("需求方留言")[1]


@pytest.mark.parametrize("typed", ["不同意", "不同意交换联系方式"])
def test_no_consent_tells_the_expert_nothing_of_the_requester(world, typed: str) -> None:
    assistant, chats = world
    order_id, _ = post_need(chats)
    won = chats["张老师"].send(f"接单 {order_id}")
    receive(chats["老王"], won, "老王")
    out = chats["老王"].send(typed)
    assert "不交换联系方式" in out.text and "回复" in out.text
    to_expert = told(out, "张老师")
    assert len(to_expert) == 1 and "暂时不交换联系方式" in to_expert[0]
    for text in to_expert:
        assert "老王" not in text and "138" not in text
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).contacts_at is None  # nothing was exchanged
    # what they write afterwards reaches the expert without a name either
    out = chats["老王"].send(f"回复 {order_id} 下午来吧")
    assert told(out, "张老师")[0].startswith(f"【需求 #{order_id}】需求方说：下午来吧")


def test_the_expert_who_holds_an_order_hands_it_back_with_buheshi(world) -> None:
    assistant, chats = world
    order_id, outbound = post_need(chats)
    chats["张老师"].send(f"接单 {order_id}")
    out = chats["张老师"].send(f"不合适 {order_id}")
    assert "已退回" in out.text
    assert "重新开放" in told(out, "老王")[0]
    reopened = {m.external_id for m in out.outbound if m.kind == "new_need"}
    assert reopened == {m.external_id for m in outbound} - {"张老师"}
    assert status_of(assistant, order_id) == ("matched", None)
    # the requester's timeline says who gave it up: the expert, not a swap they asked for
    timeline = chats["老王"].send(f"/order {order_id}").text
    assert "专家退回，重新开放" in timeline and "换专家" not in timeline
    assert "接单成功" in chats["李专家"].send(f"接单 {order_id}").text


def test_a_name_in_the_need_reaches_no_expert_before_consent(world) -> None:
    _, chats = world
    farmer = chats["老王"]
    farmer.send("我叫王大明，宜宾翠屏区李子园土壤酸化板结，想请专家来看看，电话13800001234")
    for _ in range(3):
        if "确认" in farmer.buttons():
            break
        farmer.send("跳过")
    posted = farmer.press("确认")
    assert posted.outbound
    for msg in posted.outbound:
        assert (
            "王大明" not in msg.text and "老王" not in msg.text and "13800001234" not in msg.text
        )
    order_id = int(posted.text.split("编号 ")[1].split("）")[0])
    won = chats[posted.outbound[0].external_id].send(f"接单 {order_id}")
    assert "接单成功" in won.text and "王大明" not in won.text and "老王" not in won.text


def test_no_consent_with_nothing_held_says_so(world) -> None:
    _, chats = world
    out = chats["老王"].send("不同意")
    assert "没有等待交换联系方式的需求" in out.text and out.outbound == []


def test_the_requester_turns_down_a_suggested_expert_by_number(world) -> None:
    assistant, chats = world
    order_id, outbound = post_need(chats)
    listed = chats["老王"].text
    assert "1. " in listed and "不合适 1" in listed
    first = listed.split("1. ")[1].split("（")[0].split("：")[0]  # the first name listed
    out = chats["老王"].send("不合适 1")
    assert out.text == f"好的，不再请{first}接需求 #{order_id}，其他专家仍可接单。"
    who = next(
        name
        for name, intro in EXPERTS
        if f"我叫{first}" in intro and name in {m.external_id for m in outbound}
    )
    assert chats[who].send(f"接单 {order_id}").text == NOT_NOTIFIED  # turned down: not theirs
    assert "没有第 9 位" in chats["老王"].send("不合适 9").text
    assert "哪位不合适" in chats["老王"].send("不合适").text
    assert status_of(assistant, order_id) == ("matched", None)


def test_a_strangers_relay_is_refused_without_a_word_about_the_order(world) -> None:
    assistant, chats = world
    order_id, _ = post_need(chats)
    chats["张老师"].send(f"接单 {order_id}")
    for name in ("李专家", "王技术员"):
        out = chats[name].send(f"回复 {order_id} 你好，地址在哪")
        assert out.text == f"需求 #{order_id} 不是您承接或发布的，不能这样操作。"
        assert out.outbound == []
    out = assistant.handle(
        Incoming(
            "test", "李专家", text="在哪", display_name="李专家", reply_to_ref=f"order:{order_id}"
        )
    )
    assert out.outbound == [] and "不是您承接或发布的" in out.text


# ---- reports and suspension ------------------------------------------------------------------
def test_report_then_suspend_withdraws_the_unconsented_order(world) -> None:
    assistant, chats = world
    order_id, _ = post_need(chats)
    chats["张老师"].send(f"接单 {order_id}")
    assert "请写明举报原因" in chats["老王"].send(f"举报 {order_id}").text
    reported = chats["老王"].send(f"举报 {order_id} 一接单就要先转五百块钱")
    assert reported.text == f"已收到您对需求 #{order_id} 对方的举报，管理员会尽快核实处理。"
    assert "不是您承接或发布的" in chats["李专家"].send(f"举报 {order_id} 乱说").text
    assert "被举报 1 次" in chats["admin"].send("/experts pending").text
    listed = chats["admin"].send("/reports").text
    assert (
        f"需求 #{order_id}：张建国（编号 " in listed
        and "被老王举报：一接单就要先转五百块钱" in listed
    )
    assert "只对平台管理员开放" in chats["老王"].send("/reports").text
    assert "只对平台管理员开放" in chats["老王"].send("/suspend 张老师").text
    out = chats["admin"].send("/suspend 张老师 索要费用")
    assert out.text == "已暂停 张建国 的账号。撤回了 1 个尚未交换联系方式的接单。"
    assert "已重新开放" in told(out, "老王")[0]
    assert "暂停接单" in told(out, "张老师")[0]
    assert status_of(assistant, order_id) == ("matched", None)
    # a suspended expert cannot accept; another notified expert can
    second, outbound = post_need({"老王": Chat(assistant, "老李")})
    assert outbound and "张老师" not in {m.external_id for m in outbound}  # not told any more
    assert chats["张老师"].send(f"接单 {second}").text == SUSPENDED
    assert "接单成功" in chats["李专家"].send(f"接单 {order_id}").text
    assert "已恢复" in chats["admin"].send("/unsuspend 张老师").text
    third, outbound = post_need({"老王": Chat(assistant, "老赵")})
    assert "张老师" in {m.external_id for m in outbound}
    assert "接单成功" in chats["张老师"].send(f"接单 {third}").text


# ---- the old behaviour on request --------------------------------------------------------------
def test_contacts_on_accept_keeps_the_old_flow(engine, kb_index, tmp_path) -> None:
    assistant, chats = build(engine, kb_index, tmp_path, contact_exchange="on_accept")
    order_id, _ = post_need(chats)
    won = chats["张老师"].send(f"接单 {order_id}")
    assert "接单成功" in won.text and "13800001234" in won.text
    to_farmer = told(won, "老王")[0]
    assert "13900000001" in to_farmer and "未认证" in to_farmer
    assert next(m for m in won.outbound if m.external_id == "老王").buttons == []
    with assistant.session_factory() as s:
        farmer = find_user(session=s, channel="test", external_id="老王")
        assert len(contact_views(session=s, user_id=farmer.id)) == 2
    # contacts were exchanged: a relayed phone is passed on as written
    out = chats["老王"].send(f"回复 {order_id} 换个号打我 13800005678")
    assert "13800005678" in told(out, "张老师")[0]


def test_a_button_for_a_stranger_does_nothing(world) -> None:
    assistant, chats = world
    order_id, _ = post_need(chats)
    chats["张老师"].send(f"接单 {order_id}")
    out = assistant.handle(
        Incoming("test", "李专家", action=Action(Act.CONSENT, order_id=order_id))
    )
    assert out.outbound == [] and "不是您承接或发布的" in out.text
