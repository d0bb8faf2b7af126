"""Forms: which slots a task needs, what to ask next, and how a message fills them.

Deciding what to ask is a pure function of the slots (the first required slot still empty,
then each optional slot once); validators return slot updates and never send anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dialogs.nlu.slots import Slots
from store.validation import Region

SKIPPED = "__skipped__"


@dataclass(frozen=True, slots=True)
class Form:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    questions: dict[str, str]  # slot -> i18n key of its question


NEED = Form(
    "need",
    required=("problem", "region", "phone"),
    optional=("crop", "budget"),
    questions={
        "problem": "ask_problem",
        "crop": "ask_crop",
        "region": "ask_region",
        "phone": "ask_phone",
        "budget": "ask_budget",
    },
)
EXPERT = Form(
    "expert",
    required=("fields", "service_regions", "name", "phone"),
    optional=("organisation", "title"),
    questions={
        "fields": "ask_fields",
        "service_regions": "ask_service_regions",
        "name": "ask_name",
        "phone": "ask_expert_phone",
        "organisation": "ask_organisation",
        "title": "ask_title",
    },
)
SUBSCRIBE = Form(
    "subscribe", required=("topics",), optional=(), questions={"topics": "ask_topics"}
)
FORMS = {f.name: f for f in (NEED, EXPERT, SUBSCRIBE)}


def next_slot(form: Form, slots: dict[str, Any]) -> str | None:
    """The next slot to ask for: the first empty required one, then unasked optional ones."""
    for name in form.required:
        if not slots.get(name):
            return name
    for name in form.optional:
        if name not in slots:
            return name
    return None


def place_dict(place: Region) -> dict[str, str]:
    return {"province": place.province, "city": place.city, "county": place.county}


def region_label(region: dict[str, str] | None) -> str:
    return Region(**region).label if region else ""


_TOPIC_WORDS = sorted(
    (
        "病虫害",
        "病害",
        "虫害",
        "土壤",
        "施肥",
        "地震",
        "洪水",
        "防汛",
        "滑坡",
        "泥石流",
        "雷电",
        "健康",
        "食品安全",
        "养殖",
        "种植",
        "天气",
        "气象",
        "防灾",
        "急救",
        "科普",
    ),
    key=len,
    reverse=True,
)
_TOPIC_SPLIT = re.compile(r"[，,、;；\s和与及]+")
_TOPIC_NOISE = re.compile(
    r"/subscribe|订阅|推送|推给我|发给我|以后|有关|关于|方面|相关|的|知识|资讯|信息|文章|科普|给我|我想|想要|收到|"
    r"每周|定期|帮我|一下|东西|都|请|记得|新的|技术"
)


def topics_from(text: str, slots: Slots) -> list[str]:
    """Topics for a subscription: crops and categories named, else the remaining keywords."""
    topics: list[str] = list(slots.crops)
    rest = text
    for word in _TOPIC_WORDS:  # longest first: 病虫害 is one topic, not 病虫害 + 虫害
        if word in rest:
            topics.append(word)
            rest = rest.replace(word, " ")
    if topics:
        return topics
    rest = _TOPIC_NOISE.sub(" ", rest)
    return [w for w in _TOPIC_SPLIT.split(rest) if len(w) >= 2][:5]


def updates_from(form: Form, slots: Slots, text: str, awaiting: str | None) -> dict[str, Any]:
    """Slot values this message states for *form*.

    Everything recognisable is taken, whatever was asked (people answer several things at
    once); the awaited slot may also take the plain text (a name, a problem description).
    """
    out: dict[str, Any] = {}
    if form is NEED:
        if slots.crop:
            out["crop"] = slots.crop
        if slots.place:
            out["region"] = place_dict(slots.place)
        if slots.phone:
            out["phone"] = slots.phone
        if slots.budget is not None:
            out["budget"] = slots.budget
        if slots.urgency:
            out["urgency"] = slots.urgency
        if slots.category:
            out["category"] = slots.category
        if awaiting == "problem" or (slots.problem or slots.category) and awaiting is None:
            out["problem"] = text.strip()[:500]
    elif form is EXPERT:
        skills = slots.fields or ([] if awaiting != "fields" else _terms(text))
        if skills:
            out["fields"] = skills
        if slots.places:
            out["service_regions"] = [place_dict(p) for p in slots.places]
        if slots.phone:
            out["phone"] = slots.phone
        if slots.name:
            out["name"] = slots.name
        elif awaiting == "name" and 1 <= len(text.strip()) <= 20 and not slots.places:
            out["name"] = text.strip()
        if slots.organisation:
            out["organisation"] = slots.organisation
        elif awaiting == "organisation":
            out["organisation"] = text.strip()[:64]
        if slots.title:
            out["title"] = slots.title
        elif awaiting == "title":
            out["title"] = text.strip()[:32]
        if slots.crops:
            out["crops"] = slots.crops
    elif form is SUBSCRIBE:
        topics = topics_from(text, slots)
        if topics:
            out["topics"] = topics
    return out


def _terms(text: str) -> list[str]:
    return [w for w in re.split(r"[，,、;；\s和与及]+", text) if 2 <= len(w) <= 16][:8]
