"""A person's own stored records, shown in Chinese and changed by saying so.

"我的资料" shows what is kept about them (name, phone, place; an expert's fields, crops,
service area, unit and title; an enterprise's name, industry, size and contact) before the
interest profile; "服务地区加上蒲江县", "电话改成139…", "擅长再加一个猕猴桃" change one field
at once and say it back ("已改为：…")."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.form_words import QUITS_EXPERT
from dialogs.nlu.edits import EditOp, FieldEdit, field_edit
from dialogs.nlu.enterprise import enterprise_size
from dialogs.nlu.regions import resolve
from dialogs.nlu.slots import extract
from dialogs.nlu.terms import label_key
from store.enterprises import Enterprise, enterprise_of, save_enterprise
from store.errors import InvalidInput
from store.experts import ExpertProfile, ExpertProfileCreate, get_expert_profile, withdraw_expert
from store.experts import upsert_expert_profile as save_expert
from store.trust import is_verified
from store.users import update_user
from store.validation import Region

log = logging.getLogger(__name__)

EXPERT_FIELDS = ("fields", "crops", "service_regions", "organisation", "title")
ENTERPRISE_FIELDS = ("company", "industry", "size", "contact")
_SPLIT = re.compile(r"[，,、;；\s和与及跟]+")
_COUNT_LEAD = re.compile(r"^(?:上|一个|一项|一门|个|项|还有|也|再)+")
_NAME_LEAD = re.compile(r"^(?:叫做?|是|为)\s*")
# what may stand beside a phone sent on its own ("我的电话：139…", "手机 139…")
_PHONE_WORDS = re.compile(r"我的|我|电话|手机|号码|联系方式|是|[:：,，。.\s\-－()（）+]|\d")


def bare_number(text: str) -> bool:
    """*text* is a phone-like number and nothing else ("13900001111", "电话 139 0000 1111",
    "1390000111" with a digit missing)."""
    return not _PHONE_WORDS.sub("", text) and len(re.sub(r"\D", "", text)) >= 7


def _words(value: str) -> list[str]:
    """ "一个猕猴桃和葡萄的" -> 猕猴桃, 葡萄."""
    out = []
    for word in _SPLIT.split(value):
        word = _COUNT_LEAD.sub("", word.strip()).removesuffix("的").strip()
        if 2 <= len(word) <= 16 and word not in out:
            out.append(word)
    return out


def _edited(have: list[str], op: EditOp, named: list[str]) -> list[str]:
    if op is EditOp.SET:
        return list(dict.fromkeys(named))
    if op is EditOp.ADD:
        return list(dict.fromkeys([*have, *named]))
    return [x for x in have if not any(n in x or x in n for n in named)]


def _region_dict(r: Region) -> dict[str, str]:
    return {"province": r.province, "city": r.city, "county": r.county}


def _within(region: dict[str, str], place: Region) -> bool:
    """*region* is *place* or lies inside it (removing 眉山市 removes 东坡区 too)."""
    keys = ("province", "city", "county")
    wanted = _region_dict(place)
    return all(not wanted[k] or region.get(k) == wanted[k] for k in keys)


@dataclass(slots=True)
class RecordsDesk:
    """What is stored about the person themselves, and their edits of it."""

    # ---- 我的资料 ----------------------------------------------------------------------------
    @staticmethod
    def lines(turn: Turn) -> list[str]:
        """Their stored records in Chinese (none for someone who has told us nothing)."""
        user, session = turn.user, turn.session
        uid = user.id or 0
        expert = get_expert_profile(session=session, user_id=uid)
        company = enterprise_of(session=session, user_id=uid)
        none = turn.t("profile_none")
        place = Region(user.province, user.city, user.county).label
        if not (user.phone or expert or company or place):
            return []
        out = [
            turn.t("records_head"),
            turn.t(
                "records_user",
                name=user.display_name or none,
                phone=user.phone or none,
                region=place or none,
            ),
        ]
        if expert is not None:
            verified = is_verified(session=session, expert_id=uid)
            out += RecordsDesk._expert_lines(turn, expert, verified)
        if company is not None:
            out += RecordsDesk._enterprise_lines(turn, company)
        out.append(turn.t("records_edit_hint" if expert else "records_edit_hint_plain"))
        return out

    @staticmethod
    def _expert_lines(turn: Turn, p: ExpertProfile, verified: bool) -> list[str]:
        none = turn.t("profile_none")
        return [
            turn.t(
                "records_expert_head",
                status=turn.t("records_verified" if verified else "records_unverified"),
            ),
            turn.t(
                "records_line", field=turn.t("field_fields"), value="、".join(p.fields) or none
            ),
            turn.t(
                "records_line",
                field=turn.t(label_key("crops", p.crops)),
                value="、".join(p.crops) or none,
            ),
            turn.t(
                "records_line",
                field=turn.t("field_service_regions"),
                value="、".join(r.label for r in p.regions) or none,
            ),
            turn.t(
                "records_line", field=turn.t("field_organisation"), value=p.organisation or none
            ),
            turn.t("records_line", field=turn.t("field_title"), value=p.title or none),
        ]

    @staticmethod
    def _enterprise_lines(turn: Turn, e: Enterprise) -> list[str]:
        none = turn.t("profile_none")
        size = turn.t(f"size_{e.size}") if e.size else none
        region = Region(e.province, e.city, e.county).label or none
        values = (
            ("field_company", e.name),
            ("field_industry", e.industry),
            ("field_size", size),
            ("field_contact", e.contact_name),
            ("field_region", region),
        )
        return [
            turn.t("records_enterprise_head"),
            *(turn.t("records_line", field=turn.t(k), value=v or none) for k, v in values),
        ]

    # ---- a phone on its own ------------------------------------------------------------------
    def offer_phone(self, turn: Turn, text: str) -> None:
        """A phone sent with nothing asked: ask whether it is their contact (a typed yes
        saves it too); never guess that it opens anything. A number that is no phone is
        said to be one."""
        slots = extract(text)
        phone = slots.phone
        if not phone:
            turn.say(turn.t("records_bad_phone", value=slots.bad_phone or text.strip()))
            return
        if turn.user.phone == phone:
            turn.say(turn.t("phone_already", phone=phone))
            return
        save = Action(Act.SAVE_PHONE, arg=phone)
        turn.state.yes = str(save)
        turn.say(
            turn.t("phone_what", phone=phone),
            [
                [
                    turn.button("btn_save_phone", save),
                    turn.button("btn_no_thanks", Action(Act.NO_THANKS)),
                ]
            ],
        )

    # ---- "我不想当专家了" ------------------------------------------------------------------
    def offer_quit_expert(self, turn: Turn, text: str) -> bool:
        """ "我不想当专家了" from a registered expert: offer to withdraw the registration (a
        typed yes confirms it too). False when *text* is not that or they are no expert."""
        if not QUITS_EXPERT.search(text):
            return False
        expert = get_expert_profile(session=turn.session, user_id=turn.user.id or 0)
        if expert is None:
            return False
        if not expert.available:
            turn.say(turn.t("expert_quit_already"))
            return True
        quit_ = Action(Act.QUIT_EXPERT)
        turn.state.yes = str(quit_)
        turn.say(
            turn.t("offer_quit_expert"),
            [
                [
                    turn.button("btn_quit_expert", quit_),
                    turn.button("btn_keep_need", Action(Act.NO_THANKS)),
                ]
            ],
        )
        return True

    def quit_expert(self, turn: Turn) -> None:
        """The confirmed withdrawal: no more matches; the data stays theirs to export or delete."""
        withdraw_expert(session=turn.session, user_id=turn.user.id or 0)
        turn.say(turn.t("expert_quit"))

    def save_phone(self, turn: Turn, phone: str) -> None:
        self._user(turn, FieldEdit("phone", EditOp.SET, phone))

    # ---- "服务地区加上蒲江县" ------------------------------------------------------------------
    def edit(self, turn: Turn, text: str) -> bool:
        """Change a field of the person's records when *text* says so and they have that
        record; True when the message was about their records (changed or refused)."""
        change = field_edit(text)
        if change is None:
            return False
        uid = turn.user.id or 0
        if change.field in EXPERT_FIELDS:
            expert = get_expert_profile(session=turn.session, user_id=uid)
            return expert is not None and self._expert(turn, expert, change)
        if change.field in ENTERPRISE_FIELDS:
            company = enterprise_of(session=turn.session, user_id=uid)
            return company is not None and self._enterprise(turn, company, change)
        return self._user(turn, change)

    def _say(self, turn: Turn, field: str, value: str) -> None:
        turn.say(turn.t("changed_to", values=f"{turn.t(f'field_{field}')} {value}"))

    def _refuse(self, turn: Turn, key: str, value: str = "") -> bool:
        turn.say(turn.t(key, value=value))
        return True

    def _user(self, turn: Turn, change: FieldEdit) -> bool:
        user = turn.user
        changes: dict[str, Any] = {}
        shown = ""
        if change.field == "phone":
            expert = get_expert_profile(session=turn.session, user_id=user.id or 0)
            if change.op is EditOp.REMOVE:
                if expert is not None:
                    return self._refuse(turn, "records_phone_required")
                changes["phone"], shown = None, turn.t("profile_none")
            else:
                slots = extract(change.value)
                if not slots.phone:
                    return self._refuse(turn, "records_bad_phone", slots.bad_phone or change.value)
                changes["phone"] = shown = slots.phone
        elif change.field == "name":
            name = _NAME_LEAD.sub("", change.value).strip()
            if change.op is EditOp.REMOVE or not 1 <= len(name) <= 20:
                return self._refuse(turn, "records_bad_name", change.value)
            changes["display_name"] = shown = name
        else:  # region: where they are (and where their enterprise is)
            place = resolve(change.value).best
            if place is None or change.op is EditOp.REMOVE:
                return self._refuse(turn, "records_bad_place", change.value)
            changes.update(_region_dict(place))
            shown = place.label
            company = enterprise_of(session=turn.session, user_id=user.id or 0)
            if company is not None:
                self._save_enterprise(
                    turn, company, province=place.province, city=place.city, county=place.county
                )
        try:
            update_user(session=turn.session, user=user, **changes)
        except InvalidInput as exc:
            turn.session.rollback()
            log.info("refused a record edit of user %s: %s", user.id, exc)
            return self._refuse(turn, "records_refused", change.value)
        self._say(turn, change.field, shown)
        return True

    def _expert(self, turn: Turn, p: ExpertProfile, change: FieldEdit) -> bool:
        values: dict[str, Any] = {
            "fields": list(p.fields),
            "crops": list(p.crops),
            "service_regions": [Region(**r) for r in p.service_regions],
            "organisation": p.organisation,
            "title": p.title,
        }
        said: list[str] = [change.field]
        match change.field:
            case "service_regions":
                places = list(resolve(change.value).places)
                if not places:
                    return self._refuse(turn, "records_bad_place", change.value)
                have = list(p.service_regions)
                if change.op is EditOp.REMOVE:
                    kept = [r for r in have if not any(_within(r, x) for x in places)]
                    if len(kept) == len(have):
                        return self._refuse(turn, "records_not_there", change.value)
                elif change.op is EditOp.ADD:
                    kept = have + [_region_dict(x) for x in places if _region_dict(x) not in have]
                else:
                    kept = [_region_dict(x) for x in places]
                values["service_regions"] = [Region(**r) for r in kept]
            case "fields" | "crops":
                slots = extract(change.value)
                crops = list(slots.crops)
                named = (
                    (list(slots.fields) + _words(change.value))
                    if change.field == "fields"
                    else crops or _words(change.value)
                )
                named = list(dict.fromkeys(named))
                if not named:
                    return self._refuse(turn, "records_bad_value", change.value)
                values[change.field] = _edited(values[change.field], change.op, named)
                if change.field == "fields" and crops and change.op is not EditOp.SET:
                    # "擅长再加一个猕猴桃": a crop named as a skill is one of their crops too
                    values["crops"] = _edited(values["crops"], change.op, crops)
                    said.append("crops")
            case _:  # organisation, title
                values[change.field] = "" if change.op is EditOp.REMOVE else change.value[:64]
        if not values["fields"]:
            return self._refuse(turn, "records_fields_required")
        if not values["service_regions"]:
            return self._refuse(turn, "records_regions_required")
        try:
            saved = save_expert(
                session=turn.session,
                user=turn.user,
                profile_in=ExpertProfileCreate(
                    fields=values["fields"],
                    skills=values["fields"],
                    crops=values["crops"],
                    service_regions=values["service_regions"],
                    organisation=values["organisation"],
                    title=values["title"],
                    bio=p.bio,
                    available=p.available,
                ),
            )
        except InvalidInput as exc:
            turn.session.rollback()
            log.info("refused an expert profile edit of user %s: %s", turn.user.id, exc)
            return self._refuse(turn, "records_refused", change.value)
        none = turn.t("profile_none")
        shown = {
            "fields": "、".join(saved.fields),
            "crops": "、".join(saved.crops),
            "service_regions": "、".join(r.label for r in saved.regions),
            "organisation": saved.organisation,
            "title": saved.title,
        }
        turn.say(
            turn.t(
                "changed_to",
                values="；".join(
                    f"{turn.t(label_key(k, saved.crops))} {shown[k] or none}" for k in said
                ),
            )
        )
        return True

    def _enterprise(self, turn: Turn, e: Enterprise, change: FieldEdit) -> bool:
        if change.field == "company" and change.op is EditOp.REMOVE:
            return self._refuse(turn, "records_bad_value", change.value)
        value = "" if change.op is EditOp.REMOVE else change.value
        if change.field == "size":
            value = enterprise_size(change.value) if value else ""
            if change.op is not EditOp.REMOVE and not value:
                return self._refuse(turn, "records_bad_value", change.value)
        key = {"company": "name", "contact": "contact_name"}.get(change.field, change.field)
        if not self._save_enterprise(turn, e, **{key: value[:64]}):
            return self._refuse(turn, "records_refused", change.value)
        none = turn.t("profile_none")
        shown = turn.t(f"size_{value}") if change.field == "size" and value else value
        self._say(turn, change.field, shown or none)
        return True

    @staticmethod
    def _save_enterprise(turn: Turn, e: Enterprise, **changes: str) -> bool:
        current = {
            "name": e.name,
            "industry": e.industry,
            "size": e.size,
            "contact_name": e.contact_name,
            "province": e.province,
            "city": e.city,
            "county": e.county,
        }
        try:
            save_enterprise(session=turn.session, user=turn.user, **(current | changes))
        except InvalidInput as exc:
            turn.session.rollback()
            log.info("refused an enterprise edit of user %s: %s", turn.user.id, exc)
            return False
        # save_enterprise keeps an old value for an empty one: an emptied field is cleared here
        emptied = {
            k: v for k, v in changes.items() if not v and k in ("industry", "size", "contact_name")
        }
        if emptied:
            for k in emptied:
                setattr(e, k, "")
            turn.session.add(e)
            turn.session.commit()
        return True
