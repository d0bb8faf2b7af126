"""Text as people type it on phones, made readable for understanding and search.

``normalise(text)`` does three things, in this order:

1. traditional characters to simplified (OpenCC t2s; 請問小麥 -> 请问小麦);
2. full-width letters, digits and ASCII symbols to half-width (１３９ -> 139, ＡＢＣ -> ABC),
   keeping Chinese punctuation (，。？！：；（）) as it is;
3. near-miss spellings of domain terms corrected against the lexicons and the articles' tags
   (the topics they are about: 心肺复素 -> 心肺复苏, 杀充灯 -> 杀虫灯): homophones read by
   tone-less pinyin with the usual Sichuan confusions (稻温病 -> 稻瘟病, 黄笼病 -> 黄龙病,
   菌合病 -> 菌核病), a one-character slip inside a long term (4 or more characters), and
   spelling variants of a crop or pest name (柑桔 -> 柑橘).

The typo index and its rules are in :mod:`dialogs.nlu.typos`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc
from opencc import OpenCC

from dialogs.nlu.typos import Correction, TypoIndex, build_index
from knowledge.lexicons import Lexicon, default_lexicon

log = logging.getLogger(__name__)

# Full-width forms that read the same in ASCII. Chinese punctuation (，。？！：；（）～、“”)
# stays: it is what people type and what our patterns expect.
_KEEP_WIDE = "，。？！：；（）～"
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _KEEP_WIDE} | {
    0x3000: 0x20
}


@dataclass(frozen=True, slots=True)
class Normalised:
    """The normalised text, what was typed, and each spelling correction made."""

    text: str
    original: str
    corrections: tuple[Correction, ...] = ()

    @property
    def changed(self) -> bool:
        return self.text != self.original


def normalise(text: str, lexicon: Lexicon | None = None) -> Normalised:
    """Simplified characters, half-width letters and digits, domain typos corrected.

    Args:
        text: a message as typed.
        lexicon: the domain lexicon (default: the bundled one).

    Returns:
        The normalised text with the corrections made (empty when none were needed).
    """
    converted = to_simplified(text).translate(_WIDTH)
    index = _index(lexicon or default_lexicon())
    corrections = index.corrections(converted)
    if not corrections:
        return Normalised(converted, text)
    out: list[str] = []
    at = 0
    for c in corrections:
        out.append(converted[at : c.start])
        out.append(c.right)
        at = c.start + len(c.wrong)
    out.append(converted[at:])
    log.debug("corrected %s", ", ".join(f"{c.wrong}->{c.right}" for c in corrections))
    return Normalised("".join(out), text, tuple(corrections))


# ---- traditional -> simplified ---------------------------------------------------------------


# outside GB2312 yet the standard simplified spelling in pesticide names (噁霉灵, 噁唑)
_SIMPLIFIED_TOO = frozenset("噁")


@lru_cache(maxsize=1)
def _t2s() -> tuple[OpenCC, frozenset[str]]:
    """The converter and the characters that only traditional text uses.

    OpenCC t2s also rewrites a few characters that are good simplified ones (抽薹 -> 抽苔),
    so a message is converted only when it has a character outside GB2312.
    """
    converter = OpenCC("t2s")
    base = Path(opencc.__file__).parent / "dictionary"
    changing: set[str] = set()
    for name in ("TSCharacters.txt", "TSPhrases.txt"):
        for line in (base / name).read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            value = values.split(" ")[0]
            if len(key) != len(value):
                changing.update(key)
            else:
                changing.update(k for k, v in zip(key, value, strict=True) if k != v)
    return converter, frozenset(ch for ch in changing - _SIMPLIFIED_TOO if not _in_gb2312(ch))


def _in_gb2312(ch: str) -> bool:
    """GB2312 holds only simplified characters, so none of its characters marks a message
    as traditional."""
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def to_simplified(text: str) -> str:
    """Traditional characters to simplified; simplified text comes back as it was."""
    converter, traditional = _t2s()
    if not any(ch in traditional for ch in text):
        return text
    return str(converter.convert(text))


_INDEXES: dict[int, TypoIndex] = {}


def _index(lex: Lexicon) -> TypoIndex:
    """The typo index of *lex*, built on first use."""
    cached = _INDEXES.get(id(lex))
    if cached is None:
        cached = _INDEXES[id(lex)] = build_index(lex)
    return cached
