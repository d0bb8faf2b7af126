"""The form desk: shows what the form engine decided (questions, summaries, clarifications,
refusals) and commits a confirmed form to the store. Deciding is dialogs.forms.step's job."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dialogs.achievements import AchievementDesk
from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.enterprise import EnterpriseDesk
from dialogs.form_specs import DOCKING, FORMS, NEED_LIKE, SKIPPED, TECH, Form, region_label, value
from dialogs.form_steps import Ask, Clarify, Confirm, Help, Refuse, Step
from dialogs.forms import advance
from dialogs.nlu.masks import mask_terms
from dialogs.nlu.regions import find_mentions
from dialogs.nlu.terms import label_key
from dialogs.personal import PersonalDesk
from dialogs.state import FormState, Options
from dialogs.teams import TeamDesk
from dialogs.types import Button
from store.errors import InvalidInput
from store.experts import ExpertProfileCreate, upsert_expert_profile
from store.media import media_kinds
from store.needs import Category, NeedCreate, Urgency
from store.orders import Posted, post_need
from store.phone import numbers
from store.subscriptions import subscribe, topics_of, unsubscribe
from store.users import update_user
from store.validation import Region

SUMMARY_ORDER = (
    "problem",
    "crop",
    "region",
    "phone",
    "budget",
    "urgency",
    "name",
    "fields",
    "crops",
    "service_regions",
    "organisation",
    "title",
    "topics",
    # issue 18: enterprises, teams and achievements
    "achievement",
    "company",
    "industry",
    "contact",
    "size",
    "service_kind",
    "deadline",
    "contract",
    "team_name",
    "ach_title",
    "kind",
    "maturity",
    "mode",
    "ach_fields",
    "applied_in",
    "price",
)
# the subscription form's record of what the person followed before it saved anything
FOLLOWED_BEFORE = "followed_before"
_CONFIRM_KEY = {
    "need": "confirm_need",
    "expert": "confirm_expert",
    "subscribe": "confirm_subscribe",
    "tech": "confirm_need",
    "docking": "confirm_docking",
    "enterprise": "confirm_enterprise",
    "team": "confirm_team",
    "achievement": "confirm_achievement",
}
# slots whose value is a code shown through the catalogue: "field_value_<slot>_<code>"
_CODED = ("size", "service_kind", "kind", "maturity", "mode")
# what the store calls a field -> the form's slot
_STORE_FIELD = {
    "contact_phone": "phone",
    "province": "region",
    "city": "region",
    "county": "region",
    "text": "problem",
    # issue 18
    "team": "team_name",
    "title": "ach_title",
}


def problem_only(text: str) -> str:
    """The problem as experts read it: the words of the message without its places and
    phones (the confirmed place is shown beside it; a corrected one must not linger)."""
    # crop and pest names are blanked first (黄龙病 holds no place), keeping positions
    for mention in sorted(find_mentions(mask_terms(text)), key=lambda m: -m.start):
        end = mention.start + len(mention.text)
        end += text.startswith("的", end)  # "蓬安的橘子树" -> "橘子树"
        text = text[: mention.start] + text[end:]
    for num in reversed(numbers(text)):
        text = text[: num.start] + text[num.end :]
    text = re.sub(r"(?:我在|我是|在|电话|联系|手机)[，,\s]*(?=[，,。\s]|$)", "", text)
    # a particle the place leaned on, left alone ("还掉果 江安的" -> "还掉果 的")
    text = re.sub(r"(?:(?<=[\s，,])|^)(?:的|哈|嘛|哦|噢|呢|了|哟)(?=[\s，,。]|$)", "", text)
    return re.sub(r"\s+", " ", re.sub(r"^[，,。\s]+|[，,\s]+$", "", text)).strip() or text


@dataclass(frozen=True, slots=True)
class Saved:
    """What a commit stored: the posted need, or the expert whose profile was saved."""

    form: str
    posted: Posted | None = None
    expert_id: int | None = None


@dataclass(slots=True)
class FormDesk:
    personal: PersonalDesk
    # enterprises, teams and achievements: their forms' commits
    enterprise: EnterpriseDesk
    teams: TeamDesk
    achievements: AchievementDesk

    def prefill(self, turn: Turn, name: str) -> dict[str, Any]:
        """What is known already: a need starts with the person's phone and place; an
        enterprise's need with its company."""
        u = turn.user
        slots: dict[str, Any] = {}
        if FORMS[name] in NEED_LIKE or name == "enterprise":
            if u.phone:
                slots["phone"] = u.phone
            if u.province:
                slots["region"] = {"province": u.province, "city": u.city, "county": u.county}
        slots.update(self.enterprise.prefill(turn, name))
        slots.update(self.teams.prefill(turn, name))
        return slots

    def show(self, turn: Turn, step: Step) -> None:
        """Say what *step* means and keep its state (Commit and Digress are the caller's)."""
        turn.state.form = step.state
        form = FORMS[step.state.name]
        match step:
            case Ask(slot=slot, note=note, missing=missing, changed=changed, noted=noted):
                self.say_changed(turn, step.state, changed)
                self.say_changed(turn, step.state, noted, "noted_other")
                self.say_dropped(turn, step.dropped)
                if note == "handoff_need_more":
                    names = "、".join(turn.t(f"field_{m}") for m in missing)
                    turn.say(turn.t(note, missing=names))
                elif note:
                    turn.say(turn.t(note))
                self.ask(turn, form, slot)
            case Confirm(changed=changed, note=note, dropped=dropped):
                if note:
                    turn.say(turn.t(note))
                self.say_changed(turn, step.state, changed)
                self.say_dropped(turn, dropped)
                self.confirm(turn, form)
            case Clarify(options=options, slot=slot):
                labels = [r.label for r in options]
                turn.state.options = Options(labels, slot)
                turn.say(
                    turn.t("ambiguous_region")
                    + "\n"
                    + "\n".join(f"{i}. {o}" for i, o in enumerate(labels, 1)),
                    [[Button(o, Action(Act.PICK, n=i))] for i, o in enumerate(labels)],
                )
            case Refuse(key=key, value=bad, slot=slot):
                turn.say(turn.t(key, value=bad))
                if slot is not None:
                    self.ask(turn, form, slot)
            case Help(about=about):
                # what the question means ("预算" asked back), else how forms work
                form_help = turn.t("help_form", form=turn.t(f"form_{form.name}"))
                turn.say(turn.t(f"service_{about}") if about else form_help)
                self.show(turn, advance(step.state))

    def say_changed(
        self, turn: Turn, state: FormState, changed: tuple[str, ...], key: str = "changed_to"
    ) -> None:
        """ "已改为：地点 四川省泸州市古蔺县": a correction said back with its new value (*key*
        "noted_other": "已记下：称呼 张建国", an answer to another question than the one asked)."""
        shown = [
            f"{turn.t(label_key(k, state.slots.get(k)))} {self.shown(turn, k, state.slots.get(k))}"
            for k in changed
            if k in SUMMARY_ORDER and self.shown(turn, k, state.slots.get(k))
        ]
        if shown:
            turn.say(turn.t(key, values="；".join(shown)))

    @staticmethod
    def say_dropped(turn: Turn, dropped: tuple[str, ...]) -> None:
        """ "好的，职称不填。": optional slots said to be none while something else was asked."""
        if dropped:
            names = "、".join(turn.t(f"field_{d}") for d in dropped)
            turn.say(turn.t("dropped_slots", fields=names))

    def repeat(self, turn: Turn) -> None:
        """Ask the open question (or show the summary) again, e.g. after a digression."""
        state = turn.state.form
        if state is None:
            return
        form = FORMS[state.name]
        if state.confirming or state.awaiting is None:
            self.confirm(turn, form)
        else:
            self.ask(turn, form, state.awaiting)

    def question(self, turn: Turn) -> str:
        """The open question as text, for "我们继续……"."""
        state = turn.state.form
        if state is None:
            return ""
        form = FORMS[state.name]
        if state.awaiting and not state.confirming:
            return turn.t(form.questions[state.awaiting])
        return self.summary(turn, state)

    def ask(self, turn: Turn, form: Form, slot: str) -> None:
        if turn.state.form is not None:
            turn.state.form.awaiting = slot
        row = []
        if slot in form.optional:
            row.append(turn.button("btn_skip", Action(Act.SKIP)))
        row.append(turn.button("btn_cancel", Action(Act.CANCEL)))
        buttons: list[list[Button]] = [row]
        text = turn.t(form.questions[slot])
        if slot == "topics":
            suggested = self.personal.suggestion_buttons(turn)
            if suggested:
                buttons = [*suggested, *buttons]
                text = f"{text}\n{turn.t('ask_topics_suggest')}"
        turn.say(text, buttons)

    def confirm(self, turn: Turn, form: Form) -> None:
        state = turn.state.form
        if state is None:
            return
        state.confirming, state.awaiting = True, None
        if form.name == "subscribe":
            self._follow(turn, state)
            return
        turn.say(
            turn.t(_CONFIRM_KEY[form.name], summary=self.summary(turn, state)),
            [
                [
                    turn.button("btn_confirm", Action(Act.CONFIRM)),
                    turn.button("btn_edit", Action(Act.EDIT)),
                    turn.button("btn_cancel", Action(Act.CANCEL)),
                ]
            ],
        )

    # ---- subscriptions: saved as soon as the topics are known, undone by a cancel ----------
    def _follow(self, turn: Turn, state: FormState) -> None:
        """Subscribe to the form's topics at once (a subscription is harmless and undone by
        one word) and say so; topics this form added earlier and now dropped are removed."""
        uid = turn.user.id or 0
        have = topics_of(session=turn.session, user_id=uid)
        before = state.slots.setdefault(FOLLOWED_BEFORE, list(have))
        topics = list(state.slots.get("topics", []))
        dropped = [x for x in have if x not in before and x not in topics]
        try:
            if dropped:
                unsubscribe(session=turn.session, user_id=uid, topics=dropped)
            subscribe(session=turn.session, user_id=uid, topics=topics)
        except InvalidInput as exc:
            turn.session.rollback()
            self._refused(turn, state, exc)
            return
        turn.say(
            turn.t("confirm_subscribe", summary=self.summary(turn, state)),
            [
                [
                    turn.button("btn_confirm", Action(Act.CONFIRM)),
                    turn.button("btn_undo", Action(Act.CANCEL)),
                ]
            ],
        )

    def abandon(self, turn: Turn) -> str:
        """Leave the open form on a cancel: nothing of it is kept (topics a subscription form
        already followed are unfollowed again). Returns the i18n key of what to say."""
        state = turn.state.form
        said = "cancelled"
        if state is not None and FOLLOWED_BEFORE in state.slots:
            said = "subscription_undone"
            uid = turn.user.id or 0
            before = set(state.slots[FOLLOWED_BEFORE])
            have = topics_of(session=turn.session, user_id=uid)
            added = [x for x in have if x not in before]
            if added:
                unsubscribe(session=turn.session, user_id=uid, topics=added)
        turn.state.clear_form()
        return said

    def summary(self, turn: Turn, state: FormState, skip: tuple[str, ...] = ()) -> str:
        slots = state.slots
        if state.name == "subscribe":
            return "、".join(slots.get("topics", []))
        lines = []
        for slot in SUMMARY_ORDER:
            shown = "" if slot in skip else self.shown(turn, slot, slots.get(slot))
            if shown:
                lines.append(f"· {turn.t(label_key(slot, slots.get(slot)))}：{shown}")
        if slots.get("media"):  # photos and voice kept for the need (issue 16)
            kinds = media_kinds(session=turn.session, media_ids=list(slots["media"]))
            photos = sum(1 for k in kinds.values() if k == "photo")
            if photos:
                lines.append(turn.t("media_photo_mark", n=photos))
            if len(kinds) > photos:
                lines.append(turn.t("media_voice_mark", n=len(kinds) - photos))
        return "\n".join(lines)

    @staticmethod
    def shown(turn: Turn, slot: str, got: Any) -> str:
        """A slot's value as people read it ("" for nothing or skipped)."""
        if got in (None, "", [], SKIPPED):
            return ""
        if slot == "region":
            return region_label(got)
        if slot == "service_regions":
            return "、".join(region_label(r) for r in got)
        if slot == "budget":
            return turn.t("yuan", n=got)
        if slot == "urgency":
            return turn.t("urgent") if got == "high" else ""
        if slot in _CODED:
            return turn.t(f"{slot}_{got}")
        if slot == "contract":
            return turn.t("yes" if got else "no")
        if slot == "price":
            return turn.t("price_talk") if isinstance(got, str) else price_label(turn, got)
        if slot == "achievement":
            return str(got.get("title", "")) if isinstance(got, dict) else str(got)
        if isinstance(got, list):
            return "、".join(str(v) for v in got)
        return str(got)

    # ---- committing ----------------------------------------------------------------------
    def commit(self, turn: Turn, state: FormState) -> Saved | None:
        """Save a confirmed form; on a value the store refuses, say which and ask again."""
        form = FORMS[state.name]
        try:
            if form in NEED_LIKE:
                saved = self._post_need(turn, state.slots, form.name)
            elif form.name == "expert":
                saved = self._save_expert(turn, state.slots)
            elif form.name == "enterprise":
                self.enterprise.commit(turn, state.slots)
                saved = Saved(form.name)
            elif form.name == "team":
                self.teams.commit(turn, state.slots)
                saved = Saved(form.name)
            elif form.name == "achievement":
                self.achievements.commit(turn, state.slots)
                saved = Saved(form.name)
            else:
                topics = subscribe(
                    session=turn.session,
                    user_id=turn.user.id or 0,
                    topics=list(state.slots.get("topics", [])),
                )
                turn.state.clear_form()
                turn.say(turn.t("subscribed", topics="、".join(topics)))
                saved = Saved(form.name)
        except InvalidInput as exc:
            turn.session.rollback()
            self._refused(turn, state, exc)
            return None
        return saved

    def _post_need(self, turn: Turn, slots: dict[str, Any], name: str = "need") -> Saved:
        session, user = turn.session, turn.user
        region = slots.get("region") or {}
        kind = self.enterprise.requester_kind(turn, name, slots)
        achievement = slots.get("achievement") if FORMS[name] is DOCKING else None
        posted = post_need(
            session=session,
            requester=user,
            need_in=NeedCreate(
                text=slots["problem"],
                crop=value(slots, "crop"),
                problem=problem_only(slots["problem"])[:200],
                category=Category(slots.get("category") or _tech_category(slots, name)),
                province=region.get("province", ""),
                city=region.get("city", ""),
                county=region.get("county", ""),
                urgency=Urgency.HIGH if slots.get("urgency") == "high" else Urgency.NORMAL,
                budget=value(slots, "budget", None),
                contact_phone=slots["phone"],
                requester_kind=kind,
                service_kind=str(value(slots, "service_kind")) if FORMS[name] is TECH else "",
                deadline=str(value(slots, "deadline")),
                paid_contract=value(slots, "contract", None),
                achievement_id=achievement.get("id") if isinstance(achievement, dict) else None,
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
        turn.state.clear_form()
        self.personal.note_need(turn, posted.need)
        if achievement is not None:
            turn.say(turn.t("dock_posted", id=posted.order.id, title=achievement.get("title")))
        else:
            turn.say(turn.t("need_posted", id=posted.order.id))
        return Saved("need", posted=posted)

    def _save_expert(self, turn: Turn, slots: dict[str, Any]) -> Saved:
        session, user = turn.session, turn.user
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
                organisation=str(value(slots, "organisation")),
                title=str(value(slots, "title")),
                service_regions=regions,
            ),
        )
        turn.state.clear_form()
        turn.say(
            turn.t(
                "expert_saved",
                fields="、".join(slots.get("fields", [])),
                regions="、".join(r.label for r in regions),
            )
        )
        return Saved("expert", expert_id=user.id)

    def _refused(self, turn: Turn, state: FormState, exc: InvalidInput) -> None:
        """The store refused a value: say which, clear it and ask for it again."""
        form = FORMS[state.name]
        slot = _STORE_FIELD.get(exc.field, exc.field)
        if slot == "phone":
            turn.say(turn.t("bad_phone", value=exc.value))
        elif slot == "region":
            turn.say(turn.t("bad_region", value=exc.value))
        else:
            label = turn.t(f"field_{slot}") if slot in SUMMARY_ORDER else slot
            turn.say(f"{label}：{exc.reason}")
        state.slots.pop(slot, None)
        state.confirming = False
        turn.state.form = state
        if slot in form.required or slot in form.optional:
            self.ask(turn, form, slot)
        else:
            self.show(turn, advance(state))


def price_label(turn: Turn, got: Any) -> str:
    """[low, high] yuan as "5万–10万元" (one figure when they are the same)."""
    low, high = (int(x) for x in got)

    def amount(n: int) -> str:
        return f"{n / 10_000:g}万" if n >= 10_000 else str(n)

    if low == high:
        return turn.t("price_value", value=amount(low))
    return turn.t("price_value", value=f"{amount(low)}–{amount(high)}")


def _tech_category(slots: dict[str, Any], form: str) -> str:
    """An enterprise's process, testing or product need with no farming problem named is
    about processing (the field experts of 农产品加工, 发酵工程 ... cover)."""
    if form == "tech" and slots.get("service_kind") in ("process", "testing", "product"):
        return "processing"
    return "other"
