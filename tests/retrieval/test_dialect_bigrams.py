"""Questions typed in dialect are searched in the words articles use, and character pairs
give evidence where words do not meet (issue 14)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import LEXICON_DIR
from knowledge.lexicons import load_lexicon
from retrieval.answer import answer, retrieve
from retrieval.bigrams import content_bigrams
from retrieval.decision import evidence
from retrieval.index import HybridIndex
from retrieval.tokenizer import shared_tokenizer


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("脑壳痛得很", "头痛很"),
        ("猪儿拉稀了咋个办", "猪儿拉稀了怎么办"),  # 拉稀 is a symptom word the lexicon knows
        ("枝干上冒红水水", "枝干上冒红水"),  # a doubled noun made single
        ("鱼在池边边上擦", "鱼在池边上擦"),
        ("天天刮风", "天天刮风"),  # a doubled word of its own stays
        ("屋头的鸭儿死起了", "家里的鸭死亡了"),
        # a child is 孩子 in the articles (89 times; 小孩 9)
        ("幺儿发烧39度咋办", "孩子发烧39度怎么办"),
        ("小孩被开水烫了", "孩子被开水烫了"),
    ],
)
def test_dialect_is_searched_in_article_words(typed: str, standard: str) -> None:
    assert shared_tokenizer().standard(typed) == standard


def test_fillers_and_their_standard_words_add_no_pairs() -> None:
    tk = shared_tokenizer()
    pairs = content_bigrams(tk.standard("屋头那几块田的稻子咋个办"), tk)
    assert "稻子" in pairs
    assert not {"家里", "怎么", "么办"} & set(pairs)


def test_a_dialect_line_without_its_standard_word_is_refused(tmp_path: Path) -> None:
    for f in LEXICON_DIR.iterdir():
        shutil.copy(f, tmp_path / f.name)
    with (tmp_path / "dialect.tsv").open("a", encoding="utf-8") as out:
        out.write("脑门心\t\n")
    with pytest.raises(ValueError, match="脑门心"):
        load_lexicon(tmp_path)


def test_char_pairs_hold_where_words_miss(kb_index: HybridIndex) -> None:
    """Symptoms typed loosely still meet the article's text pair by pair."""
    tk = shared_tokenizer()
    question = "猕猴桃枝干上冒红水水 今年好多株都遭了 啷个办"
    searched, hits = retrieve(kb_index, question, tk, tk.crops_in(question))
    assert hits[0].doc_id == "hort-kiwi-bacterial-canker"
    ev = evidence(searched, hits, kb_index, tk)
    assert ev.char_coverage > 0.6
    # the same words about an article on something else hold far fewer pairs
    other = evidence(searched, hits[1:], kb_index, tk)
    assert other.char_coverage < ev.char_coverage


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("猕猴桃枝干上冒红水水 今年好多株都遭了 啷个办", "hort-kiwi-bacterial-canker"),
        ("榨菜根上长了好多大大小小的瘤子 一到中午就焉", "hort-brassica-clubroot"),
        ("天亮之前塘里鱼全部浮起来嘴巴张起 是不是闷到了", "animal-fish-pond-oxygen"),
    ],
)
def test_dialect_questions_are_answered(
    kb_index: HybridIndex, question: str, expected: str
) -> None:
    result = answer(kb_index, question, shared_tokenizer())
    assert result.answered and result.citations[0].doc_id == expected


def test_an_article_that_says_it_in_dialect_meets_the_standard_question(
    kb_index: HybridIndex,
) -> None:
    """The stroke article's typical question says 老汉 (the question is searched as 父亲):
    both meet in the index and in the evidence, as the same word."""
    tk = shared_tokenizer()
    assert "父亲" in tk("老汉突然嘴巴歪了")  # an article's dialect word also yields its standard
    assert "老汉" in tk.forms["父亲"]
    question = "我们老汉嘴巴突然歪了 说话也不清楚"
    searched, hits = retrieve(kb_index, question, tk, tk.crops_in(question))
    assert "父亲" in searched and hits[0].doc_id == "sci-stroke-recognition"
    assert evidence(searched, hits, kb_index, tk).typical >= 0.5


@pytest.mark.parametrize(
    ("text", "crops"),
    [
        ("牛吃了带露水的苜蓿 肚子胀", {"牛", "紫花苜蓿"}),  # the animal, not only its feed
        ("一头羊不吃草", {"羊"}),
        ("李子裂果", {"李"}),
        ("请问李专家在不在", set()),  # a surname before a title
        ("喝茶会不会失眠", set()),  # 茶 inside a word of its own
        ("牛奶能不能空腹喝", set()),
    ],
)
def test_one_character_crops_count_as_words_of_their_own(text: str, crops: set[str]) -> None:
    assert shared_tokenizer().crops_in(text) == crops


def test_an_animal_named_beside_its_feed_keeps_its_article(kb_index: HybridIndex) -> None:
    """A cattle article is not demoted as "about another crop" because the question also
    names the clover the cow ate."""
    tk = shared_tokenizer()
    question = "牛啃了一肚子嫩苜蓿 肚皮胀得像鼓 要不要放气"
    searched, hits = retrieve(kb_index, question, tk, tk.crops_in(question))
    assert hits[0].doc_id == "animal-cattle-bloat"


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("种柑橘一亩一年能挣好多钱", True),  # what it earns: a growing article says nothing
        ("脐橙施肥一亩用好多斤复合肥", False),  # 好多 asks an amount, not money
        ("娃娃鱼养殖要办哪些手续", False),  # the article says which permits
    ],
)
def test_money_or_paperwork_the_article_never_speaks_of(
    kb_index: HybridIndex, question: str, missing: bool
) -> None:
    tk = shared_tokenizer()
    searched, hits = retrieve(kb_index, question, tk, tk.crops_in(question))
    assert bool(evidence(searched, hits, kb_index, tk).aspect_missing) is missing


def test_words_no_article_holds_are_told_apart_from_words_the_article_lacks(
    kb_index: HybridIndex,
) -> None:
    """How someone describes what they see (绒球球, 一捏) is in no article; missing_known
    weighs only the words some article holds, unknown counts the others."""
    tk = shared_tokenizer()
    question = "巴中这边稻穗上冒出墨绿色的绒球球 一捏一手粉 明年咋个预防"
    searched, hits = retrieve(kb_index, question, tk, tk.crops_in(question))
    assert hits[0].doc_id == "grain-rice-false-smut"
    ev = evidence(searched, hits, kb_index, tk)
    assert ev.unknown > 0
    assert ev.missing_known < ev.missing_weight
    # a question in the corpus's own words has none of them
    plain = "稻曲病啥时候打药最好"
    searched, hits = retrieve(kb_index, plain, tk, tk.crops_in(plain))
    assert evidence(searched, hits, kb_index, tk).unknown == 0
