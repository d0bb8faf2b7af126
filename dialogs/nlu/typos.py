"""Near-miss spellings of domain terms, corrected against the lexicons and the articles' tags
(step 3 of :func:`dialogs.nlu.normalise.normalise`).

False corrections are worse than missed ones, so a correction needs a window of at least
three Chinese characters that is not itself a known term, does not cut through a known term,
is not a common word, keeps at least one character of the term in place, and matches exactly
one term. A two-character pest, disease or crop name (蜂满 -> 蜂螨, 花焦 -> 花椒) is corrected
only as an exact homophone of the mistyped character's usual reading, when the two characters
are no word of jieba's dictionary and were never written side by side in the bundled articles
(老熟, 剪苗), touch no place name, and the mistyped character makes no word with its
neighbour outside (叶尖|黄, 学生|讲). Over every message, question and article line we hold
(17,000 texts) that corrects 20 typos and one ordinary word (价钱烂贱 -> 烂姜). The index is
built from the lexicon once per process.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

from dialogs.nlu.regions import find_mentions
from knowledge import CORPUS_DIR
from knowledge.ingest import bundled_tags
from knowledge.lexicons import Lexicon, default_vocabulary
from retrieval.tokenizer import shared_tokenizer

MIN_TERM = 3  # shorter terms are too easy to hit by accident ...
PAIR_TERM = 2  # ... except a two-character homophone that is no word of its own (蜂满, 花焦)
MIN_SLIP_TERM = 4  # a non-homophone one-character slip only inside longer terms

_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


@dataclass(frozen=True, slots=True)
class Correction:
    """One spelling fixed: *wrong* at *start* (in the converted text) became *right*."""

    start: int
    wrong: str
    right: str
    kind: str  # "homophone", "slip" or "variant"


def _fuzzy(syllable: str) -> str:
    """A tone-less syllable with the Sichuan confusions folded together.

    n/l, f/h (fu/hu, fang/huang), z/zh, c/ch, s/sh, an/ang, en/eng, in/ing (and ong/on).
    """
    s = syllable
    if s[:2] in ("zh", "ch", "sh"):
        s = s[0] + s[2:]
    if s.startswith("n"):
        s = "l" + s[1:]
    elif s.startswith("f"):
        s = "h" + s[1:]
    if s.startswith("hu") and len(s) > 2 and s[2] in "ao":
        s = "h" + s[2:]  # huang/fang, huo/fo
    if s.endswith("ng"):
        s = s[:-1]
    return s


@lru_cache(maxsize=8192)
def _readings(ch: str) -> frozenset[str]:
    """Every fuzzy reading of one character (polyphones have several)."""
    found = pinyin(ch, style=Style.NORMAL, heteronym=True)
    return frozenset(_fuzzy(s) for s in found[0]) if found else frozenset()


def sounds_alike(a: str, b: str) -> bool:
    """Whether two characters share a reading once the Sichuan confusions are folded."""
    return a == b or bool(_readings(a) & _readings(b))


# Characters that glue words together; a window that differs from a term only in one of
# these at its edge is a term's neighbour read into it (腐烂并 is not 腐烂病, 绵羊都 not 绵羊痘).
_GLUE = frozenset(
    "的地得了着过是在有和与及并都也还又就才把被给让从对向到为以而或但很太更最这那一不没吗呢吧啊呀嘛"
    "打买卖"  # verbs before a term: 打五星 is a rating, not 大五星 (a loquat)
)

# ... and, beside a two-character term, words that stand next to a name (我牛, 一哈子, 塘里鱼)
_PAIR_GLUE = _GLUE | frozenset("我你他她它个哈里只")


@lru_cache(maxsize=8192)
def _usual_reading(ch: str) -> str:
    """The fuzzy reading of *ch* as it is usually read (咬 is yao, not its rare jiao)."""
    return _fuzzy(lazy_pinyin(ch)[0])


Segment = Callable[[str], list[str]]


def _jieba_words(text: str) -> list[str]:
    """Segmentation by the process's shared tokenizer (the domain words kept whole)."""
    try:
        tokenizer = shared_tokenizer()
    except RuntimeError:
        tokenizer = shared_tokenizer(default_vocabulary())
    return tokenizer.words(text)


