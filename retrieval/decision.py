"""Whether to answer: a calibrated probability that the best article answers the question.

A fixed floor on the retriever's confidence (the share of the question's IDF weight an article
covers) turned away most questions typed the way people talk: 啥子, 好久, 屋头 and typos are
words no article contains. The decision instead reads a few pieces of evidence about the hits
and weighs them with a logistic model fitted offline on labelled answerable and unanswerable
questions (``tianfu bench calibrate`` prints the weights below and the threshold's precision
and recall).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields

from retrieval.index import Hit, HybridIndex
from retrieval.tokenizer import Tokenize, Tokenizer

_WORD = re.compile(r"^(?:[\u4e00-\u9fff]{2,}|[a-z0-9]{2,})$")


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the hits say about a question, each in 0..1.

    Attributes:
        confidence: the best hit's confidence (share of the question's IDF weight covered).
        margin: how far the best hit's confidence is ahead of the second's.
        title: share of the question's content words found in the best article's title.
        typical: share found in its tags and typical questions.
        coverage: share found anywhere in the article (fillers and stopwords left out).
        named: share of the crops, pests and diseases the question names that it mentions.
        unnamed: 1 when the question names a crop, pest or disease the article never mentions.
    """

    confidence: float = 0.0
    margin: float = 0.0
    title: float = 0.0
    typical: float = 0.0
    coverage: float = 0.0
    named: float = 0.0
    unnamed: float = 0.0

    def vector(self) -> tuple[float, ...]:
        return astuple(self)


FEATURES = tuple(f.name for f in fields(Evidence))
# Fitted by `tianfu bench calibrate` (logistic regression; tune split + unanswerable
# CMRC2018 questions); paste its output here when the corpus or the evidence changes.
WEIGHTS: dict[str, float] = {
    "confidence": 3.341,
    "margin": 1.613,
    "title": 1.861,
    "typical": 3.893,
    "coverage": 2.383,
    "named": 2.482,
    "unnamed": 0.368,
}
BIAS = -4.583
# Answer when the probability reaches this (chosen so that >= 95 % of unanswerable tune
# questions still get the honest no-answer under cross-validation).
THRESHOLD = 0.5


def probability(
    ev: Evidence, weights: dict[str, float] | None = None, bias: float = BIAS
) -> float:
    """The model's probability that the best hit answers the question."""
    w = WEIGHTS if weights is None else weights
    z = bias + sum(w[name] * value for name, value in zip(FEATURES, ev.vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def content_words(question: str, tokenize: Tokenize) -> list[str]:
    """The question's words that carry content: no stopwords, fillers or single characters."""
    if isinstance(tokenize, Tokenizer):
        vocab = tokenize.vocabulary
        skip = vocab.stopwords | vocab.fillers
        words = tokenize.words(question.lower())
    else:
        skip = frozenset()
        words = tokenize(question.lower())
    out: list[str] = []
    for w in words:
        if w not in skip and _WORD.match(w) and w not in out:
            out.append(w)
    return out


def _found(word: str, text: str, canon: dict[str, str]) -> float:
    """1 when *text* holds the word (or its canonical name), 0.5 for a part of a long word."""
    if word in text or (word in canon and canon[word] in text):
        return 1.0
    if len(word) >= 3 and any(word[i : i + 2] in text for i in range(len(word) - 1)):
        return 0.5
    return 0.0


def _share(words: Sequence[str], text: str, canon: dict[str, str]) -> float:
    if not words:
        return 0.0
    return sum(_found(w, text, canon) for w in words) / len(words)


def evidence(
    question: str, hits: Sequence[Hit], index: HybridIndex, tokenize: Tokenize
) -> Evidence:
    """The evidence for answering *question* with the first of *hits*."""
    if not hits:
        return Evidence()
    top = hits[0]
    second = hits[1].confidence if len(hits) > 1 else 0.0
    meta = top.metadata
    title = str(meta.get("title") or top.title)
    typical = "\n".join(_strings(meta.get("tags")) + _strings(meta.get("questions")))
    body = "\n".join(index.chunk_texts(top.doc_id)) or top.text
    whole = "\n".join((title, typical, body, " ".join(_strings(meta.get("crops")))))
    words = content_words(question, tokenize)
    canon: dict[str, str] = {}
    names: list[str] = []
    if isinstance(tokenize, Tokenizer):
        vocab = tokenize.vocabulary
        canon = {**vocab.pest_alias, **vocab.crop_alias}
        names = [w for w in words if w in canon]
    named = _share(names, whole, canon) if names else 0.0
    unnamed = float(any(_found(n, whole, canon) == 0.0 for n in names))
    return Evidence(
        confidence=top.confidence,
        margin=max(0.0, top.confidence - second),
        title=_share(words, title, canon),
        typical=_share(words, typical, canon),
        coverage=_share(words, whole, canon),
        named=named,
        unnamed=unnamed,
    )


def _strings(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if value is None or value == "":
        return []
    return [v for v in str(value).split("|") if v]
