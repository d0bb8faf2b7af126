"""No phone reaches the model, however it is written (tabs, new lines, full-width, 汉字)."""

from __future__ import annotations

import json

import pytest

from dialogs.llm.client import ChatModel, open_chat_model
from dialogs.llm.extraction import SYSTEM, ExtractedSlots
from dialogs.llm.privacy import Redactor, has_personal_data
from tests.store.test_phone import WRITTEN_MOBILE, longest_digit_run

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


# ---- every written phone through redaction -------------------------------------------------
@pytest.mark.parametrize("written", WRITTEN_MOBILE)
def test_every_phone_format_is_redacted_and_restored(written: str):
    red = Redactor()
    scrubbed = red.scrub(f"李子流胶 {written}")
    assert "[PHONE_1]" in scrubbed and longest_digit_run(scrubbed) < 7
    assert red.restore(scrubbed) == f"李子流胶 {written}"
    # inside data, before the JSON encoding (a tab would become the letters \t)
    data = red.scrub_data({"message": written, "history": [written]})
    assert all(longest_digit_run(v) < 7 for v in _strings(data))
    assert longest_digit_run(json.dumps(data, ensure_ascii=False)) < 7


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("加我微信 abc_123 详聊", "abc_123"),
        ("ＱＱ：１２３４５６７８", "１２３４５６７８"),
        ("邮箱 ａｂｃ＠ｑｑ．ｃｏｍ", "ａｂｃ＠ｑｑ．ｃｏｍ"),
        ("VX：tianfu88", "tianfu88"),
    ],
)
def test_contact_ids_are_redacted_in_any_width(text: str, hidden: str):
    red = Redactor()
    scrubbed = red.scrub(text)
    assert hidden not in scrubbed and red.restore(scrubbed) == text


# ---- the output check -----------------------------------------------------------------------
RICE = "稻瘟病防治"
SOURCE = "稻瘟病用三环唑防治。详见农业农村部 https://www.moa.gov.cn/rice 的通知。"


class _Model:
    """A stand-in chat model that always writes *answer*."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def structured(self, purpose, schema, *, system, data, redactor=None):  # type: ignore[no-untyped-def]
        return schema(answerable=True, answer=self.answer, cited_titles=[RICE])


def _grounded(answer: str):  # type: ignore[no-untyped-def]
    from dialogs.llm.grounded import grounded_answer
    from retrieval.answer import Answer
    from retrieval.index import Hit

    hit = Hit("rice", "rice#0", RICE, SOURCE, 1.0, 0.9, {}, {"source": "农业农村部"})
    offline = Answer("稻瘟病怎么治", True, "离线答案", hits=(hit,))
    return grounded_answer(_Model(answer), offline)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "answer",
    [
        "用三环唑防治，有问题致电 一三八零零零零一二三四。",
        "用三环唑防治，致电 幺三八 零零零零 幺两三四",
        "用三环唑防治，致电１３８００００１２３４",
        "用三环唑防治，详询微信 abc_123。",
        "用三环唑防治，可以加VX咨询。",
        "用三环唑防治，QQ 12345678。",
        "用三环唑防治，购买见 https://shop.example.com/rice 。",
        "用三环唑防治，见 www.example.cn。",
    ],
)
def test_an_unsafe_model_answer_is_never_shown(answer: str):
    assert _grounded(answer).text == "离线答案"


def test_a_safe_answer_with_the_sources_link_is_shown():
    text = "用三环唑防治，详见 https://www.moa.gov.cn/rice 的通知。"
    assert _grounded(text).text == text