def _known_word(word: str) -> bool:
    """Whether jieba's dictionary or the domain vocabulary holds *word*."""
    try:
        tokenizer = shared_tokenizer()
    except RuntimeError:
        tokenizer = shared_tokenizer(default_vocabulary())
    return tokenizer.known(word)


def words(text: str) -> list[str]:
    """The words of *text* as jieba segments them with the domain dictionary."""
    return _jieba_words(text)


class TypoIndex:
    """Domain terms by their ends, built once per lexicon.

    A term of n >= 3 characters typed with one character wrong keeps its first two, its
    last two or its first and last characters, so three dictionary probes per window find
    every candidate; the wrong character then has to sound like the right one (a homophone)
    or, in terms of four or more characters, sit inside the term (a slip).
    """

    def __init__(
        self,
        terms: Iterable[str],
        known: Iterable[str],
        variants: Mapping[str, str],
        segment: Segment = _jieba_words,
        is_word: Callable[[str], bool] | None = None,
        attested: Iterable[str] = (),
        pairs: Iterable[str] = (),
    ) -> None:
        self.terms = frozenset(t for t in terms if len(t) >= MIN_TERM and _CJK.match(t))
        self.pairs = frozenset(t for t in pairs if len(t) == PAIR_TERM and _CJK.match(t))
        self.by_char: dict[tuple[int, str], list[str]] = defaultdict(list)
        for term in sorted(self.pairs):
            for i, ch in enumerate(term):
                self.by_char[(i, ch)].append(term)
        self.is_word = is_word or _known_word
        # two characters written together in carefully edited text (老熟, 剪苗, 保果): a
        # word of the trade even where no dictionary holds it, so never a typo
        self.attested = frozenset(attested)
        self.known: dict[str, list[str]] = defaultdict(list)  # by first character
        for word in sorted({w for w in known if len(w) >= 2}):
            self.known[word[0]].append(word)
        self.variants = dict(variants)
        self.segment = segment
        self.by_ends: dict[str, list[str]] = defaultdict(list)
        for term in sorted(self.terms):
            for key in _ends(term):
                self.by_ends[key].append(term)
        self.lengths = sorted({len(t) for t in self.terms}, reverse=True)
        self.firsts: dict[int, frozenset[str]] = {
            n: frozenset(t[0] for t in self.terms if len(t) == n) for n in self.lengths
        }
        self.lasts: dict[int, frozenset[str]] = {
            n: frozenset(t[-1] for t in self.terms if len(t) == n) for n in self.lengths
        }

    def corrections(self, text: str) -> list[Correction]:
        """Non-overlapping corrections in *text*, longest windows first, in text order."""
        found: list[Correction] = []
        for variant, right in self.variants.items():
            at = text.find(variant)
            while at >= 0:
                found.append(Correction(at, variant, right, "variant"))
                at = text.find(variant, at + len(variant))
        if len(text) < MIN_TERM:
            return found
        taken = [False] * len(text)
        for c in found:
            taken[c.start : c.start + len(c.wrong)] = [True] * len(c.wrong)
        run = [0] * (len(text) + 1)  # how many Chinese characters start at each position
        for i in range(len(text) - 1, -1, -1):
            run[i] = run[i + 1] + 1 if "\u4e00" <= text[i] <= "\u9fff" else 0
        context: _Context | None = None
        for n in self.lengths:
            firsts, lasts = self.firsts[n], self.lasts[n]
            for start in range(len(text) - n + 1):
                end = start + n
                # every candidate shares the first or the last character with the window
                if run[start] < n or (text[start] not in firsts and text[end - 1] not in lasts):
                    continue
                if any(taken[start:end]):
                    continue
                window = text[start:end]
                if window in self.terms:
                    continue
                hits = self._candidates(window)
                if not hits:
                    continue
                context = context or _Context(text, self.known, self.segment)
                hit = _choose(window, hits, context, start, end)
                if hit is not None:
                    found.append(Correction(start, window, hit[0], hit[1]))
                    taken[start:end] = [True] * n
        for start in range(len(text) - 1):
            if run[start] < PAIR_TERM or taken[start] or taken[start + 1]:
                continue
            window = text[start : start + PAIR_TERM]
            pair = self._pair(window)
            if pair is None:
                continue
            context = context or _Context(text, self.known, self.segment)
            if self._pair_stands(text, start, context, 0 if window[0] != pair[0] else 1):
                found.append(Correction(start, window, pair, "homophone"))
                taken[start : start + PAIR_TERM] = [True, True]
        found.sort(key=lambda c: c.start)
        return found

    def _pair(self, window: str) -> str | None:
        """The one two-character term *window* sounds like with one character mistyped
        (蜂满 -> 蜂螨); None when it is a term or a word itself, or near none or several."""
        if window in self.pairs or window in self.attested or self.is_word(window):
            return None
        if window[0] == window[1]:
            return None  # 蛆蛆, 黑乎乎: a doubled character, said on purpose
        near = {
            term
            for i in (0, 1)
            for term in self.by_char.get((1 - i, window[1 - i]), ())
            if term[i] != window[i]
            and window[i] not in _PAIR_GLUE
            and _usual_reading(window[i]) in _readings(term[i])
        }
        return near.pop() if len(near) == 1 else None

    def _pair_stands(self, text: str, start: int, ctx: _Context, typo: int) -> bool:
        """The two typed characters stand apart from their neighbours: neither belongs to a
        known term, and the mistyped one (*typo*: its index) makes no word with the character
        beside the window (叶尖黄 keeps 叶尖)."""
        end = start + PAIR_TERM
        if ctx.has_known(start, end) or ctx.cuts_known(start, end) or ctx.cuts_word(start, end):
            return False
        if text[start - 1 : start] == text[start] or text[end : end + 1] == text[end - 1]:
            return False  # 黑乎乎
        if any(a < end and start < b for a, b in ctx.places()):
            return False  # 大竹县, 龙马潭: a place's name
        # the mistyped character with its neighbour outside the window (叶尖|黄), and the
        # other one when the neighbour is a word's start (学生|讲)
        beside = text[start - 1 : start + 1] if typo == 0 else text[end - 1 : end + 1]
        if typo == 1 and start > 0 and self.is_word(text[start - 1 : start + 1]):
            return False
        return len(beside) < PAIR_TERM or not (self.is_word(beside) or beside in self.attested)

    def _candidates(self, window: str) -> list[tuple[str, int, str]]:
        """(term, position of the one differing character, kind) near *window*."""
        seen: set[str] = set()
        out: list[tuple[str, int, str]] = []
        for key in _ends(window):
            for term in self.by_ends.get(key, ()):
                if term in seen:
                    continue
                seen.add(term)
                diff = [i for i, (a, b) in enumerate(zip(window, term, strict=True)) if a != b]
                if len(diff) != 1:
                    continue
                i = diff[0]
                if sounds_alike(window[i], term[i]):
                    out.append((term, i, "homophone"))
                elif len(term) >= MIN_SLIP_TERM and 0 < i < len(term) - 1:
                    out.append((term, i, "slip"))
        return out


