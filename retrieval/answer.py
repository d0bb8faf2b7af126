"""Science answers without an LLM: a concise extract of the best article, citations, follow-ups."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from retrieval.decision import THRESHOLD, evidence, names_in_title, pests_named, probability
from retrieval.extract import EXTRACT_CHARS, aspects, extract
from retrieval.index import Hit, HybridIndex
from retrieval.safety import BAN_DOC, BAN_TITLE, PesticideGuard, PesticideRule
from retrieval.tokenizer import Tokenize, Tokenizer

__all__ = [
    "EXTRACT_CHARS",
    "Answer",
    "Citation",
    "answer",
    "as_list",
    "ban_answer",
    "extract",
    "order_hits",
    "prefer_crop",
    "prefer_named",
    "prefer_pests",
    "retrieve",
]


# what people call the insects they see (小虫子, 蛆, 蚜虫, 红蜘蛛螨, 飞虱, 介壳虫蚧, 蝽, 蝗)
_INSECT = re.compile(r"虫|蛆|蛾|蚜|螨|虱|蚧|蝽|蝗")


@dataclass(frozen=True, slots=True)
class Citation:
    doc_id: str
    title: str
    source: str


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    answered: bool
    text: str = ""
    citations: tuple[Citation, ...] = ()
    followups: tuple[str, ...] = ()
    hits: tuple[Hit, ...] = field(default=(), repr=False)
    log_id: int | None = None  # the caller's record of this question (for 有用 / 没用)
    score: float = 0.0  # the calibrated probability that the best hit answers the question

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def answer(
    index: HybridIndex,
    question: str,
    tokenize: Tokenize,
    *,
    k: int = 5,
    threshold: float = THRESHOLD,
    crops: set[str] | None = None,
    guard: PesticideGuard | None = None,
    asking: str = "",
) -> Answer:
    """Answer *question* from the knowledge index, or say honestly that it cannot.

    The answer is given when the calibrated probability that the best hit answers the
    question (:mod:`retrieval.decision`) reaches *threshold*. *crops* are the crops the asker
    is talking about when the caller knows them already (from understanding the message);
    otherwise they are read from the question. With a *guard*, a question about a banned or
    restricted pesticide is answered with the ban and legal alternatives, and no sentence
    recommending a banned product leaves in an extract. *asking* is what the person typed
    when *question* is a follow-up rewritten with the last subject ("那在外头呢" searched as
    a lightning question): the extract answers what it asks and stresses its own words.
    """
    question = question.strip()
    if crops is None:
        crops = tokenize.crops_in(question) if isinstance(tokenize, Tokenizer) else set()
    searched, hits = retrieve(index, question, tokenize, crops, k=k)
    if guard is not None and (banned := guard.asked_about(question)):
        return ban_answer(guard, question, banned, crops | guard.crops_in(question), hits)
    score = probability(evidence(searched, hits, index, tokenize)) if hits else 0.0
    if score < threshold:
        return Answer(question, False, hits=hits, score=score)
    best = hits[0]
    body = "\n".join(index.chunk_texts(best.doc_id)) or best.text
    typed = tokenize.standard(asking) if asking and isinstance(tokenize, Tokenizer) else asking
    text = extract(
        body,
        tokenize(searched),
        typed if aspects(typed) else searched,
        title=best.title,
        stress=tokenize(typed) if typed else (),
    )
    if guard is not None:
        about = crops | set(as_list(best.metadata.get("crops")))
        text = guard.scrub(text, sorted(about))
        if not text:  # everything it would say recommends a banned product
            return Answer(question, False, hits=hits, score=score)
    # The extract comes from the best article only, so that is the one to cite: listing
    # neighbours that merely share words (稻曲病 under a 稻瘟病 answer) would mislead.
    citations = (Citation(best.doc_id, best.title, str(best.metadata.get("source", ""))),)
    asked = set(tokenize(question))
    followups: list[str] = []
    for h in hits:
        for q in as_list(h.metadata.get("questions")):
            if not q or q in followups:
                continue
            overlap = len(asked & set(tokenize(q))) / max(1, len(asked))
            if overlap < 0.6:  # not just the same question again
                followups.append(q)
            if len(followups) >= 3:
                break
        if len(followups) >= 3:
            break
    return Answer(question, True, text, citations, tuple(followups), hits, score=score)


def retrieve(
    index: HybridIndex, question: str, tokenize: Tokenize, crops: set[str], *, k: int = 5
) -> tuple[str, tuple[Hit, ...]]:
    """The question as searched (in the words articles use: :meth:`Tokenizer.standard`) and
    its hits in the order the answer reads them; what the decision and the extract read."""
    searched = tokenize.standard(question) if isinstance(tokenize, Tokenizer) else question
    hits = tuple(index.search(searched, k=k)) if searched else ()
    return searched, order_hits(hits, searched, tokenize, crops)


def ban_answer(
    guard: PesticideGuard,
    question: str,
    banned: Sequence[PesticideRule],
    crops: set[str],
    hits: tuple[Hit, ...] = (),
) -> Answer:
    """The ban of the products *question* asks about, cited as the national list."""
    rules = list(banned)
    notices = "；".join(dict.fromkeys(r.notice for r in rules))
    text = guard.explain(rules, sorted(crops))
    return Answer(
        question,
        True,
        text,
        (Citation(BAN_DOC, BAN_TITLE, notices),),
        hits=hits,
        score=1.0,
    )


def order_hits(
    hits: Sequence[Hit], question: str, tokenize: Tokenize, crops: set[str]
) -> tuple[Hit, ...]:
    """The search's hits in the order the answer reads them: crop agreement first, then
    articles whose title names the pest or disease asked about, a pest article before a
    disease article of the same crop when the question speaks of insects, then the search's
    order."""
    names = pests_named(question, tokenize)
    return prefer_crop(prefer_pests(prefer_named(hits, names, tokenize), question, names), crops)


def prefer_pests(hits: Sequence[Hit], question: str, names: Sequence[str]) -> tuple[Hit, ...]:
    """A pest article of the top hit's crops first when the top is a disease article and the
    question speaks of insects: "树干上好多虫眼 流胶" is about the borer making the holes,
    "嫩梢上有种小虫子 听说会传黄龙病" about the psyllid, not the disease it spreads. Insect
    words inside a name the question gives (茎线虫) do not count."""
    rest = question
    for name in names:
        rest = rest.replace(name, " ")
    if len(hits) < 2 or not _INSECT.search(rest) or hits[0].metadata.get("category") != "disease":
        return tuple(hits)
    crops = set(as_list(hits[0].metadata.get("crops")))
    for i, hit in enumerate(hits[1:], start=1):
        theirs = set(as_list(hit.metadata.get("crops")))
        if hit.metadata.get("category") == "pest" and (not crops or crops & theirs):
            return (hit, *hits[:i], *hits[i + 1 :])
    return tuple(hits)


def prefer_named(hits: Sequence[Hit], names: Sequence[str], tokenize: Tokenize) -> tuple[Hit, ...]:
    """Hits whose title names one of the pests or diseases *names* first (stable): an
    article about 辣椒疫病 answers "是疫病不" better than a seedling article that mentions it."""
    if not names:
        return tuple(hits)
    return tuple(sorted(hits, key=lambda h: not names_in_title(h.title, names, tokenize)))


def prefer_crop(hits: Sequence[Hit], crops: set[str]) -> tuple[Hit, ...]:
    """Demote hits about other crops when the question names a crop (crop agreement)."""
    if not crops:
        return tuple(hits)

    def agrees(hit: Hit) -> bool:
        theirs = set(as_list(hit.metadata.get("crops")))
        return not theirs or bool(theirs & crops)

    out = []
    for hit in hits:
        if agrees(hit):
            out.append(hit)
        else:
            out.append(replace(hit, confidence=hit.confidence * 0.6))
    return tuple(sorted(out, key=lambda h: (not agrees(h),)))


def as_list(value: object) -> list[str]:
    """A metadata value as a list of strings (lists stay lists; Chroma's 'a|b' is split)."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split("|") if v.strip()]
