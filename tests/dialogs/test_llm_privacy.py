"""No phone reaches the model, however it is written (tabs, new lines, full-width, 汉字)."""

from __future__ import annotations

import json

import pytest

from dialogs.llm.client import ChatModel, open_chat_model
from dialogs.llm.extraction import SYSTEM, ExtractedSlots
from dialogs.llm.privacy import Redactor, has_personal_data
from tests.store.test_phone import longest_digit_run

HIDDEN = [
    "李子流胶，电话138\t0000\t1234",
    "李子流胶，电话\n138\n0000\n1234",
    "李子流胶，电话１３８００００１２３４",
    "李子流胶，电话 +86 138 0000 1234",
    "李子流胶，电话一三八零零零零一二三四",
    "身份证 51150219900101123X",
]


@pytest.mark.parametrize("text", HIDDEN)
def test_redactor_replaces_every_format_and_restores_it(text: str):
    red = Redactor()
    scrubbed = red.scrub(text)
    assert "[PHONE_1]" in scrubbed
    assert longest_digit_run(scrubbed) < 7
    assert red.restore(scrubbed) == text
    assert has_personal_data(text) and has_personal_data(scrubbed)


def test_plain_question_has_no_personal_data():
    assert not has_personal_data("稻瘟病用什么药？一亩地用多少？")


@pytest.mark.parametrize("text", HIDDEN)
def test_no_number_reaches_the_model_in_any_format(fake_llm, text: str):  # type: ignore[no-untyped-def]
    model = open_chat_model(api_key="test-key", base_url=fake_llm.base_url, model="fake-model")
    assert isinstance(model, ChatModel)
    try:
        model.structured("extract", ExtractedSlots, system=SYSTEM, data={"message": text})
    finally:
        model.close()
    assert fake_llm.bodies
    for raw in fake_llm.bodies:
        for text_sent in _strings(json.loads(raw)):
            assert longest_digit_run(text_sent) < 7, text_sent


def _strings(value: object) -> list[str]:
    """Every string in a request, with JSON-in-a-string decoded (the user message is JSON,
    where a tab between digit groups is the two characters backslash and t)."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, str):
        try:
            inner = json.loads(value)
        except ValueError:
            return [value]
        return [value, *_strings(inner)] if isinstance(inner, dict | list) else [value]
    return []
