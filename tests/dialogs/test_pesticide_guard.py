"""No answer recommends a banned pesticide; asking about one gets the ban and an alternative."""

from __future__ import annotations

import json

from knowledge.pesticides import default_guard
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat
from tests.dialogs.test_llm import RICE_BLAST, model_for


def guarded_chat(engine, kb_index, llm=None) -> Chat:  # type: ignore[no-untyped-def]
    return Chat(make_assistant(engine, kb_index, llm=llm, guard=default_guard()), "老李")


def test_asking_whether_a_banned_product_may_be_used_gets_the_ban(engine, kb_index):
    chat = guarded_chat(engine, kb_index)
    reply = chat.send("百草枯还能用不").text
    assert "百草枯是国家禁止生产、销售和使用的农药" in reply
    assert "草铵膦" in reply  # a legal alternative
    assert "来源：《国家禁限用农药名录》" in reply
    reply = chat.send("柑橘上能打克百威吗").text
    assert "克百威是限用农药" in reply and "柑橘在禁用范围内，不能用" in reply
    assert "螺" in reply or "噻虫嗪" in reply


def test_a_poisoning_question_is_not_answered_with_the_ban(engine, kb_index):
    reply = guarded_chat(engine, kb_index).send("有人误服了百草枯怎么急救").text
    assert "禁止生产、销售和使用" not in reply


def test_llm_answer_recommending_a_banned_product_is_refused(engine, kb_index, fake_llm):
    fake_llm.replies["GroundedReply"] = {
        "answerable": True,
        "answer": "稻瘟病发病初期用甲胺磷兑水喷雾效果好。",
        "cited_titles": [RICE_BLAST],
    }
    chat = guarded_chat(engine, kb_index, model_for(fake_llm))
    text = chat.send("稻瘟病怎么防治？").text
    assert "甲胺磷" not in text and f"来源：《{RICE_BLAST}》" in text


def test_a_stated_ban_is_not_rewritten_by_the_model(engine, kb_index, fake_llm):
    chat = guarded_chat(engine, kb_index, model_for(fake_llm))
    assert "禁止生产、销售和使用" in chat.send("甲胺磷还能买吗").text
    asked = [b for b in fake_llm.chat_bodies() if "GroundedReply" in json.dumps(b)]
    assert asked == []
