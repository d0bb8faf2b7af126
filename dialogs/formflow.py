"""Forms in conversation: start, fill, repair (correct / cancel / skip / digress / clarify /
help / hand off to a person), confirm and commit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from dialogs import personal
from dialogs.feedback import on_vote
from dialogs.forms import (
    FORMS,
    NEED,
    SKIPPED,
    Form,
    next_slot,
    place_dict,
    region_label,
    updates_from,
)
from dialogs.nlu.intents import Intent, Parse, understand
from dialogs.nlu.regions import resolve
from dialogs.types import Button
from store.errors import InvalidInput
from store.experts import ExpertProfileCreate, upsert_expert_profile
from store.needs import Category, NeedCreate, Urgency
from store.orders import post_need
from store.subscriptions import subscribe
from store.users import update_user
from store.validation import Region

if TYPE_CHECKING:
    from dialogs.assistant import Assistant
    from dialogs.context import Turn

_CONFIRM = re.compile(
    r"^\s*(?:确认|确定|对|对的|是的|没问题|可以|好的?|发布|提交|ok|OK|yes|confirm)\s*[。!！]?\s*$"
)
_EDIT = re.compile(r"^\s*(?:修改|改一下|我要改|edit)\s*$")
_SKIP = re.compile(
    r"^\s*(?:跳过|不填|没有|没得|莫得|无|不知道|不晓得|不清楚|暂时没有|skip|pass)\s*[。!！]?\s*$"
)
_HANDOFF = re.compile(r"转人工|人工客服|找人工|直接找专家|别问了|直接发布|快点派人")
_CORRECTION = re.compile(r"^\s*(?:不对|不是|错了|改成|改为|应该是|更正)")
_YES_OFFER = re.compile(
    r"^\s*(?:找专家|要|好|好的|需要|可以|行|嗯|是|麻烦了|帮我找)\s*[。!！]?\s*$"
)
_NO_OFFER = re.compile(r"^\s*(?:不用了?|不要|不需要|算了|no)\s*[。!！]?\s*$")


# ---- entry points -----------------------------------------------------------------------
def start(assistant: Assistant, turn: Turn, name: str, text: str, parse: Parse) -> None:
    form = FORMS[name]
    slots: dict[str, Any] = {}
    if form is NEED:
        slots = _prefill_from_user(turn)
    slots.update(updates_from(form, parse.slots, text, "problem" if form is NEED else None))
    if form is NEED and "problem" not in slots:
        slots["problem"] = text.strip()[:500]
    turn.state.clear()
    turn.state.update({"form": name, "slots": slots})
    understood = _summary(turn, form, skip=("problem",)) if form.name != "subscribe" else ""
    if understood:
        turn.say(turn.t("understood", summary=understood))
    if parse.slots.ambiguous_places and not parse.slots.places:
        _ask_clarification(turn, form, parse)
        return
    _advance(turn)


def on_form_text(assistant: Assistant, turn: Turn, text: str, parse: Parse) -> None:
    form = FORMS[turn.state["form"]]
    slots: dict[str, Any] = turn.state.setdefault("slots", {})
    awaiting: str | None = turn.state.get("awaiting")
    if turn.state.get("confirming"):
        if _CONFIRM.match(text):
            _commit(assistant, turn)
            return
        if _EDIT.match(text):
            turn.say(turn.t("edit_prompt"))
            return
        awaiting = None  # a free-text change to the summary
    if awaiting in form.optional and _CONFIRM.match(text):
        # "确认" at an optional question, after seeing what was understood: the person is done.
        # Skip what is left optional and post, unless something required is still missing.
        for name in form.optional:
            slots.setdefault(name, SKIPPED)
        if next_slot(form, slots) is None:
            _commit(assistant, turn)
        else:
            _advance(turn)
        return
    if _SKIP.match(text) and awaiting:
        if awaiting in form.required:
            turn.say(turn.t("skip_required"))
            _ask(turn, form, awaiting)
        else:
            slots[awaiting] = SKIPPED
            turn.say(turn.t("skipped"))
            _advance(turn)
        return
    if _HANDOFF.search(text) and form is NEED:
        _handoff(turn, form)
        return
    if parse.intent == Intent.HELP:
        help_in_form(assistant, turn)
        return
    updates = updates_from(form, parse.slots, text, awaiting)
    if form is NEED and awaiting != "problem" and not _CORRECTION.match(text):
        updates.pop("problem", None)
    digression = (
        parse.intent == Intent.QUESTION
        and awaiting not in ("problem", "name", "organisation", "title", "fields", "topics")
        and not (set(updates) - {"category", "crop", "crops"})
    )
    if digression:
        assistant.answer_question(turn, text, parse, offer=False)
        turn.state.pop("offer", None)
        question = turn.t(form.questions[awaiting]) if awaiting else _summary(turn, form)
        turn.say(turn.t("resume", form=turn.t(f"form_{form.name}"), question=question))
        if turn.state.get("confirming"):
            _ask_confirmation(turn, form)
        return
    if not _valid_updates(turn, form, parse, awaiting, updates):
        return
    changed = [k for k, v in updates.items() if slots.get(k) != v]
    slots.update(updates)
    if turn.state.get("confirming"):
        if changed:
            names = "、".join(turn.t(f"field_{k}") for k in changed if _has_label(k))
            if names:
                turn.say(turn.t("updated", fields=names))
        _ask_confirmation(turn, form)
        return
    _advance(turn)


def on_action(assistant: Assistant, turn: Turn, action: str) -> None:
    """A button press."""
    form_name = turn.state.get("form")
    if action == "confirm" and form_name and turn.state.get("confirming"):
        _commit(assistant, turn)
    elif action == "edit" and form_name:
        turn.say(turn.t("edit_prompt"))
    elif action == "cancel":
        turn.state.clear()
        turn.say(turn.t("cancelled"))
    elif action == "skip" and form_name:
        on_form_text(assistant, turn, "跳过", understand("跳过"))
    elif action.startswith("pick:") and turn.state.get("options"):
        _pick_option(turn, action.removeprefix("pick:"))
    elif action == "find_expert" and turn.state.get("offer"):
        _accept_offer(assistant, turn)
    elif action.startswith("role:"):
        _choose_role(assistant, turn, action.removeprefix("role:"))
    elif action == "no_thanks":
        turn.state.pop("offer", None)
        turn.say(turn.t("ok_no_expert"))
    elif on_vote(turn, action):
        pass
    elif action.startswith("topic:"):
        personal.on_topic(turn, action.removeprefix("topic:"))
    elif action == "unsubscribe":
        personal.on_unsubscribe(turn, "/unsubscribe")
    elif action == "clear_profile":
        personal.clear(turn)
    else:
        assistant.run_hooks(turn, "action", action)
        if not turn.out.replies:
            turn.say(turn.t("nothing_to_cancel"))


def _choose_role(assistant: Assistant, turn: Turn, role: str) -> None:
    """The /start role choice: open the matching form, or invite a question."""
    turn.state.clear()
    if role in ("need", "expert"):
        form = FORMS[role]
        slots = _prefill_from_user(turn) if form is NEED else {}
        turn.state.update({"form": role, "slots": slots})
        _advance(turn)
    else:
        turn.say(turn.t("start_citizen_hint"))


def on_pending(assistant: Assistant, turn: Turn, text: str) -> bool:
    """Typed answers to an open offer or clarification. True when the text was consumed."""
    if turn.state.get("options"):
        options: list[str] = turn.state["options"]
        pick = text.strip().rstrip("。.")
        if pick.isdigit() and 1 <= int(pick) <= len(options):
            _pick_option(turn, str(int(pick) - 1))
            return True
        for i, label in enumerate(options):
            if pick and (pick == label or pick in label and len(pick) >= 3):
                _pick_option(turn, str(i))
                return True
        turn.state.pop("options", None)  # they moved on; handle the text normally
        return False
    if turn.state.get("offer") and not turn.state.get("form"):
        if _YES_OFFER.match(text):
            _accept_offer(assistant, turn)
            return True
        if _NO_OFFER.match(text):
            turn.state.pop("offer", None)
            turn.say(turn.t("ok_no_expert"))
            return True
        turn.state.pop("offer", None)
    return False


def help_in_form(assistant: Assistant, turn: Turn) -> None:
    form = FORMS[turn.state["form"]]
    turn.say(turn.t("help_form", form=turn.t(f"form_{form.name}")))
    _advance(turn, repeat=True)


# ---- internals --------------------------------------------------------------------------
def _prefill_from_user(turn: Turn) -> dict[str, Any]:
    u = turn.user
    slots: dict[str, Any] = {}
    if u.phone:
        slots["phone"] = u.phone
    if u.province:
        slots["region"] = {"province": u.province, "city": u.city, "county": u.county}
    return slots


def _advance(turn: Turn, repeat: bool = False) -> None:
    form = FORMS[turn.state["form"]]
    slots = turn.state["slots"]
    if turn.state.get("confirming"):
        _ask_confirmation(turn, form)
        return
    slot = next_slot(form, slots)
    if slot is None:
        _ask_confirmation(turn, form)
        return
    _ask(turn, form, slot)


def _ask(turn: Turn, form: Form, slot: str) -> None:
    turn.state["awaiting"] = slot
    buttons: list[list[Button]] = []
    row = []
    if slot in form.optional:
        row.append(turn.button("btn_skip", "skip"))
    row.append(turn.button("btn_cancel", "cancel"))
    buttons.append(row)
    text = turn.t(form.questions[slot])
    if slot == "topics":
        suggested = personal.suggestion_buttons(turn)
        if suggested:
            buttons = [*suggested, *buttons]
            text = f"{text}\n{turn.t('ask_topics_suggest')}"
    turn.say(text, buttons)


def _ask_confirmation(turn: Turn, form: Form) -> None:
    turn.state["confirming"] = True
    turn.state.pop("awaiting", None)
    key = {"need": "confirm_need", "expert": "confirm_expert", "subscribe": "confirm_subscribe"}
    turn.say(
        turn.t(key[form.name], summary=_summary(turn, form)),
        [
            [
                turn.button("btn_confirm", "confirm"),
                turn.button("btn_edit", "edit"),
                turn.button("btn_cancel", "cancel"),
            ]
        ],
    )


SUMMARY_ORDER = (
    "problem",
    "crop",
    "region",
    "phone",
    "budget",
    "urgency",
    "name",
    "fields",
    "service_regions",
    "organisation",
    "title",
    "topics",
)


def _has_label(slot: str) -> bool:
    return slot in SUMMARY_ORDER


def _summary(turn: Turn, form: Form, skip: tuple[str, ...] = ()) -> str:
    slots = turn.state.get("slots", {})
    lines = []
    for slot in SUMMARY_ORDER:
        value = slots.get(slot)
        if slot in skip or value in (None, "", [], SKIPPED):
            continue
        if slot == "region":
            shown = region_label(value)
        elif slot == "service_regions":
            shown = "、".join(region_label(r) for r in value)
        elif slot == "budget":
            shown = turn.t("yuan", n=value)
        elif slot == "urgency":
            shown = turn.t("urgent") if value == "high" else ""
        elif isinstance(value, list):
            shown = "、".join(str(v) for v in value)
        else:
            shown = str(value)
        if shown:
            lines.append(f"· {turn.t(f'field_{slot}')}：{shown}")
    return "\n".join(lines) if form.name != "subscribe" else "、".join(slots.get("topics", []))


def _valid_updates(
    turn: Turn, form: Form, parse: Parse, awaiting: str | None, updates: dict[str, Any]
) -> bool:
    """Refuse what cannot be used, with a clear reason, and ask again. False: stop here."""
    slots = parse.slots
    if awaiting == "phone" and "phone" not in updates:
        turn.say(turn.t("bad_phone", value=slots.bad_phone or parse.text[:30]))
        return False
    if slots.bad_phone and "phone" not in updates:
        turn.say(turn.t("bad_phone", value=slots.bad_phone))
        if awaiting:
            _ask(turn, form, awaiting)
        return False
    region_slot = "region" if form is NEED else "service_regions"
    if awaiting == region_slot or (region_slot == "region" and _CORRECTION.match(parse.text)):
        if slots.ambiguous_places and not slots.places:
            _ask_clarification(turn, form, parse)
            return False
        if awaiting == region_slot and region_slot not in updates:
            turn.say(turn.t("no_region"))
            return False
    return True


def _ask_clarification(turn: Turn, form: Form, parse: Parse) -> None:
    options = [p.region.label for p in parse.slots.ambiguous_places[:6]]
    turn.state["options"] = options
    turn.state["options_for"] = "region" if form is NEED else "service_regions"
    turn.say(
        turn.t("ambiguous_region")
        + "\n"
        + "\n".join(f"{i}. {o}" for i, o in enumerate(options, 1)),
        [[Button(o, f"pick:{i}")] for i, o in enumerate(options)],
    )


def _pick_option(turn: Turn, index: str) -> None:
    options: list[str] = turn.state.pop("options", [])
    slot = turn.state.pop("options_for", "region")
    try:
        label = options[int(index)]
    except (ValueError, IndexError):
        return
    place = resolve(label).best
    if place is None or not turn.state.get("form"):
        return
    slots = turn.state["slots"]
    if slot == "service_regions":
        slots.setdefault("service_regions", []).append(place_dict(place))
    else:
        slots["region"] = place_dict(place)
    _advance(turn)


def _accept_offer(assistant: Assistant, turn: Turn) -> None:
    offer = turn.state.pop("offer", {})
    text = str(offer.get("text", ""))
    start(assistant, turn, "need", text, understand(text))


def _handoff(turn: Turn, form: Form) -> None:
    slots = turn.state["slots"]
    for name in form.optional:
        slots.setdefault(name, SKIPPED)
    missing = [n for n in form.required if not slots.get(n)]
    if missing:
        names = "、".join(turn.t(f"field_{m}") for m in missing)
        turn.say(turn.t("handoff_need_more", missing=names))
        _ask(turn, form, missing[0])
        return
    _ask_confirmation(turn, form)


def _value(slots: dict[str, Any], name: str, default: Any = "") -> Any:
    value = slots.get(name, default)
    return default if value == SKIPPED else value


def _commit(assistant: Assistant, turn: Turn) -> None:
    form = FORMS[turn.state["form"]]
    slots = turn.state["slots"]
    session, user = turn.session, turn.user
    try:
        if form is NEED:
            region = slots.get("region") or {}
            posted = post_need(
                session=session,
                requester=user,
                need_in=NeedCreate(
                    text=slots["problem"],
                    crop=_value(slots, "crop"),
                    problem=_value(slots, "problem")[:200],
                    category=Category(slots.get("category") or "other"),
                    province=region.get("province", ""),
                    city=region.get("city", ""),
                    county=region.get("county", ""),
                    urgency=Urgency.HIGH if slots.get("urgency") == "high" else Urgency.NORMAL,
                    budget=_value(slots, "budget", None),
                    contact_phone=slots["phone"],
                ),
            )
            if not user.phone or not user.province:
                update_user(
                    session=session,
                    user=user,
                    phone=user.phone or posted.need.contact_phone,
                    province=user.province or posted.need.province,
                    city=user.city if user.province else posted.need.city,
                    county=user.county if user.province else posted.need.county,
                )
            turn.state.clear()
            personal.note_need(turn, posted.need)
            turn.say(turn.t("need_posted", id=posted.order.id))
            assistant.run_hooks(turn, "need_posted", posted)
        elif form.name == "expert":
            regions = [Region(**r) for r in slots.get("service_regions", [])]
            first = regions[0] if regions else Region()
            update_user(
                session=session,
                user=user,
                display_name=str(slots.get("name") or user.display_name)[:64],
                phone=slots.get("phone") or user.phone,
                province=user.province or first.province,
                city=user.city if user.province else first.city,
                county=user.county if user.province else first.county,
            )
            upsert_expert_profile(
                session=session,
                user=user,
                profile_in=ExpertProfileCreate(
                    fields=list(slots.get("fields", [])),
                    skills=list(slots.get("fields", [])),
                    crops=list(slots.get("crops", [])),
                    organisation=str(_value(slots, "organisation")),
                    title=str(_value(slots, "title")),
                    service_regions=regions,
                ),
            )
            turn.state.clear()
            assistant.run_hooks(turn, "expert_saved", user)
            turn.say(
                turn.t(
                    "expert_saved",
                    fields="、".join(slots.get("fields", [])),
                    regions="、".join(r.label for r in regions),
                )
            )
        else:
            topics = subscribe(
                session=session, user_id=user.id or 0, topics=list(slots.get("topics", []))
            )
            turn.state.clear()
            turn.say(turn.t("subscribed", topics="、".join(topics)))
    except InvalidInput as exc:
        session.rollback()
        _refused(turn, form, exc)


def _refused(turn: Turn, form: Form, exc: InvalidInput) -> None:
    """The store refused a value: say which, clear it and ask for it again."""
    field = {
        "contact_phone": "phone",
        "province": "region",
        "city": "region",
        "county": "region",
        "text": "problem",
    }.get(exc.field, exc.field)
    slots = turn.state["slots"]
    if field == "phone":
        turn.say(turn.t("bad_phone", value=exc.value))
    elif field == "region":
        turn.say(turn.t("bad_region", value=exc.value))
    else:
        turn.say(f"{turn.t(f'field_{field}') if _has_label(field) else field}：{exc.reason}")
    slots.pop(field, None)
    turn.state["confirming"] = False
    if field in form.required or field in form.optional:
        _ask(turn, form, field)
    else:
        _advance(turn)
