"""A job seen through to resolved and rated (issue text): a requester who says it is not
solved reopens it with the same expert, may ask for another one at any point, hears when an
expert declines, and finds the finished job listed as finished."""

from __future__ import annotations

from sqlmodel import select

from dialogs.nlu.commands import OrderVerb, order_command
from dialogs.types import Incoming
from store.order_tables import Order
from tests.dialogs.test_orders import desk, post_need, world  # noqa: F401 - fixtures


def _taken_and_resolved(chats, order_id: int, expert: str) -> None:
    chats[expert].send(f"接单 {order_id}")
    chats["老王"].send("同意交换联系方式")
    out = chats[expert].send(f"已解决 {order_id} 已指导撒石灰")
    assert any("问题解决了吗" in m.text for m in out.outbound)


def test_not_solved_reopens_with_the_same_expert_then_rating_finishes_it(world):  # noqa: F811
    app, _, chats = world
    order_id, outbound = post_need(chats)
    expert = next(name for name, c in chats.items() if c.user in {m.external_id for m in outbound})
    _taken_and_resolved(chats, order_id, expert)
    out = chats["老王"].send("撒了石灰还是不行")
    assert f"需求 #{order_id} 已重新打开" in out.text
    told = [m for m in out.outbound if m.external_id == expert]
    assert told and "还没解决" in told[0].text and "撒了石灰还是不行" in told[0].text
    with app.session_factory() as s:
        assert s.get(Order, order_id).status == "accepted"
    chats[expert].send(f"已解决 {order_id} 又补施了一次")
    assert "感谢评价" in chats["老王"].send("打4星").text
    farmer = chats["老王"]
    # typed as a reply to the order's last message: the list, not a message to the expert
    out = app.handle(
        Incoming(farmer.channel, farmer.user, text="我的需求", reply_to_ref=f"order:{order_id}")
    )
    assert "已完成" in out.text and "已转告" not in out.text and not out.outbound


def test_another_expert_may_be_asked_for_after_resolving_and_after_contacts(world):  # noqa: F811
    app, _, chats = world
    order_id, outbound = post_need(chats)
    first = next(name for name, c in chats.items() if c.user == outbound[0].external_id)
    _taken_and_resolved(chats, order_id, first)
    out = chats["老王"].send("换一位专家")
    assert f"需求 #{order_id} 已重新开放" in out.text
    assert any(m.external_id == first and "不麻烦您" in m.text for m in out.outbound)
    with app.session_factory() as s:
        order = s.get(Order, order_id)
        assert (order.status, order.expert_id, order.contacts_at) == ("matched", None, None)
    assert "换专家，重新开放" in chats["老王"].send(f"/order {order_id}").text


def test_a_declining_expert_is_reported_to_the_requester(world):  # noqa: F811
    app, _, chats = world
    order_id, outbound = post_need(chats)
    told = [m.external_id for m in outbound]
    for n, expert in enumerate(told, 1):
        out = chats[expert].send(f"不合适 {order_id}")
        heard = [m.text for m in out.outbound if m.external_id == chats["老王"].user]
        assert len(heard) == 1 and f"需求 #{order_id}" in heard[0]
        if n < len(told):
            assert "其他专家还在考虑" in heard[0]
        else:
            assert "扩大范围继续为您匹配" in heard[0]
    with app.session_factory() as s:
        assert len(s.exec(select(Order)).all()) == 1


def test_my_needs_alone_lists_and_a_description_starting_so_does_not():
    assert order_command("我的需求").verb is OrderVerb.LIST
    assert order_command("我的需求是找人看下柑橘黄叶") is None