def _ends(word: str) -> tuple[str, str, str]:
    n = len(word)
    return f"{n}<{word[:2]}", f"{n}>{word[-2:]}", f"{n}|{word[0]}{word[-1]}"


class _Context:
    """What the guards need to know about one message, worked out only when a candidate
    turns up (most messages have none)."""

    def __init__(self, text: str, known: Mapping[str, list[str]], segment: Segment) -> None:
        self.text = text
        self._places: list[tuple[int, int]] | None = None
        self.marks = [0] * len(text)  # id of the known term covering each character
        spans = [
            (at, at + len(word))
            for at, ch in enumerate(text)
            for word in known.get(ch, ())
            if text.startswith(word, at)
        ]
        spans.sort(key=lambda span: (span[0] - span[1], span[0]))  # longest first
        for label, (at, end) in enumerate(spans, start=1):
            if not any(self.marks[at:end]):
                self.marks[at:end] = [label] * (end - at)
        self.bounds: set[int] = set()  # where the segmenter puts word boundaries
        self.words: list[tuple[int, str]] = []
        at = 0
        for word in segment(text):
            at = text.find(word, at)
            if at < 0:
                break
            self.words.append((at, word))
            self.bounds.update((at, at + len(word)))
            at += len(word)

    def places(self) -> list[tuple[int, int]]:
        """Where the message names places (found on first use)."""
        if self._places is None:
            self._places = [(m.start, m.start + len(m.text)) for m in find_mentions(self.text)]
        return self._places

    def cuts_known(self, start: int, end: int) -> bool:
        m = self.marks
        return bool(
            (start > 0 and m[start] and m[start - 1] == m[start])
            or (end < len(m) and m[end - 1] and m[end] == m[end - 1])
        )

    def rest_is_known(self, start: int, end: int, i: int) -> bool:
        """The window without its character *i* (at an edge) is exactly one known term."""
        a, b = (start + 1, end) if i == 0 else (start, end - 1)
        m = self.marks
        return bool(m[a]) and all(x == m[a] for x in m[a:b]) and (b == len(m) or m[b] != m[a])

    def has_known(self, start: int, end: int) -> bool:
        return any(self.marks[start:end])

    def is_known_at(self, at: int) -> bool:
        """The character at *at* belongs to a known term as typed (梨 of 梨子)."""
        return bool(self.marks[at])

    def cuts_word(self, start: int, end: int) -> bool:
        """The window starts or ends inside a word of the segmentation (排|除巴氏杆菌病)."""
        return (start not in self.bounds) or (end not in self.bounds)

    def only_whole_words(self, start: int, end: int) -> bool:
        """The window reads as two or more ordinary words (高温|腐熟), not a broken term."""
        inside = [w for at, w in self.words if start <= at < end]
        return len(inside) >= 2 and all(len(w) >= 2 for w in inside)


