"""The words that hide places from the place finder: a crop or pest name, a symptom, or a
place the person says is not theirs (不是在…, 从…回来, 发到…)."""

from __future__ import annotations

import re

from dialogs.nlu.regions import HOME, find_mentions
from dialogs.nlu.terms import crop_and_pest_terms, present, present_longest_first
from knowledge.lexicons import Lexicon, default_lexicon

_NOT_PLACE_AFTER = re.compile(r"(?<=[\u4e00-\u9fff])(?=[病虫虻蛾菌])")


_PLACE_IN_WORD = re.compile(r"复合肥|合肥料|长安心|大同小异|太和谐|新乡村|东方红")


def _home_place_lead(alias: str, lex: Lexicon) -> int:
    """How many leading characters of crop *alias* name a home place, the rest being a crop
    of its own (4 in 巫山脆李); 0 when none do."""
    mentions = find_mentions(alias)
    if not mentions or mentions[0].start != 0:
        return 0
    lead = mentions[0]
    rest = alias[len(lead.text) :]
    home = any(p.province in HOME for p in lead.places)
    return len(lead.text) if home and rest in lex.crop_alias else 0


def mask_terms(text: str, lex: Lexicon | None = None) -> str:
    """Blank out crop and pest names so that 猕猴桃园 or 黄龙病 are not read as places
    (each character becomes a full-width space: positions stay the same)."""
    lex = lex or default_lexicon()
    out = text
    for alias in present_longest_first(lex, "terms", crop_and_pest_terms(lex), out):
        if len(alias) >= 2 and alias in out:
            # 巫山脆李, 江安李: a variety named after its home place still says the place
            keep = _home_place_lead(alias, lex)
            out = out.replace(alias, alias[:keep] + "　" * (len(alias) - keep))
    # a symptom with a county inside (流黑水 holds 黑水)
    for term in present(id(lex), "symptoms", lex.symptoms, out):
        if len(term) >= 3:
            out = out.replace(term, "　" * len(term))
    # everyday words with a city inside (复合肥 holds 合肥)
    out = _PLACE_IN_WORD.sub(lambda m: "　" * len(m.group(0)), out)
    # 黑水虻, 黄龙病: a short place name glued to a pest or disease word is not a place
    return re.sub(r"[\u4e00-\u9fff]{2}(?=[病虫虻蛾菌])", lambda m: "　" * 2, out)


# "应该是大邑县不是大竹县", "不在成都 在郫都": a place said not to be the one ("是不是" asks)
_DENIED_BEFORE = re.compile(r"(?<!是)(?:不是|不在|并非)(?:在|住在)?\s*$")
# "刚从东莞回来", "从广东打工回来": a place left behind to come home
_LEFT_BEFORE = re.compile(r"从\s*$")
# "脐橙发到广东", "销往上海": where goods go, not where the person is
_SENT_TO_BEFORE = re.compile(r"(?:发到|运到|卖到|寄到|发往|运往|销往|销到)\s*$")
_LEFT_AFTER = re.compile(r"^\s*(?:打工)?(?:回来|回到|回老家|回家|搬回)")


def mask_denied_places(text: str) -> str:
    """Blank the places *text* says are not the person's (denied, left to come home, or
    where goods are sent)."""
    out = text
    for m in find_mentions(text):
        before, after = text[max(0, m.start - 4) : m.start], text[m.start + len(m.text) :]
        if (
            _DENIED_BEFORE.search(before)
            or _SENT_TO_BEFORE.search(before)
            or (_LEFT_BEFORE.search(before) and _LEFT_AFTER.match(after))
        ):
            out = out[: m.start] + "　" * len(m.text) + out[m.start + len(m.text) :]
    return out
