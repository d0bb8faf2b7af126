"""Rank experts for a need: relevance of their fields and skills (the hybrid index over expert
profiles), crop and category agreement, region, availability, open load and rating.

Pure with respect to storage: callers hand in :class:`ExpertCard` values and get
:class:`Match` values back, each with a reason a person can read.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from retrieval.index import Document, HybridIndex
from store.region import Region


@dataclass(slots=True)
class ExpertCard:
    user_id: int
    name: str = ""
    organisation: str = ""
    title: str = ""
    fields: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    crops: tuple[str, ...] = ()
    crop_groups: tuple[str, ...] = ()  # e.g. 果树 for an expert in 果树栽培
    categories: tuple[str, ...] = ()
    home: Region = field(default_factory=Region)
    regions: tuple[Region, ...] = ()
    available: bool = True
    open_orders: int = 0
    rating_avg: float | None = None

    def document(self) -> Document:
        text = " ".join((*self.fields, *self.skills, *self.crops, self.title, self.organisation))
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return Document(
            str(self.user_id),
            text,
            title="",
            sha256=sha,
            metadata={"crops": list(self.crops), "categories": list(self.categories)},
        )


@dataclass(frozen=True, slots=True)
class NeedQuery:
    text: str
    crop: str = ""
    category: str = ""
    area: Region = field(default_factory=Region)
    crop_group: str = ""  # the crop's group (果树, 蔬菜, 畜禽 ...), for partial agreement
    # expert fields the need names (发酵工程, 农产品检测 ...): an enterprise's need is matched
    # by field as well as by crop
    fields: tuple[str, ...] = ()


class Scope(IntEnum):
    """How far a matching round looks: each re-match widens by one step."""

    CITY = 1
    PROVINCE = 2
    ANYWHERE = 3


@dataclass(frozen=True, slots=True)
class Match:
    user_id: int
    score: float
    reason: str
    region_level: str  # county / city / province / elsewhere


# Field (category) agreement outweighs crop words: farmers name the crop, not the discipline.
W_RELEVANCE, W_CROP, W_CATEGORY, W_REGION = 0.30, 0.10, 0.30, 0.30
REGION_SCORE = {"county": 1.0, "city": 0.75, "province": 0.45, "elsewhere": 0.1}


class ExpertMatcher:
    """Expert cards, their hybrid index and region lookups, kept in step."""

    def __init__(self, index: HybridIndex, candidates: int = 300) -> None:
        self.index = index
        self.candidates = candidates
        self.cards: dict[int, ExpertCard] = {}
        self._by_area: dict[tuple[str, str, str], set[int]] = defaultdict(set)
        # field and problem category -> cards, for needs no word of theirs finds (泡菜发酵
        # reaches an expert in 农产品加工 through the category both are in)
        self._by_topic: dict[str, set[int]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self.cards)

    def sync(self, cards: Iterable[ExpertCard], *, remove_missing: bool = True) -> None:
        """Hold exactly these cards (or add them); unchanged profiles are not re-indexed."""
        cards = list(cards)
        if remove_missing:
            self.cards.clear()
            self._by_area.clear()
            self._by_topic.clear()
        for card in cards:
            self._put(card)
        self.index.sync([c.document() for c in cards], remove_missing=remove_missing)

    def upsert(self, card: ExpertCard) -> None:
        self.sync([card], remove_missing=False)

    def ids(self) -> set[int]:
        return set(self.cards)

    def _put(self, card: ExpertCard) -> None:
        old = self.cards.get(card.user_id)
        if old is not None:
            for area in (*old.regions, old.home):
                self._by_area[(area.province, area.city, area.county)].discard(old.user_id)
            for topic in _topics(old):
                self._by_topic[topic].discard(old.user_id)
        self.cards[card.user_id] = card
        for area in (*card.regions, card.home):
            if area.province:
                self._by_area[(area.province, area.city, area.county)].add(card.user_id)
        for topic in _topics(card):
            self._by_topic[topic].add(card.user_id)

    def region_level(self, card: ExpertCard, area: Region) -> tuple[str, Region | None]:
        """How close the expert is to *area*: by a declared service region first, then home."""
        best: Region | None = None
        for region in card.regions:
            if region.covers(area) and (best is None or region.level > best.level):
                best = region
        if best is not None:
            level = {3: "county", 2: "city", 1: "province"}[best.level]
            return level, best
        home = card.home
        if home.province and home.province == area.province:
            if home.city and home.city == area.city:
                return ("county" if home.county and home.county == area.county else "city"), home
            return "province", home
        return "elsewhere", None

    def _local(self, area: Region, scope: Scope) -> set[int]:
        """Experts declared (or living) where the need is, as far as *scope* reaches."""
        keys = [(area.province, area.city, area.county), (area.province, area.city, "")]
        out: set[int] = set()
        for key in keys:
            out |= self._by_area.get(key, set())
        if scope >= Scope.PROVINCE:
            out |= self._by_area.get((area.province, "", ""), set())
            for key, ids in self._by_area.items():
                if len(out) >= 5000:
                    break
                if key[0] == area.province:
                    out |= ids
        return out

    def _topical(self, need: NeedQuery, scope: Scope) -> set[int]:
        """Cards holding a field the need names; at the widest scope also those of its
        problem category (at most as many as the relevance candidates)."""
        out: set[int] = set()
        for name in need.fields:
            out |= self._by_topic.get(f"field:{name}", set())
        if scope == Scope.ANYWHERE and need.category:
            same = self._by_topic.get(f"category:{need.category}", set())
            out |= set(sorted(same)[: self.candidates])
        return out

    def rank(
        self,
        need: NeedQuery,
        *,
        k: int = 5,
        scope: Scope = Scope.CITY,
        exclude: Iterable[int] = (),
        locale: str = "zh",
    ) -> list[Match]:
        """The best *k* available experts for *need* within *scope*, best first."""
        excluded = set(exclude)
        query = " ".join(x for x in (need.crop, need.text) if x)
        relevance = {int(d): v for d, v in self.index.relevance(query, self.candidates).items()}
        candidates = set(relevance) | self._local(need.area, scope) | self._topical(need, scope)
        allowed_levels = {
            Scope.CITY: {"county", "city"},
            Scope.PROVINCE: {"county", "city", "province"},
            Scope.ANYWHERE: {"county", "city", "province", "elsewhere"},
        }[scope]
        scored: list[Match] = []
        for uid in candidates:
            card = self.cards.get(uid)
            if card is None or uid in excluded or not card.available:
                continue
            level, area = self.region_level(card, need.area)
            if level not in allowed_levels:
                continue
            crop = 1.0 if need.crop and need.crop in card.crops else 0.0
            if not crop and need.crop_group and need.crop_group in card.crop_groups:
                crop = 0.6
            category = 1.0 if need.category and need.category in card.categories else 0.0
            if need.fields and set(need.fields) & {*card.fields, *card.skills}:
                category = 1.0  # the very field named: as good as the problem's category
            rel = relevance.get(uid, 0.0)
            if rel == 0.0 and crop == 0.0 and category == 0.0:
                continue  # nearby but nothing to do with the problem
            score = (
                W_RELEVANCE * rel
                + W_CROP * crop
                + W_CATEGORY * category
                + W_REGION * REGION_SCORE[level]
                + (0.05 * (card.rating_avg - 3) / 2 if card.rating_avg is not None else 0.0)
                - min(0.3, 0.05 * card.open_orders)
            )
            scored.append(Match(uid, round(score, 4), self.reason(card, area, locale), level))
        scored.sort(key=lambda m: (-m.score, m.user_id))
        return scored[:k]

    @staticmethod
    def reason(card: ExpertCard, area: Region | None, locale: str = "zh") -> str:
        skills = "、".join(dict.fromkeys((*card.fields, *card.skills)))
        skills = "、".join(skills.split("、")[:2])
        if locale == "en":
            where = f", serves {area.label}" if area else ""
            return f"good at {skills}{where}"
        where = f"，服务{area.label}" if area else ""
        return f"擅长{skills}{where}"


def _topics(card: ExpertCard) -> list[str]:
    fields = [f"field:{f}" for f in dict.fromkeys((*card.fields, *card.skills))]
    return fields + [f"category:{c}" for c in card.categories]