def _choose(
    window: str, hits: list[tuple[str, int, str]], ctx: _Context, start: int, end: int
) -> tuple[str, str] | None:
    """The correction for *window*, or None when a guard says it is probably right."""
    if ctx.cuts_known(start, end) or ctx.cuts_word(start, end):
        return None
    kept: list[tuple[str, str]] = []
    for term, i, kind in hits:
        edge = i in (0, len(window) - 1)
        if edge and (window[i] in _GLUE or ctx.rest_is_known(start, end, i)):
            continue  # a neighbour read into the term: 腐烂|并, 挂|实蝇
        if kind == "slip" and (ctx.has_known(start, end) or ctx.only_whole_words(start, end)):
            continue
        if ctx.is_known_at(start + i):
            continue  # the typed character is part of a term of its own: 梨子树 is no 李子树
        kept.append((term, kind))
    homophones = [k for k in kept if k[1] == "homophone"]
    pool = homophones or kept
    if len({term for term, _ in pool}) != 1:
        return None  # none left, or two terms equally near
    return pool[0]


def build_index(lex: Lexicon, topics: Iterable[str] | None = None) -> TypoIndex:
    """A typo index over the lexicon's crop and pest/disease names and aliases and the
    *topics* articles are about (default: the bundled articles' tags), so 心肺复素, 杀充灯
    and 幽门罗杆菌 are spelt as the articles spell them, not only crop and pest names. Every
    topic is also a known word: a window that is a topic with a neighbour read into it
    (地震|躲) is left alone."""
    names = {**lex.crop_alias, **lex.pest_alias}
    variants = {
        alias: canon
        for alias, canon in names.items()
        if alias != canon and len(alias) == len(canon) and lazy_pinyin(alias) == lazy_pinyin(canon)
    }
    about = frozenset(bundled_tags() if topics is None else topics)
    known = [*names, *lex.symptoms, *lex.practices, *lex.fields, *about]
    # two-character names corrected: pests and diseases by any name, crops by their standard
    # one (a variety's or a product's alias is too easily an everyday word: 冻红 is no 东红)
    pairs = [*lex.pest_alias, *lex.crops]
    return TypoIndex({*names, *about}, known, variants, attested=attested_pairs(), pairs=pairs)


@lru_cache(maxsize=1)
def attested_pairs() -> frozenset[str]:
    """Every two Chinese characters written side by side in the bundled articles."""
    pairs: set[str] = set()
    for path in sorted(CORPUS_DIR.glob("*.md")):
        for run in _CJK_RUN.findall(path.read_text(encoding="utf-8")):
            pairs.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(pairs)


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
