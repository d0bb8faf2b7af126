"""Chinese tokenizer: jieba with the domain dictionary, stopwords dropped, aliases expanded."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import jieba

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)  # its own stderr handler is chatty at DEBUG

Tokenize = Callable[[str], list[str]]

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_DOUBLE = re.compile(r"([\u4e00-\u9fff])\1")
# a doubled character this frequent in jieba's dictionary is a word (天天 1855, 斑斑 283),
# not child talk or dialect (水水 0, 边边 3, 泡泡 74)
_COMMON_DOUBLE = 100
# what follows a surname, not a crop (李专家, 牛老师)
_TITLE = re.compile(r"老师|专家|师傅|医生|教授|主任|书记|站长|经理|总|老板|哥|姐|叔|嬢|先生")
_lock = threading.Lock()
_shared: Tokenizer | None = None


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The domain words retrieval needs, handed over as data by the wiring (retrieval never
    reads the lexicon files itself).

    Attributes:
        words: domain words kept whole by the segmenter (稻瘟病, 茵红李).
        stopwords: words dropped from search tokens.
        crop_alias: crop name or alias -> canonical crop (洋芋 -> 马铃薯).
        pest_alias: pest or disease name or alias -> canonical name.
        fillers: colloquial words that carry no content (啥子, 好久, 屋头): still searched,
            but left out when judging how much of a question an article covers.
        dialect: dialect or colloquial word -> the standard word articles use (脑壳 -> 头,
            拉稀 -> 腹泻), applied to questions by :meth:`Tokenizer.standard`.
    """

    words: frozenset[str] = frozenset()
    stopwords: frozenset[str] = frozenset()
    crop_alias: Mapping[str, str] = field(default_factory=dict)
    pest_alias: Mapping[str, str] = field(default_factory=dict)
    fillers: frozenset[str] = frozenset()
    dialect: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        *,
        words: Iterable[str],
        stopwords: Iterable[str],
        crop_alias: Mapping[str, str],
        pest_alias: Mapping[str, str],
        fillers: Iterable[str] = (),
        dialect: Mapping[str, str] | None = None,
    ) -> Vocabulary:
        """A vocabulary from any iterables and mappings (copied, so later edits do not leak)."""
        return cls(
            frozenset(words),
            frozenset(stopwords),
            dict(crop_alias),
            dict(pest_alias),
            frozenset(fillers),
            dict(dialect or {}),
        )


