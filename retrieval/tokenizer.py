"""Chinese tokenizer: jieba with the domain dictionary, stopwords dropped, aliases expanded."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

import jieba

from knowledge.lexicons import Lexicon, default_lexicon

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)  # its own stderr handler is chatty at DEBUG

Tokenize = Callable[[str], list[str]]

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_lock = threading.Lock()
_shared: Tokenizer | None = None


class Tokenizer:
    """Callable ``text -> tokens`` for indexing and queries.

    Words found in the lexicons are kept whole (稻瘟病, 茵红李); a crop or pest alias also
    yields its canonical name (洋芋 -> 马铃薯) so that both spellings meet in the index.
    """

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or default_lexicon()
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for word in self.lexicon.user_words():
            # high enough that a domain word beats a split into common words (土壤酸|化)
            self._jieba.add_word(word, freq=50_000)
        self._stop = self.lexicon.stopwords
        # Short pest aliases (疫病, 黑斑) are too generic to expand to one specific name.
        pests = {a: n for a, n in self.lexicon.pest_alias.items() if len(a) >= 3}
        self._canon = {**pests, **self.lexicon.crop_alias}
        self._cache: dict[str, list[str]] = {}

    def words(self, text: str) -> list[str]:
        """Plain segmentation (precise mode) without stopword filtering, for understanding."""
        return [w for w in self._jieba.lcut(text, HMM=True) if w.strip()]

    def __call__(self, text: str) -> list[str]:
        """Search words plus character bigrams (cached for short texts, which repeat)."""
        if len(text) > 200:
            return self._tokens(text)
        cached = self._cache.get(text)
        if cached is None:
            if len(self._cache) >= 20_000:
                self._cache.clear()
            cached = self._cache[text] = self._tokens(text)
        return list(cached)

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


def shared_tokenizer() -> Tokenizer:
    """One tokenizer per process: jieba's dictionary is loaded once."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Tokenizer()
        return _shared
