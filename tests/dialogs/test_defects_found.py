"""Open defects found while making the dialog tests strict (issue 13).

Each test here states the intended behaviour exactly and fails today: it documents an open
product defect. They are marked ``xfail(strict=True)`` so that the branch passes and so that
the fix makes them pass loudly: then drop the mark and move the test beside its feature.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from dialogs.assistant import Assistant
from store.clock import utcnow
from store.orders import Order
from store.subscriptions import Subscription
from tests.dialogs.chat import Chat
from tests.dialogs.test_llm import llm_chat, model_for
from tests.dialogs.test_orders import desk, post_need, world  # noqa: F401 - fixtures


@pytest.mark.xfail(
    strict=True,
    reason="in the subscribe form '退订' is taken as a topic: '请确认订阅：退订', then subscribed",
)
def test_unsubscribe_inside_the_subscribe_form_is_not_a_topic(chat: Chat, assistant: Assistant):
    chat.send("/subscribe")
    out = chat.send("退订")
    assert "请确认订阅" not in out.text
    chat.send("确认")
    with assistant.session_factory() as s:
        assert s.exec(select(Subscription)).all() == []


@pytest.mark.xfail(
    strict=True,
    reason="LLM mode sends /profile, /subscribe, /stop, /unsubscribe and a stray 确认 to the "
    "model for extraction, though the rules are sure of them",
)
@pytest.mark.parametrize("text", ["/profile", "/subscribe", "/stop", "/unsubscribe", "确认"])
def test_exact_commands_are_not_sent_to_the_model(engine, kb_index, fake_llm, text):
    chat = llm_chat(engine, kb_index, model_for(fake_llm))
    chat.send(text)
    assert fake_llm.bodies == []


@pytest.mark.xfail(
    strict=True,
    reason="OrderDesk.run_due(now=T) re-matches with the real clock (match() calls "
    "mark_matched without now), so a second run at the same T widens the order again",
)
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