class Tokenizer:
    """Callable ``text -> tokens`` for indexing and queries.

    Words of the vocabulary are kept whole (稻瘟病, 茵红李); a crop or pest alias also
    yields its canonical name (洋芋 -> 马铃薯) so that both spellings meet in the index.
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for word in sorted(vocabulary.words | set(vocabulary.dialect)):
            if len(word) >= 2:
                # high enough that a domain word beats a split into common words (土壤酸|化)
                self._jieba.add_word(word, freq=50_000)
        self._stop = vocabulary.stopwords
        # Short pest aliases (疫病, 黑斑) are too generic to expand to one specific name.
        pests = {a: n for a, n in vocabulary.pest_alias.items() if len(a) >= 3}
        # A dialect word in an article (its typical questions are written the way people
        # talk: 老汉突然嘴巴歪了) also yields the standard word a question is searched with.
        spoken = {
            d: w
            for d, w in vocabulary.dialect.items()
            if len(d) >= 2 and d not in self._stop and w not in self._stop
        }
        self._canon = {**spoken, **pests, **vocabulary.crop_alias}
        # every pest and crop name -> its canonical name, for judging answers: merged once
        # (some 3 500 names: merging them per question cost more than the rest of the check)
        self.aliases: dict[str, str] = {**vocabulary.pest_alias, **vocabulary.crop_alias}
        # a word -> the other ways an article may write it: a crop's or pest's canonical
        # name for its alias, the dialect words for a standard word (老汉 for 父亲)
        self.forms: dict[str, tuple[str, ...]] = {}
        for d, w in spoken.items():
            self.forms[w] = (*self.forms.get(w, ()), d)
        for alias, name in self.aliases.items():
            self.forms[alias] = (name, *self.forms.get(alias, ()))
        # a pest's or disease's name -> every name of it (缺氧 -> 缺氧浮头, 泛塘)
        group: dict[str, list[str]] = {}
        for alias, name in vocabulary.pest_alias.items():
            group.setdefault(name, [name]).extend([alias] if len(alias) >= 2 else [])
        self.pest_names: dict[str, tuple[str, ...]] = {
            alias: tuple(dict.fromkeys(group[name]))
            for alias, name in vocabulary.pest_alias.items()
        }
        # longest first, so that 李子 is not read as 李
        self._crop_names = sorted(
            (a for a in vocabulary.crop_alias if len(a) >= 2), key=len, reverse=True
        )
        self._crop_rank = {a: i for i, a in enumerate(self._crop_names)}
        self._crop_single = frozenset(a for a in vocabulary.crop_alias if len(a) == 1)
        self._crop_len = (
            (min(map(len, self._crop_names)), max(map(len, self._crop_names)))
            if self._crop_names
            else (1, 0)
        )
        # short texts repeat (control words, questions asked again): segmented once
        self._cache: dict[str, tuple[str, ...]] = {}
        self._words_cache: dict[str, tuple[str, ...]] = {}

    def crops_in(self, text: str) -> set[str]:
        """Canonical crops named in *text* (longest aliases first, so 李子 is not read as 李)."""
        found: set[str] = set()
        rest = text
        # only the aliases present (every substring looked up, not every alias searched for),
        # in the same longest-first order
        shortest, longest = self._crop_len
        present = {
            text[i:j]
            for i in range(len(text))
            for j in range(i + shortest, min(i + longest, len(text)) + 1)
            if text[i:j] in self._crop_rank
        }
        for alias in sorted(present, key=self._crop_rank.__getitem__):
            if alias in rest:
                found.add(self.vocabulary.crop_alias[alias])
                rest = rest.replace(alias, " ")
        # a one-character name (牛, 羊, 鸡, 茶) only where the segmenter reads it as a word of
        # its own: "牛吃了苜蓿" names 牛, 牛奶 and 喝茶 do not; nor does a surname before a
        # title (李专家) or after 姓
        words = self.words(rest) if self._crop_single.intersection(rest) else []
        for i, word in enumerate(words):
            if word in self._crop_single:
                after = words[i + 1] if i + 1 < len(words) else ""
                before = words[i - 1] if i else ""
                if not (_TITLE.match(after) or before.endswith("姓")):
                    found.add(self.vocabulary.crop_alias[word])
        return found

    def standard(self, text: str) -> str:
        """*text* in the words articles use: dialect words replaced (脑壳痛 -> 头痛, 拉稀 ->
        腹泻) and a noun doubled the way people talk to children or in dialect made single
        (红水水 -> 红水, 虫虫 -> 虫, 边边 -> 边), unless the doubled form is a common word of
        its own (天天, 慢慢, 娃娃) or a domain word."""
        dialect = self.vocabulary.dialect
        out: list[str] = []
        loose: list[str] = []  # words outside domain words, where doubles may be made single
        for word in [*self._jieba.lcut(text, HMM=True), ""]:
            if word in self.vocabulary.words or not word:
                out.append(_DOUBLE.sub(self._single, "".join(loose)))
                out.append(word)
                loose = []
            else:
                loose.append(dialect.get(word, word))
        return "".join(out)

    def _single(self, m: re.Match[str]) -> str:
        pair = m.group(0)
        return pair if self._jieba.FREQ.get(pair, 0) >= _COMMON_DOUBLE else pair[0]

    def known(self, word: str) -> bool:
        """Whether the dictionary (jieba's or the domain vocabulary) holds *word*, as opposed
        to a word the segmenter guessed (那用, 杆杆)."""
        return bool(self._jieba.FREQ.get(word)) or word in self.vocabulary.words

    def words(self, text: str) -> list[str]:
        """Plain segmentation (precise mode) without stopword filtering, for understanding
        (cached for short texts)."""
        return _remembered(self._words_cache, text, self._words)

    def _words(self, text: str) -> list[str]:
        return [w for w in self._jieba.lcut(text, HMM=True) if w.strip()]

    def __call__(self, text: str) -> list[str]:
        """Search words plus character bigrams (cached for short texts, which repeat)."""
        return _remembered(self._cache, text, self._tokens)

    def _tokens(self, text: str) -> list[str]:
        """Search words plus character bigrams, from one jieba pass.

        Search words are jieba's search mode (a long word and its dictionary sub-words);
        bigrams are taken only inside runs of content words: 辣椒|得了|炭疽病 gives 辣椒 炭疽
        疽病, not the noise 椒得 得了 了炭 that would dilute how much of a query a text covers.
        """
        out: list[str] = []
        run: list[str] = []
        for word in [*self._jieba.lcut(text.lower(), HMM=True), "。"]:
            token = word.strip()
            content = bool(token) and token not in self._stop and _KEEP.search(token) is not None
            if content:
                self._emit_search_words(token, out)
            if content and _CJK.search(token):
                run.extend(_CJK.findall(token))
            else:
                out.extend(run[i] + run[i + 1] for i in range(len(run) - 1))
                run = []
        return out

    def search_words(self, text: str) -> list[str]:
        """Search-mode words without stopwords; lexicon aliases add their canonical name."""
        out: list[str] = []
        for word in self._jieba.lcut(text.lower(), HMM=True):
            token = word.strip()
            if token and token not in self._stop and _KEEP.search(token):
                self._emit_search_words(token, out)
        return out

    def _emit_search_words(self, token: str, out: list[str]) -> None:
        # what jieba's cut_for_search yields for one word, without segmenting twice
        freq = self._jieba.FREQ
        if len(token) > 2:
            for n in (2, 3):
                if len(token) > n:
                    for i in range(len(token) - n + 1):
                        gram = token[i : i + n]
                        if freq.get(gram) and gram not in self._stop:
                            out.append(gram)
        out.append(token)
        canon = self._canon.get(token)
        if canon is not None and canon != token:
            out.append(canon)


def shared_tokenizer(vocabulary: Vocabulary | None = None) -> Tokenizer:
    """One tokenizer per process, so jieba's dictionary is loaded once.

    The wiring (``bot.app.build_services``, test fixtures) calls this first with the domain
    vocabulary; later calls without one get that tokenizer. A different vocabulary replaces it.

    Raises:
        RuntimeError: called without a vocabulary before any was given.
    """
    global _shared
    with _lock:
        if vocabulary is not None and (_shared is None or _shared.vocabulary != vocabulary):
            _shared = Tokenizer(vocabulary)
        if _shared is None:
            msg = (
                "shared_tokenizer() needs the domain vocabulary first: "
                "call shared_tokenizer(vocabulary) from the wiring"
            )
            raise RuntimeError(msg)
        return _shared


_CACHED_CHARS = 200  # longer texts (articles being indexed) are not kept
_CACHED_TEXTS = 20_000  # per cache; emptied when full


def _remembered(
    cache: dict[str, tuple[str, ...]], text: str, compute: Callable[[str], list[str]]
) -> list[str]:
    """*compute(text)*, kept in *cache* for short texts; a new list for every caller."""
    if len(text) > _CACHED_CHARS:
        return compute(text)
    cached = cache.get(text)
    if cached is None:
        if len(cache) >= _CACHED_TEXTS:
            cache.clear()
        cached = cache[text] = tuple(compute(text))
    return list(cached)
