"""Forms: which slots each task needs, which question asks for each, and what to ask next
(the first required slot still empty, then each optional slot once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
# ---- enterprises, teams and achievements (issue 18) ----
# an enterprise's technical need (找技术): a need with its company, budget, deadline, contract
TECH = Form(
    "tech",
    required=("problem", "region", "phone"),
    optional=("company", "budget", "deadline", "contract"),
    questions={
        "problem": "ask_tech_problem",
        "region": "ask_region",
        "phone": "ask_phone",
        "company": "ask_company",
        "budget": "ask_budget",
        "deadline": "ask_deadline",
        "contract": "ask_contract",
    },
)
# a 对接 request on an achievement: a need for its owner only (slot "achievement" is set)
DOCKING = Form(
    "docking",
    required=("problem", "region", "phone"),
    optional=(),
    questions={"problem": "ask_dock_note", "region": "ask_region", "phone": "ask_phone"},
)
ENTERPRISE = Form(
    "enterprise",
    required=("company", "industry", "region", "contact", "phone"),
    optional=("size",),
    questions={
        "company": "ask_company",
        "industry": "ask_industry",
        "region": "ask_company_region",
        "contact": "ask_contact",
        "phone": "ask_phone",
        "size": "ask_size",
    },
)
TEAM = Form(
    "team",
    required=("team_name", "fields", "service_regions"),
    optional=(),
    questions={
        "team_name": "ask_team_name",
        "fields": "ask_team_fields",
        "service_regions": "ask_service_regions",
    },
)
ACHIEVEMENT = Form(
    "achievement",
    required=("ach_title", "kind", "maturity", "mode"),
    optional=("ach_fields", "applied_in", "price"),
    questions={
        "ach_title": "ask_ach_title",
        "kind": "ask_ach_kind",
        "maturity": "ask_ach_maturity",
        "mode": "ask_ach_mode",
        "ach_fields": "ask_ach_fields",
        "applied_in": "ask_applied_in",
        "price": "ask_price",
    },
)
# forms that post a need (and open its order)
NEED_LIKE = (NEED, TECH, DOCKING)
FORMS = {
    f.name: f for f in (NEED, EXPERT, SUBSCRIBE, TECH, DOCKING, ENTERPRISE, TEAM, ACHIEVEMENT)
}


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


# slots whose answer is free text: a question there is the answer, not a digression
FREE_TEXT = (
    "problem",
    "name",
    "organisation",
    "title",
    "fields",
    "topics",
    # issue 18
    "company",
    "industry",
    "contact",
    "team_name",
    "ach_title",
    "ach_fields",
    "applied_in",
    "deadline",
)


# slots a person sees in a summary (and may correct)
SUMMARY_SLOTS = frozenset(
    ("crop", "region", "phone", "budget", "name", "fields", "service_regions", "organisation")
    + ("title", "company", "industry", "contact", "deadline", "team_name", "ach_title")
)


def region_slot(form: Form) -> str:
    return "region" if "region" in form.required else "service_regions"


def value(slots: dict[str, Any], name: str, default: Any = "") -> Any:
    """A slot's value, with *default* for a skipped or missing one."""
    got = slots.get(name, default)
    return default if got == SKIPPED else got
