"""The knowledge gap as a curator reads it: questions asked in different words about the same
thing counted together (黄笼病能治好不, 柑橘黄龙病咋个治 and 黄龙病有得治没得 are one gap).

Rows come from store.feedback.knowledge_gaps, one per distinct question text. Each question is
reduced to its content: typos corrected and traditional characters simplified
(dialogs.nlu.normalise), crop and pest names by their canonical name (洋芋 and 土豆 are both
马铃薯), stopwords and colloquial fillers (啥子, 咋个, 得很) dropped. Two questions of the same
kind are one gap when they name the same pest or disease, or when most of the shorter one's
content is in the other and what they share is a crop or at least two words. The most asked
wording names the gap; the others are kept as its variants. Articles rated 没用 are never merged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from dialogs.nlu.normalise import normalise
from knowledge.lexicons import default_lexicon
from retrieval.tokenizer import shared_tokenizer
from store.feedback import GapRow

OVERLAP = 0.6  # share of the shorter question's content words found in the other
VARIANTS = 3  # other wordings kept per gap
RAW_PER_GAP = 5  # raw rows read per gap shown: enough for the wordings to merge


@lru_cache(maxsize=4096)
def content(text: str) -> frozenset[str]:
    """The content words of a question, canonical names for crops and pests."""
    lexicon = default_lexicon()
    tokenizer = shared_tokenizer(lexicon.vocabulary())
    words: set[str] = set()
    for word in tokenizer.search_words(normalise(text, lexicon).text):
        word = lexicon.crop_alias.get(word) or lexicon.pest_alias.get(word) or word
        if word in lexicon.fillers or word in lexicon.stopwords:
            continue
        if len(word) > 1 or word in lexicon.crops:  # 不, 打, 治: too common to tell apart
            words.add(word)
    return frozenset(words)


def same_gap(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two questions' content words ask about the same thing."""
    shared = a & b
    if not shared:
        return False
    lexicon = default_lexicon()
    if any(w in lexicon.pests_diseases for w in shared):
        return True
    if len(shared) / min(len(a), len(b)) < OVERLAP:
        return False
    return len(shared) >= 2 or any(w in lexicon.crops for w in shared)


def grouped(rows: Iterable[GapRow], limit: int) -> list[GapRow]:
    """*rows* with the wordings of one question merged: counts added, the most asked wording
    first with the others as variants; most asked first, at most *limit*."""
    groups: list[tuple[frozenset[str], GapRow, list[str]]] = []
    for row in sorted(rows, key=lambda r: (-r.count, -r.last_at.timestamp(), r.text)):
        key = content(row.text) if row.kind != "article" else frozenset()
        for i, (gkey, head, variants) in enumerate(groups):
            if key and head.kind == row.kind and same_gap(gkey, key):
                groups[i] = (
                    gkey,
                    replace(
                        head,
                        count=head.count + row.count,
                        last_at=max(head.last_at, row.last_at),
                        article_id=head.article_id or row.article_id,
                    ),
                    variants,
                )
                variants.append(row.text)
                break
        else:
            groups.append((key, row, []))
    out = [replace(head, variants=tuple(v[:VARIANTS])) for _, head, v in groups]
    out.sort(key=lambda r: (-r.count, -r.last_at.timestamp(), r.text))
    return out[: max(0, limit)]
