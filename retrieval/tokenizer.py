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
            self._jieba.add_word(word, freq=2000)
        self._stop = self.lexicon.stopwords
        # Short pest aliases (疫病, 黑斑) are too generic to expand to one specific name.
        pests = {a: n for a, n in self.lexicon.pest_alias.items() if len(a) >= 3}
        self._canon = {**pests, **self.lexicon.crop_alias}

    def words(self, text: str) -> list[str]:
        """Plain segmentation (precise mode) without stopword filtering, for understanding."""
        return [w for w in self._jieba.lcut(text, HMM=True) if w.strip()]

    def __call__(self, text: str) -> list[str]:
        """Search words plus character bigrams (the bigrams catch segmentation mismatches)."""
        out = self.search_words(text)
        # Bigrams only inside runs of content words: 辣椒|得了|炭疽病 gives 辣椒 炭疽 疽病,
        # not the noise 椒得 得了 了炭 that would dilute how much of a query a text covers.
        run: list[str] = []
        for word in [*self._jieba.lcut(text.lower(), HMM=True), "。"]:
            if word in self._stop or not _CJK.search(word):
                out.extend(run[i] + run[i + 1] for i in range(len(run) - 1))
                run = []
            else:
                run.extend(_CJK.findall(word))
        return out

    def search_words(self, text: str) -> list[str]:
        """Search-mode words without stopwords; lexicon aliases add their canonical name."""
        out: list[str] = []
        for raw in self._jieba.cut_for_search(text.lower(), HMM=True):
            token = raw.strip()
            if not token or token in self._stop or not _KEEP.search(token):
                continue
            out.append(token)
            canon = self._canon.get(token)
            if canon is not None and canon != token:
                out.append(canon)
        return out


def shared_tokenizer() -> Tokenizer:
    """One tokenizer per process: jieba's dictionary is loaded once."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Tokenizer()
        return _shared
