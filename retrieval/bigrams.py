"""Character-bigram overlap: evidence that survives typos, dialect and loose segmentation.

Words miss where people type differently from articles: 苞谷 vs 玉米 is an alias, but 黄笼病,
叶子边边发焦, 屁股翘起 or 打完敌敌畏 segment into words no article holds, while their character
pairs (边发, 发焦, 敌敌, 敌畏) still meet the article's text. Bigrams are taken inside runs of
content: fillers (啥子, 屋头, 得很) and stopwords break a run, so "咋个办" adds nothing, and
every pair is weighed by its rarity in the corpus (its BM25 IDF: the tokenizer indexes these
pairs too), so 浮头 counts for more than 叶子.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence, Set
from functools import lru_cache

from retrieval.bm25 import BM25Index
from retrieval.tokenizer import Tokenize, Tokenizer

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def content_bigrams(text: str, tokenize: Tokenize) -> list[str]:
    """The distinct character pairs of *text*'s content runs, in order."""
    text = text.lower()
    if isinstance(tokenize, Tokenizer):
        vocab = tokenize.vocabulary
        skip = vocab.stopwords | vocab.fillers
        text = " ".join(w if w not in skip else " " for w in tokenize.words(text))
    out: dict[str, None] = {}
    for run in _CJK_RUN.findall(text):
        for i in range(len(run) - 1):
            out.setdefault(run[i : i + 2])
    return list(out)


@lru_cache(maxsize=4096)
def bigram_set(text: str) -> frozenset[str]:
    """Every character pair of *text*'s Chinese runs (what a question's pairs are looked up in).

    Remembered: the texts are mostly articles, their titles and typical questions, read
    again for every question they answer (settled data, not worth pairing every time)."""
    return frozenset(run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1))


class Rarity:
    """IDF weights of tokens (words, pairs) read from the lexical index (unseen ones weigh the
    most)."""

    def __init__(self, bm25: BM25Index) -> None:
        self._bm25 = bm25
        self.rarest = math.log1p((len(bm25) + 0.5) / 0.5)
        # one question's pairs are weighed for several texts: each looked up once
        self._seen: dict[str, float] = {}

    def __call__(self, gram: str) -> float:
        weight = self._seen.get(gram)
        if weight is None:
            col = self._bm25.vocab.get(gram)
            weight = float(self._bm25.idf[col]) if col is not None else self.rarest
            self._seen[gram] = weight
        return weight


def weighted_share(grams: Sequence[str], held: Set[str], rarity: Rarity) -> float:
    """Share of the rarity weight of *grams* found in *held* (0 when there are none)."""
    weights = [rarity(g) for g in grams]
    total = sum(weights)
    if not total:
        return 0.0
    return sum(w for g, w in zip(grams, weights, strict=True) if g in held) / total


def best_share(grams: Sequence[str], texts: Iterable[str], rarity: Rarity) -> float:
    """The best match of a question to one of *texts* (an article's typical questions): the
    rarity-weighted share of that text's pairs the question holds, times the share of the
    question's pairs the text holds (a paraphrase scores high on both)."""
    asked = set(grams)
    best = 0.0
    for text in texts:
        theirs = _distinct_pairs(text)
        if not theirs or not grams:
            continue
        mine = weighted_share(grams, bigram_set(text), rarity)
        both = weighted_share(theirs, asked, rarity) * mine
        best = max(best, math.sqrt(both))
    return best


@lru_cache(maxsize=4096)
def _distinct_pairs(text: str) -> tuple[str, ...]:
    """The distinct character pairs of *text*, in order (typical questions: settled data)."""
    pairs = (run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1))
    return tuple(dict.fromkeys(pairs))
