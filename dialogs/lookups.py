"""找人才 · 找技术 · 找成果: the three entries of the platform behave alike.

With nothing said about what is sought, the person is asked ("您想找哪方面的人才？") and the
next message is the subject. Then the matches are shown with how to get in touch: experts and
teams (找人才) with the offer to post a need that they can accept; achievements (找成果) with
their 对接 buttons; technologies (找技术) as achievements first, else the experts and teams who
can provide them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialogs.achievements import AchievementDesk
from dialogs.context import Turn
from dialogs.enterprise import EnterpriseDesk
from dialogs.nlu.intents import Parse, understand
from store.achievements import read_kind
from store.region import Region

TALENT, TECH, ACHIEVEMENT = "talent", "tech", "achievement"
KINDS = (TALENT, TECH, ACHIEVEMENT)
# "找人才", "我想找技术 泡菜发酵", "帮我找一下科技成果": the entry word, then what is sought
_ENTRY = re.compile(
    r"^\s*(?:/(?P<slash>talent|achievements)\b|(?:我们?|请|麻烦)?(?:想|要|需要)?(?:帮我)?"
    r"(?:找|寻找|搜|搜索|查|查找)(?:一下|一些|一哈|些|个|点)?"
    r"(?:(?P<talent>人才|专家团队|团队)|(?P<tech>技术|科技技术)|(?P<achievement>科技成果|成果)))"
    r"(?P<rest>.*)$",
    re.S | re.I,
)
# the words around a subject that say nothing about it
_NOISE = re.compile(
    r"[，,。.：:；;！!？?\s]|的|方面|方向|相关|有关|领域|一下|看看|有没有|有吗|吗|呢|吧|啊|"
    r"什么|哪些|啥|都行|推荐|帮我|可以|我们|我想|想要|需要|一些|一个"
)


# a narrowing of the last list is short: "要成都的", "只看专利", "眉山的有没有"
REFINE_CHARS = 12


@dataclass(frozen=True, slots=True)
class Entry:
    """Which entry (talent, tech or achievement) and the words of what is sought ("")."""

    kind: str
    subject: str


def entry_of(text: str) -> Entry | None:
    """The entry *text* opens with, or None."""
    m = _ENTRY.match(text)
    if m is None:
        return None
    slash = (m.group("slash") or "").lower()
    kind = next((k for k in KINDS if m.group(k)), TALENT if slash == "talent" else ACHIEVEMENT)
    rest = m.group("rest").strip()
    return Entry(kind, rest if len(_NOISE.sub("", rest)) >= 2 else "")


def find(
    turn: Turn,
    entry: Entry,
    *,
    talent: EnterpriseDesk,
    catalogue: AchievementDesk,
    parse: Parse | None = None,
) -> None:
    """Ask what is sought when the entry names nothing; otherwise show the matches."""
    if not entry.subject:
        turn.state.offer = turn.state.pending = None
        turn.state.lookup = entry.kind
        turn.say(turn.t(f"lookup_ask_{entry.kind}"))
        return
    subject = entry.subject
    parse = parse if parse is not None and parse.text == subject else understand(subject)
    if entry.kind == TALENT:
        talent.find_talent(turn, subject, parse)
    elif entry.kind == ACHIEVEMENT:
        catalogue.search(turn, subject)
    elif not catalogue.search(turn, subject, quiet=True):
        # no achievement offers the technology: who can provide it
        talent.find_talent(turn, subject, parse)


@dataclass(frozen=True, slots=True)
class Refine:
    """What narrows the last list: a place, an achievement kind (专利, 新品种 ...)."""

    near: Region | None = None
    only: str = ""


def refinement(text: str, parse: Parse) -> Refine | None:
    """ "要成都的" or "只看专利" right after a list: a place or a kind and nothing else that
    would make it a request of its own (a crop, a pest, a field, a phone, an entry: "找技术"
    names the kind 技术 but opens the technology entry)."""
    s = parse.slots
    if len(text.strip()) > REFINE_CHARS or text.startswith("/") or entry_of(text) is not None:
        return None
    if s.crops or s.pests or s.fields or s.phone or len(s.places) > 1:
        return None
    kind = read_kind(text)
    only = kind.value if kind is not None else ""
    if not (s.place or only):
        return None
    return Refine(s.place, only)


def refine(turn: Turn, by: Refine, *, talent: EnterpriseDesk, catalogue: AchievementDesk) -> None:
    """Show the last list again, narrowed by *by* (and by what narrowed it before)."""
    last = turn.state.searched or {}
    text = str(last.get("text", ""))
    near = by.near or (Region.from_dict(last["near"]) if last.get("near") else None)
    only = by.only or str(last.get("only") or "")
    if last.get("kind") == TALENT and not by.only:
        talent.find_talent(turn, text, understand(text), near=near)
    else:  # "只看专利" after experts: the achievements of that subject
        catalogue.search(turn, text, near=near, only=only)
