"""Slot extraction: crop, category, problem, region, phone, budget, urgency, expert details.

The readers live beside it: crops, pests, fields and place masking in
:mod:`dialogs.nlu.terms`, names, units and titles in :mod:`dialogs.nlu.people`; this module
puts their findings together into one :class:`Slots`."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from dialogs.nlu.masks import mask_denied_places, mask_terms
from dialogs.nlu.numbers import find_budget
from dialogs.nlu.people import (
    AVAIL,
    NAME,
    NAME_AFTER_TITLE,
    NAME_AFTER_UNIT,
    NAME_BEFORE_TITLE,
    NAME_CALLED,
    ORG,
    ORG_LEAD,
    TITLE,
    is_name,
)
from dialogs.nlu.regions import Resolution, resolve
from dialogs.nlu.terms import (
    find_category,
    find_crops,
    find_fields,
    find_pests,
    host_of,
    present,
    unknown_crop,
)
from knowledge.lexicons import Lexicon, default_lexicon
from store import phone as phones
from store.region import Region

_URGENT = re.compile(r"急|马上|尽快|赶紧|快点|火速|等不及|救命|要死完|死了好多|今天就|越快越好")


@dataclass(slots=True)
class Slots:
    crop: str = ""
    crops: list[str] = field(default_factory=list)
    category: str = ""
    problem: str = ""
    pests: list[str] = field(default_factory=list)
    places: list[Region] = field(default_factory=list)
    ambiguous_places: list[Region] = field(default_factory=list)
    phone: str = ""
    bad_phone: str = ""
    budget: int | None = None
    urgency: str = ""
    fields: list[str] = field(default_factory=list)
    name: str = ""
    organisation: str = ""
    title: str = ""
    availability: str = ""

    @property
    def place(self) -> Region | None:
        return self.places[0] if self.places else None

    def copy(self) -> Slots:
        """A copy with lists of its own: changing one leaves the other as it was."""
        twin = copy.copy(self)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                setattr(twin, f.name, list(value))
        return twin

    def as_public(self) -> dict[str, object]:
        """The flat slot dict of `tianfu nlu` (absent slots omitted)."""
        out: dict[str, object] = {}
        if len(self.crops) > 1:
            # "玉米大豆带状复合种植", "苞谷和红苕": several crops, no single one concerned
            out["crops"] = list(self.crops)
        elif self.crop:
            out["crop"] = self.crop
        if self.category:
            out["category"] = self.category
        if self.problem:
            out["problem"] = self.problem
        if self.place:
            # several places ("服务宜宾 泸州", "万源 宣汉"): no single county; the first
            # place's province and city stand for them
            p = self.place
            out["province"] = p.province
            if p.city:
                out["city"] = p.city
            if p.county and len(self.places) == 1:
                out["county"] = p.county
        if len(self.places) > 1:
            out["regions"] = [p.label for p in self.places]
        if self.phone:
            out["phone"] = self.phone
        if self.budget is not None:
            out["budget"] = self.budget
        if self.urgency:
            out["urgency"] = self.urgency
        for key in ("fields", "name", "organisation", "title", "availability"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


def find_phone(text: str) -> tuple[str, str]:
    """(valid phone digits, or ''; the raw number that failed validation, or '')."""
    found = phones.extract(text)
    return found.phone, found.bad


# what an expert does to a crop, an animal or a disease: 柑橘修剪, 魔芋栽培, 软腐病防治
# the follow-up memory), and a pure function need not repeat itself
_MEMO: OrderedDict[tuple[int, str], Slots] = OrderedDict()
_MEMO_SIZE = 512


def _places(masked: str, org: tuple[int, int] | None) -> Resolution:
    """The places of *masked*; a unit's name (*org*, its span) names where the unit is, which
    is the person's place only when nothing else says so, and only below province level:
    四川农业大学 and 四川省农科院 serve the whole province, 自贡市农科所 sits in 自贡."""
    if org is None:
        return resolve(masked)
    start, end = org
    outside = resolve(masked[:start] + "　" * (end - start) + masked[end:])
    if outside.places or outside.ambiguous:
        return outside
    inside = resolve(masked[start:end])
    if inside.places and all(p.city for p in inside.places):
        return inside
    return outside


def extract(text: str, lex: Lexicon | None = None) -> Slots:
    """Every slot the text states. Pure: no I/O beyond the cached lexicons and gazetteer.

    Returns a fresh copy that the caller may change."""
    lex = lex or default_lexicon()
    key = (id(lex), text)
    slots = _MEMO.get(key)
    if slots is None:
        slots = _MEMO[key] = _extract(text, lex)
        if len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    else:
        _MEMO.move_to_end(key)
    return replace(
        slots,
        crops=list(slots.crops),
        pests=list(slots.pests),
        places=list(slots.places),
        ambiguous_places=list(slots.ambiguous_places),
        fields=list(slots.fields),
    )


def _extract(text: str, lex: Lexicon) -> Slots:
    slots = Slots()
    found = phones.extract(text)
    slots.phone, slots.bad_phone = found.phone, found.bad
    # the number's digits are not a budget, and its Chinese numerals no crop or place
    scrubbed = text[: found.start] + " " + text[found.end :] if found.phone else text
    # "我叫赵永福": a person's name is no place (永福县) and no crop (李德明 is no 李)
    # "名字忘了说 我叫刘思远": the last name said is the one meant
    named = next((m for m in reversed(list(NAME.finditer(scrubbed))) if is_name(m.group(1))), None)
    if (called := NAME_CALLED.search(scrubbed)) is not None and is_name(called.group(1)):
        named = called  # 吉克阿依 whole, not 吉克阿
    if named is None and (after := NAME_AFTER_UNIT.search(scrubbed)) is not None:
        named = after if is_name(after.group(1)) else None
    if named is None and (after := NAME_AFTER_TITLE.search(scrubbed)) is not None:
        named = after if is_name(after.group(1)) else None
    if named is None and (before := NAME_BEFORE_TITLE.search(scrubbed)) is not None:
        named = before if is_name(before.group(1)) else None
    if named is not None:
        scrubbed = scrubbed[: named.start(1)] + " " + scrubbed[named.end(1) :]
    slots.crops = find_crops(scrubbed, lex) or unknown_crop(scrubbed)
    slots.crop = slots.crops[0] if slots.crops else ""
    slots.pests = find_pests(scrubbed, lex)
    if not slots.crops:
        # "蜂螨咋个治", "二化螟一年发几代": a pest or disease of one host names its crop
        slots.crops = host_of(slots.pests, lex)
        slots.crop = slots.crops[0] if slots.crops else ""
    slots.category = find_category(scrubbed, slots.crops, slots.pests, lex)
    org = ORG.search(scrubbed)
    res = _places(mask_denied_places(mask_terms(scrubbed, lex)), org.span(1) if org else None)
    slots.places = list(res.places)
    slots.ambiguous_places = list(res.ambiguous)
    slots.budget = find_budget(scrubbed)
    slots.urgency = "high" if _URGENT.search(scrubbed) else ""
    slots.fields = find_fields(scrubbed, lex)
    if (m := TITLE.search(scrubbed)) is not None:
        slots.title = m.group(1)
    if org is not None:
        slots.organisation = ORG_LEAD.sub("", org.group(1))
    if named is not None:
        slots.name = named.group(1)
    if (m := AVAIL.search(scrubbed)) is not None:
        slots.availability = m.group(1)
    symptoms = present(id(lex), "symptoms", lex.symptoms, scrubbed)
    problem_bits = slots.pests + [t for t in symptoms if len(t) >= 2][:3]
    slots.problem = "、".join(dict.fromkeys(problem_bits))
    return slots
