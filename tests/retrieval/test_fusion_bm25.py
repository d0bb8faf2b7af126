"""Fusion, BM25 scoring and persistence, the tokenizer."""

from __future__ import annotations

import pytest

from retrieval.bm25 import BM25Index
from retrieval.fusion import rrf
from retrieval.tokenizer import shared_tokenizer


def test_rrf_weights_and_dedup():
    fused = rrf([["a", "b", "c"], ["c", "a", "a"]], weights=[1.0, 1.0], c=60)
    ids = [i for i, _ in fused]
    assert ids[0] == "a"  # 1/61 + 1/62 beats c's 1/63 + 1/61
    assert sorted(ids) == ["a", "b", "c"]
    only_second = rrf([["a", "b"], ["b", "a"]], weights=[0.0, 1.0])
    assert [i for i, _ in only_second] == ["b", "a"]
    assert rrf([[], []]) == []
    with pytest.raises(ValueError, match="2 weights for 1"):
        rrf([["a"]], weights=[1, 2])


def test_bm25_ranks_coverage_and_persists(tmp_path):
    docs = {
        "blast": ["稻瘟病", "水稻", "防治", "三环唑"],
        "rust": ["条锈病", "小麦", "防治"],
        "pig": ["猪", "腹泻"],
    }
    index = BM25Index().build(list(docs), list(docs.values()))
    hits = index.search(["稻瘟病", "防治"], k=5)
    assert [h.id for h in hits] == ["blast", "rust"]
    assert hits[0].coverage == pytest.approx(1.0)
    assert 0 < hits[1].coverage < 1
    assert index.search(["股票"]) == []
    partial = index.search(["稻瘟病", "股票"])
    assert partial[0].coverage < 0.6  # an unknown word lowers how much is covered
    index.save(tmp_path)
    again = BM25Index.load(tmp_path)
    assert [h.id for h in again.search(["稻瘟病", "防治"])] == ["blast", "rust"]


def test_tokenizer_keeps_domain_words_and_expands_aliases():
    tk = shared_tokenizer()
    tokens = tk("我家洋芋得了晚疫病咋个办")
    assert "晚疫病" in tokens
    assert "马铃薯" in tokens  # alias 洋芋 also yields the canonical name
    assert "咋个" not in tokens  # dialect filler is a stopword
    assert "茵红李" in tk.search_words("茵红李流胶") and "李" in tk.search_words("茵红李流胶")
