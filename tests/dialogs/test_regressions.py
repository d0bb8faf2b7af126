"""Defects found while making the dialog tests strict (issue 13), each fixed; the tests
keep them fixed: 退订 in the subscribe form is no topic, exact commands never reach the
model, and a scheduler round at a given time uses that time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from dialogs.assistant import Assistant
from store.clock import utcnow
from store.order_tables import Order
from store.subscriptions import Subscription
from tests.dialogs.chat import Chat
from tests.dialogs.test_llm import llm_chat, model_for
from tests.dialogs.test_orders import desk, post_need, world  # noqa: F401 - fixtures


def test_unsubscribe_inside_the_subscribe_form_is_not_a_topic(chat: Chat, assistant: Assistant):
    chat.send("/subscribe")
    out = chat.send("退订")
    assert "已订阅" not in out.text
    chat.send("确认")
    with assistant.session_factory() as s:
        assert s.exec(select(Subscription)).all() == []


@pytest.mark.parametrize("text", ["/profile", "/subscribe", "/stop", "/unsubscribe", "确认"])
def test_exact_commands_are_not_sent_to_the_model(engine, kb_index, fake_llm, text):
    chat = llm_chat(engine, kb_index, model_for(fake_llm))
    chat.send(text)
    assert fake_llm.bodies == []


def test_a_second_order_round_at_the_same_moment_changes_nothing(world):  # noqa: F811
    assistant, order_desk, chats = world
    order_id, _ = post_need(chats)
    later = utcnow() + timedelta(hours=3)
    assert [m.kind for m in order_desk.run_due(assistant.session_factory, now=later).outbound] == [
        "rematched",
        "new_need",
    ]
    with assistant.session_factory() as s:
        after_first = s.get(Order, order_id).match_round
    assert order_desk.run_due(assistant.session_factory, now=later).outbound == []
    with assistant.session_factory() as s:
        assert s.get(Order, order_id).match_round == after_first  # not widened again


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("我屋头柑子树叶子黄得很 还掉果 江安的 电话13900002222", "我屋头柑子树叶子黄得很 还掉果"),
        ("玉米遭虫吃了 好多心叶被咬烂 我在三台 电话15000090123", "玉米遭虫吃了 好多心叶被咬烂"),
        ("的确是黄龙病 宜宾的", "的确是黄龙病"),
        ("蓬安的橘子树叶子卷起来还有虫 请专家来看下", "橘子树叶子卷起来还有虫 请专家来看下"),
    ],
)
def test_experts_read_the_problem_without_place_phone_or_stray_particles(said, shown):
    from dialogs.formdesk import problem_only

    assert problem_only(said) == shown
