"""Open defects found while making the dialog tests strict (issue 13).

Each test here states the intended behaviour exactly and fails today: it documents an open
product defect. They are marked ``xfail(strict=True)`` so that the branch passes and so that
the fix makes them pass loudly: then drop the mark and move the test beside its feature.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from dialogs.assistant import Assistant
from store.subscriptions import Subscription
from tests.dialogs.chat import Chat
from tests.dialogs.test_llm import llm_chat, model_for


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
