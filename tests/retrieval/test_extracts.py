"""Extracts answer the aspect asked, in whole sentences."""

from __future__ import annotations

import re

import pytest

from retrieval.answer import answer
from retrieval.extract import Aspect, aspects, extract
from retrieval.tokenizer import shared_tokenizer


def _answer_text(kb_index, question: str) -> str:
    result = answer(kb_index, question, shared_tokenizer())
    assert result.answered, question
    return result.text


def test_what_to_spray_names_the_fungicides(kb_index):
    text = _answer_text(kb_index, "稻瘟病用啥子药")
    assert "三环唑" in text


def test_when_to_spray_names_the_stage(kb_index):
    text = _answer_text(kb_index, "油菜菌核病啥时候打药")
    assert "初花期" in text


def test_is_it_safe_says_what_to_do_with_it(kb_index):
    text = _answer_text(kb_index, "发芽的土豆能吃吗")
    assert "扔掉" in text or "挖掉" in text


@pytest.mark.parametrize(
    "question",
    [
        "稻瘟病用啥子药",
        "油菜菌核病啥时候打药",
        "发芽的土豆能吃吗",
        "李子树流胶了咋个办",
        "稻瘟病是什么",
    ],
)
def test_extracts_are_whole_sentences_without_bare_headings(kb_index, question):
    text = _answer_text(kb_index, question)
    assert len(text) <= 280
    assert text[-1] in "。！？”）"  # never cut in the middle of a sentence
    assert not re.search(r"[：:](?:[^。！？]{0,12})[：:]", text)  # no "heading：heading：…"


def test_aspects_of_questions():
    assert aspects("稻瘟病用啥子药") == {Aspect.USE}
    assert Aspect.WHEN in aspects("菌核病好久打药")
    assert Aspect.SAFE in aspects("发芽的土豆能吃吗")
    assert Aspect.IDENTIFY in aspects("草地贪夜蛾跟粘虫咋个分得清")
    assert Aspect.DOSE in aspects("生石灰一亩撒好多")
    assert Aspect.WHY in aspects("为啥子四川老是阴天")
    assert aspects("你好") == set()


def test_headings_and_lead_ins_never_stand_alone():
    body = (
        "去哪里看：\n连续采收的蔬菜怎么办：\n- 采收前七天停止用药。\n"
        "常见的有：\n- 甲\n- 乙\n\n【能不能吃】\n少量发芽的挖掉芽眼后可以吃。"
    )
    text = extract(body, ["采收", "能吃"], "能吃吗")
    assert "去哪里看" not in text and "怎么办：" not in text and "常见的有" not in text
    assert "可以吃" in text


def test_fillers_are_not_content_words():
    from retrieval.decision import content_words

    words = content_words("屋头的稻子好久打药 好多钱一瓶", shared_tokenizer())
    assert "屋头" not in words and "好久" not in words and "好多钱" not in words
    assert "稻子" in words


def test_a_named_disease_the_article_lacks_counts_against_answering(kb_index):
    from retrieval.decision import evidence

    tk = shared_tokenizer()
    # (桃缩叶病 is named in the peach aphid article now, as what to rule out)
    question = "葡萄果子上长黑斑 是黑痘病吗"
    hits = kb_index.search(question, k=5)
    assert evidence(question, hits, kb_index, tk).pest_missing == 1.0
    assert not answer(kb_index, question, tk).answered
