"""Fusion, BM25 scoring and persistence, the tokenizer."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
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


def _scores_term_by_term(index: BM25Index, tokens: list[str]) -> dict[str, tuple[float, float]]:
    """BM25 as its definition reads: each query term's postings added in turn (float32)."""
    counts = Counter(tokens)
    m, n = index.matrix, len(index.ids)
    scores, matched = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
    total = np.float32(0)
    for term, rep in counts.items():
        if term not in index.vocab:
            continue
        col = index.vocab[term]
        lo, hi = m.indptr[col], m.indptr[col + 1]
        scores[m.indices[lo:hi]] += m.data[lo:hi] * rep
        matched[m.indices[lo:hi]] += index.idf[col] * rep
        total += index.idf[col] * rep
    unknown = sum(c for t, c in counts.items() if t not in index.vocab)
    total_idf = float(total) + math.log1p((n + 0.5) / 0.5) * unknown
    return {
        index.ids[i]: (float(scores[i]), float(matched[i] / total_idf))
        for i in range(n)
        if scores[i] > 0
    }


def test_bm25_scores_every_posting_exactly_once():
    # the query's postings are summed in one pass (several terms, repeats, unknown words):
    # the same float32 scores and coverage as adding each term's column in turn
    rng = random.Random(7)
    words = [f"词{i}" for i in range(60)]
    docs = [[rng.choice(words) for _ in range(rng.randint(1, 40))] for _ in range(300)]
    index = BM25Index().build([f"d{i}" for i in range(300)], docs)
    for _ in range(200):
        query = [rng.choice([*words, "股票"]) for _ in range(rng.randint(1, 12))]
        expected = _scores_term_by_term(index, query)
        for k in (1, 5, 300):
            hits = index.search(query, k=k)
            assert {h.id: (h.score, h.coverage) for h in hits} == {
                h.id: expected[h.id] for h in hits
            }
            best = sorted(expected.items(), key=lambda item: -item[1][0])[:k]
            assert sorted(h.score for h in hits) == sorted(s for _, (s, _) in best)
