"""Repeated texts are parsed once: the memo of understand() and the tokenizer's segmentation
give each caller its own copy, so a handler changing slots cannot change the next parse."""

from __future__ import annotations

from dialogs.nlu import intents
from dialogs.nlu.intents import Intent, Parse, forget_parses, parse_message, understand
from dialogs.nlu.slots import Slots
from retrieval.extract import sentences
from retrieval.tokenizer import shared_tokenizer

NEED = "我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看，电话13800001234"


def test_a_remembered_parse_is_the_real_parse():
    forget_parses()
    first, again = understand(NEED), understand(NEED)
    real = parse_message(NEED)
    assert first == again == real
    assert first.intent == Intent.NEED and first.slots.crop and first.slots.phone


def test_changing_a_parse_does_not_change_the_next_one():
    first = understand(NEED)
    first.slots.crop = "水稻"
    first.slots.crops.append("水稻")
    first.slots.places.clear()
    second = understand(NEED)
    assert second.slots.crop != "水稻" and "水稻" not in second.slots.crops
    assert second.slots.places  # 宜宾翠屏区 still there
    assert second.slots is not first.slots


def test_the_memo_is_bounded(monkeypatch):
    # a stand-in parser: what is measured is the memo's size, not thousands of real parses
    monkeypatch.setattr(
        intents, "parse_message", lambda text, model=None: Parse(Intent.OTHER, Slots(), text)
    )
    forget_parses()
    try:
        for i in range(intents.MEMO_SIZE + 10):
            understand(f"第{i}个问题")
        assert intents._remembered.cache_info().currsize == intents.MEMO_SIZE
        assert understand("第0个问题").text == "第0个问题"  # the oldest went, and comes back
    finally:
        forget_parses()  # no stand-in parse outlives this test


def test_an_explicit_model_is_never_answered_from_the_memo(monkeypatch):
    calls: list[str] = []
    real = intents.parse_message

    def counting(text, model=None):  # type: ignore[no-untyped-def]
        calls.append(text)
        return real(text, model)

    monkeypatch.setattr(intents, "parse_message", counting)
    from dialogs.nlu.model import default_model

    understand("稻瘟病怎么防治", default_model())
    understand("稻瘟病怎么防治", default_model())
    assert calls == ["稻瘟病怎么防治", "稻瘟病怎么防治"]


def test_segmentation_is_cached_but_each_caller_gets_its_own_list():
    tokenizer = shared_tokenizer()
    words = tokenizer.words("李子树流胶了咋个办")
    words.append("不该有的词")
    assert "不该有的词" not in tokenizer.words("李子树流胶了咋个办")
    tokens = tokenizer("李子树流胶了咋个办")
    tokens.clear()
    assert tokenizer("李子树流胶了咋个办")


def test_sentences_of_an_article_are_split_once_and_handed_out_as_copies():
    body = "【症状】叶片出现褐色病斑，逐渐扩大。\n【防治】发病初期喷施药剂，间隔七天再喷一次。"
    found = sentences(body)
    found.pop()
    assert len(sentences(body)) == 2
