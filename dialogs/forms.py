"""The form engine: one message in, one step out (no database, no transport).

Which slots a task needs is dialogs.form_specs; how a message fills them,
dialogs.form_reading; the words that steer a form, dialogs.form_words; the steps decided,
dialogs.form_steps. Validators return slot updates and never send anything.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any

from dialogs.answers import says_none
from dialogs.form_reading import ADDS, describes_problem, meant_values, updates_from
from dialogs.form_specs import (
    EXPERT,
    FORMS,
    FREE_TEXT,
    NEED_LIKE,
    SKIPPED,
    SUBSCRIBE,
    SUMMARY_SLOTS,
    Form,
    next_slot,
    place_dict,
    region_slot,
)
from dialogs.form_steps import Ask, Clarify, Commit, Confirm, Digress, Help, Refuse, Step
from dialogs.form_words import (
    ASKS_BUDGET,
    CONFIRM,
    CONFIRM_LEAD,
    CORRECTION,
    EDIT,
    HANDOFF,
    RESUME,
    SKIP,
    is_control,
)
from dialogs.nlu import enterprise as ent
from dialogs.nlu.intents import is_question_shaped
from dialogs.nlu.numbers import find_budget
from dialogs.nlu.slots import extract
from dialogs.state import FormState
from dialogs.topics import edit_topics, topics_from
from store import phone as phones
from store.validation import Region

# expert questions at which skills named in passing add to the ones already given (at the
# name, unit or title question a skill word is part of the answer: 高级兽医师 is no field)
_MORE_SKILLS = ("service_regions", "phone", None)
_NAMES_SLOT = re.compile(r"(单位|职称|预算|作物)")
_NAMED_SLOT = {"单位": "organisation", "职称": "title", "预算": "budget", "作物": "crop"}


def skips(state: FormState, text: str) -> bool:
    """ "跳过", "没有预算", "不晓得好多钱" at an optional question: an answer, not a question."""
    form = FORMS[state.name]
    optional = state.awaiting in form.optional
    return bool(SKIP.match(text) or (optional and says_none(text)))


def yes_no(state: FormState, text: str) -> bool | None:
    """ "不签" / "要" at the contract question: the answer (None elsewhere, or for other
    words), never a command such as an unsubscribe."""
    return ent.yes_or_no(text) if state.awaiting == "contract" else None


def drops_optional(state: FormState, text: str) -> bool:
    """ "职称没得", "没有单位" at another question: an optional slot of the form said to be
    none (an answer, even where it reads like a question)."""
    m = _NAMES_SLOT.search(text)
    form = FORMS[state.name]
    return m is not None and _NAMED_SLOT[m.group(1)] in form.optional and says_none(text)


def advance(state: FormState) -> Ask | Confirm:
    """The next question, or the summary when nothing is missing."""
    form = FORMS[state.name]
    slot = None if state.confirming else next_slot(form, state.slots)
    if slot is None:
        return Confirm(replace(state, confirming=True, awaiting=None))
    return Ask(replace(state, awaiting=slot), slot)


def begin(name: str, slots: dict[str, Any], parse: Any, text: str) -> Step:
    """Open form *name* with what is already known and what this message says."""
    form = FORMS[name]
    slots = dict(slots)
    slots.update(updates_from(form, parse.slots, text, "problem" if form in NEED_LIKE else None))
    if form in NEED_LIKE and "problem" not in slots and describes_problem(text, parse.slots):
        slots["problem"] = text.strip()[:500]  # else asked: "我要发个需求 茶叶" says none
    state = FormState(name, slots)
    if parse.slots.ambiguous_places and not parse.slots.places:
        return _clarify(state, form, parse)
    return advance(state)


def step(state: FormState, parse: Any, text: str) -> Step:
    """One message inside a form: what happens next. *state* is not modified.

    Args:
        state: the form so far.
        parse: the message understood (``dialogs.nlu.intents.Parse``).
        text: the message, normalised.
    """
    form = FORMS[state.name]
    state = replace(state, slots=copy.deepcopy(state.slots))
    slots = state.slots
    awaiting = state.awaiting
    if state.confirming:
        if CONFIRM.match(text) or _confirms_unchanged(form, state, parse, text):
            return Commit(state)
        if EDIT.match(text):
            return Refuse(state, "edit_prompt")
        awaiting = None  # a free-text change to the summary
    if (yes := yes_no(state, text)) is not None:
        slots["contract"] = yes  # a yes / no question: the answer
        return advance(state)
    if awaiting and CONFIRM.match(text):
        # "确认" while a question is open confirms nothing yet: only a summary seen is
        # confirmed. At a required question the question is asked again; at an optional one
        # the person is done: what is left optional is skipped and the summary shown
        if awaiting in form.required:
            return Ask(state, awaiting, "confirm_at_summary")
        # the person is done: what is left optional is skipped and the form submitted, its
        # summary said back with it (a careful clerk does not ask "sure?" a second time)
        seen = state.listed is not None and _filled(state.listed) == _filled(slots)
        for name in form.optional:
            slots.setdefault(name, SKIPPED)
        nxt = advance(state)
        if isinstance(nxt, Confirm):
            return Commit(nxt.state, said_back=not seen)
        return replace(nxt, note="confirm_at_summary")
    if awaiting and RESUME.match(text):
        return Ask(state, awaiting)  # "继续登记" after a digression: the open question
    # "没有职称" while something else is asked: that optional slot is none, the question stays
    named = _NAMED_SLOT.get(m.group(1)) if (m := _NAMES_SLOT.search(text)) else None
    # (a value already given stays unless the summary is being corrected)
    late = state.confirming or (awaiting in form.required and not slots.get(named or ""))
    # "没得预算 面议" at the (optional) company question: the budget is none, the company is
    # still asked; a none answer naming the slot asked is that slot's answer (below)
    named_all = {_NAMED_SLOT[w] for w in _NAMES_SLOT.findall(text)}
    late = late or (
        awaiting in form.optional and awaiting not in named_all and not slots.get(named or "")
    )
    if late and named in form.optional and named != awaiting and says_none(text):
        # "没得单位 也没得职称": every optional slot the none answer names is none
        said = (_NAMED_SLOT[w] for w in _NAMES_SLOT.findall(text))
        dropped = tuple(dict.fromkeys(n for n in said if n in form.optional and n != awaiting))
        for name in dropped:
            slots[name] = SKIPPED
        if awaiting is None:
            return Confirm(state, dropped=dropped)
        return Ask(state, awaiting, dropped=dropped)
    none_answer = awaiting in form.optional and says_none(text)
    if (SKIP.match(text) or none_answer) and awaiting:
        if awaiting in form.required:
            return Ask(state, awaiting, "skip_required")
        # "没有单位" said late, at the title question: the unit is none, the title still asked
        slots[named if named in form.optional else awaiting] = SKIPPED
        # "没得单位 也没有职称": every optional slot the none answer names is none
        for word in _NAMES_SLOT.findall(text):
            if _NAMED_SLOT[word] in form.optional:
                slots.setdefault(_NAMED_SLOT[word], SKIPPED)
        return replace(advance(state), note="skipped")
    if awaiting and is_control(text):
        return Ask(state, awaiting, "skip_required" if awaiting in form.required else "")
    if HANDOFF.search(text) and form in NEED_LIKE:
        return _handoff(state, form)
    if parse.intent == "help":
        return Help(state)
    if awaiting == "budget" and ASKS_BUDGET.search(text) and find_budget(text) is None:
        return Help(state, about="budget")  # what a budget is, then the question again
    if form is SUBSCRIBE:
        if is_question_shaped(text) and slots.get("topics"):
            return Digress(state)
        topics = edit_topics(slots.get("topics", []), text, parse.slots)
        if not topics:
            return Ask(state, "topics")
        slots["topics"] = topics  # the summary says the topics: no "已改为" beside it
        return Confirm(replace(state, confirming=True, awaiting=None))
    named_fix = _named_fix(form, state, text)
    if named_fix is not None:
        return named_fix
    # "不对 服务地区是江津和永川" at the unit question corrects the area; it is no unit
    # "不对 是四川农业大学" at the title question corrects the unit: a correction whose words
    # extraction reads as another slot's value is about that slot
    fixes_other = CORRECTION.match(text) and (
        parse.slots.places
        or parse.slots.phone
        or any(
            k in SUMMARY_SLOTS and k != awaiting
            for k in updates_from(form, parse.slots, text, None)
        )
    )
    reads_as = None if fixes_other and awaiting in FREE_TEXT else awaiting
    updates = updates_from(form, parse.slots, text, reads_as)
    if form in NEED_LIKE:
        meant_values(updates, slots, parse.slots, text)
    if "phone" not in updates and (tail := phones.with_tail(slots.get("phone") or "", text)):
        updates["phone"] = tail  # "电话打错了 最后两位是七六": the number given, its end changed
    states_problem = bool(parse.slots.problem or parse.slots.pests)
    if form in NEED_LIKE and awaiting != "problem":
        # "作物不对 是脐橙" corrects the crop: the problem and its category stay as described
        if not (states_problem and CORRECTION.match(text)):
            updates.pop("problem", None)
        if not states_problem:
            updates.pop("category", None)
    # a question in passing, not an answer: question-shaped and stating nothing new
    digression = (
        is_question_shaped(text)
        and awaiting not in FREE_TEXT
        and not (set(updates) - {"category", "crop", "crops"})
    )
    if digression:
        return Digress(replace(state, awaiting=awaiting))
    # a crop or problem word in passing ("李德明" at the phone question) changes nothing
    # unless it is a correction ("不对，是柑橘") or what was asked
    if not CORRECTION.match(text):
        for key in ("crop", "crops", "category", "fields"):
            # (the category of a problem being described goes with it)
            goes_with = key == "category" and "problem" in updates
            if key != awaiting and slots.get(key) and key in updates and not goes_with:
                if form is EXPERT and key in ("fields", "crops") and awaiting in _MORE_SKILLS:
                    # "养猪 猪病防治 搞了二十多年了" at the service-area question: more skills
                    updates[key] = list(dict.fromkeys([*slots[key], *updates[key]]))
                else:
                    updates.pop(key)
    added = form in NEED_LIKE and adds_problem(state, parse, text)
    if added:
        # "茶树上好多小绿叶蝉 叶子尖尖都焦了" at the phone question: more of the problem, added
        # to what was said (its category and a crop not yet known taken from it)
        told = slots.get("problem") or ""
        updates["problem"] = f"{told} {text.strip()}".strip()[:500]
        if parse.slots.category:
            updates["category"] = parse.slots.category
    more = updates.get("service_regions")
    if form is EXPERT and more and slots.get("service_regions") and ADDS.search(text):
        # "再加个石棉", "还有汶川 两边都跑": more areas beside the ones given
        both = [*slots["service_regions"], *more]
        updates["service_regions"] = [
            dict(t) for t in dict.fromkeys(tuple(r.items()) for r in both)
        ]
    # "不对 是泸州的" at the phone question: a correction is taken whatever was asked
    corrected = tuple(k for k, v in updates.items() if slots.get(k) not in (None, v))
    if added:
        corrected = tuple(k for k in corrected if k not in ("problem", "category"))
    if CORRECTION.match(text) and not set(corrected) & SUMMARY_SLOTS and awaiting not in updates:
        # "作物不对 是橙子" (橙子 is 柑橘): restated as it was; said back, no refusal
        corrected = tuple(k for k in updates if k in SUMMARY_SLOTS and slots.get(k))
    if (
        awaiting
        and awaiting not in updates
        and (corrected or added or _only_fills_others(updates))
    ):
        # "张建国" or a phone at the area question: kept, said back, and the question stays
        noted = tuple(
            k
            for k in updates
            if k not in corrected and (slots.get(k) in (None, "") or added and k == "problem")
        )
        slots.update(updates)
        return Ask(state, awaiting, changed=corrected, noted=noted)
    refusal = _refusal(state, form, parse, awaiting, updates)
    if refusal is not None:
        return refusal
    changed = tuple(k for k, v in updates.items() if slots.get(k) != v) or corrected
    slots.update(updates)
    if state.confirming:
        return Confirm(state, changed)
    nxt = advance(state)
    return replace(nxt, changed=corrected) if isinstance(nxt, Ask) and corrected else nxt


# how people name a free-text slot when they correct it ("不对 行业是农机销售"); places,
# phones, crops and budgets are read wherever they are said and need no name
_SLOT_NAMES = {
    "行业": ("industry",),
    "单位": ("organisation", "company"),
    "职称": ("title",),
    "名字": ("name", "contact"),
    "姓名": ("name", "contact"),
    "称呼": ("name", "contact"),
    "联系人": ("contact",),
    "企业名称": ("company",),
    "企业名": ("company",),
    "公司名称": ("company",),
    "公司名字": ("company",),
    "公司名": ("company",),
    "团队名称": ("team_name",),
    "团队名": ("team_name",),
    "成果名称": ("ach_title",),
    "擅长领域": ("fields",),
    "问题": ("problem",),
    "领域": ("fields",),
    "截止时间": ("deadline",),
}
_SLOT_NAMED = re.compile(
    "(" + "|".join(sorted(_SLOT_NAMES, key=len, reverse=True)) + ")"
    r".{0,6}?(?:应该是|应该为|是|为|改成|改为|写成)\s*(\S.{0,40}?)\s*[。!！]?\s*$"
)


def _named_fix(form: Form, state: FormState, text: str) -> Step | None:
    """ "不对 行业是农机销售" at the size question, "名字写错了 应该是周永红" at the summary:
    a correction naming its slot sets that slot, and the open question stays.
    "单位改成四川农业大学" at the unit question itself: the value is what follows 改成."""
    if not (CORRECTION.match(text) or state.confirming):
        return None
    m = _SLOT_NAMED.search(text)
    if m is None:
        return None
    slots_of_form = (*form.required, *form.optional)
    slot = next((n for n in _SLOT_NAMES[m.group(1)] if n in slots_of_form), None)
    if slot is None:
        return None
    said = m.group(2)
    got = updates_from(form, extract(said), said, slot).get(slot)
    if not got or got == state.slots.get(slot):
        return None
    state.slots[slot] = got
    if state.awaiting is None:
        return Confirm(state, (slot,))
    if slot == state.awaiting:
        return replace(advance(state), changed=(slot,))
    return Ask(state, state.awaiting, changed=(slot,))


def _confirms_unchanged(form: Form, state: FormState, parse: Any, text: str) -> bool:
    """ "对 辣椒" at the summary: a confirm word and nothing that changes it."""
    lead = CONFIRM_LEAD.match(text)
    if lead is None:
        return False
    rest = text[lead.end() :]
    if form is SUBSCRIBE:
        topics = topics_from(rest, extract(rest))
        return set(topics) <= set(state.slots.get("topics", []))
    updates = updates_from(form, extract(rest), rest, None)
    return all(state.slots.get(k) == v for k, v in updates.items())


def adds_problem(state: FormState, parse: Any, text: str) -> bool:
    """Whether a message at another question of a need says more of its problem: a pest or
    symptom the lexicon knows, or at the phone question words with no digit that describe
    something (a correction or a question in passing is not)."""
    if state.awaiting in (None, "problem") or CORRECTION.match(text) or is_question_shaped(text):
        return False
    told = state.slots.get("problem") or ""
    if text.strip() in told:
        return False
    if parse.slots.problem or parse.slots.pests:
        return True
    return (
        state.awaiting == "phone"
        and not re.search(r"\d", text)
        and describes_problem(text, parse.slots)
    )


def _filled(slots: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in slots.items() if v not in (None, "", [], SKIPPED)}


def _only_fills_others(updates: dict[str, Any]) -> bool:
    """Whether a message gave other slots worth keeping (a place, a phone, a budget) while
    something else was asked."""
    return bool(set(updates) & _KEPT_WHEN_OTHER)


# slots a message fills while another question is open, kept (and said back) rather than lost:
# "南充市农业科学院" or "副研究员" at the service-area question is the unit or the title
_KEPT_WHEN_OTHER = frozenset(
    ("region", "phone", "budget", "service_regions", "name", "organisation", "title", "fields")
)


def pick(state: FormState, slot: str, region: Region) -> Step:
    """A clarification answered: *region* goes into *slot*."""
    state = replace(state, slots=copy.deepcopy(state.slots))
    if slot == "service_regions":
        state.slots.setdefault("service_regions", []).append(place_dict(region))
    else:
        state.slots["region"] = place_dict(region)
    return advance(state)


def _refusal(
    state: FormState, form: Form, parse: Any, awaiting: str | None, updates: dict[str, Any]
) -> Step | None:
    slots = parse.slots
    if awaiting == "phone" and "phone" not in updates:
        return Refuse(state, "bad_phone", slots.bad_phone or parse.text[:30])
    if slots.bad_phone and "phone" not in updates:
        return Refuse(state, "bad_phone", slots.bad_phone, awaiting)
    rslot = region_slot(form)
    if awaiting == rslot or (rslot == "region" and CORRECTION.match(parse.text)):
        if slots.ambiguous_places and not slots.places:
            return _clarify(state, form, parse)
        if awaiting == rslot and rslot not in updates:
            return Refuse(state, "no_region")
    return None


def _clarify(state: FormState, form: Form, parse: Any) -> Clarify:
    places = tuple(parse.slots.ambiguous_places[:6])
    return Clarify(state, places, region_slot(form))


def _handoff(state: FormState, form: Form) -> Step:
    for name in form.optional:
        state.slots.setdefault(name, SKIPPED)
    missing = tuple(n for n in form.required if not state.slots.get(n))
    if missing:
        return Ask(replace(state, awaiting=missing[0]), missing[0], "handoff_need_more", missing)
    return Confirm(replace(state, confirming=True, awaiting=None))
