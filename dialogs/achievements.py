"""The achievements desk (科技成果): experts register achievements by talking (the
achievement form) or with a file of several; anyone finds them by a natural question and
asks to 对接 one (a need for its owner only: the orders' one state machine does the rest).

The search index is read from the database like the expert cards: before searching, the
catalogue is synced when its row count or latest change moved (another process may have
registered some).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from dialogs.actions import Act, Action
from dialogs.context import Turn
from dialogs.nlu.regions import find_mentions
from dialogs.types import Button, MediaIn
from retrieval.achievements import AchievementCard, AchievementIndex
from store.achievement_files import UnreadableFile, import_achievements
from store.achievements import (
    KIND_WORDS,
    Achievement,
    AchievementIn,
    Kind,
    add_achievement,
    catalogue_version,
    get_achievement,
    listed,
    read_mode,
)
from store.errors import InvalidInput, NotFound
from store.region import Region
from store.users import Role, users_by_id

log = logging.getLogger(__name__)

SHOWN = 5
REPORT_LINES = 10
_DOCK = re.compile(r"^\s*对接\s*(?:成果)?\s*#?\s*(\d{1,9})(?!\d)\s*[，,:：\s]*(.*)$", re.S)


def dock_command(text: str) -> tuple[int, str] | None:
    """ "对接 3 我们想在眉山试用" -> (3, "我们想在眉山试用"); None for anything else."""
    m = _DOCK.match(text)
    return (int(m.group(1)), m.group(2).strip()) if m else None


@dataclass(slots=True)
class AchievementDesk:
    index: AchievementIndex | None = None
    _version: tuple[int, datetime | None] = (-1, None)

    def refresh(self, session: Session) -> None:
        """Bring the search index in step with the catalogue (cheap when nothing changed)."""
        if self.index is None:
            return
        version = catalogue_version(session=session)
        if version != self._version:
            self.index.sync(card(a) for a in listed(session=session))
            self._version = version

    # ---- registering --------------------------------------------------------------------
    def may_register(self, turn: Turn) -> bool:
        if turn.user.has_role(Role.EXPERT):
            return True
        turn.say(turn.t("achievement_experts_only"))
        return False

    def commit(self, turn: Turn, slots: dict[str, Any]) -> None:
        """Register the achievement of a confirmed form.

        Raises:
            InvalidInput: a value the store refuses (the form asks again).
        """
        price = slots.get("price")
        shown_price = ""
        if isinstance(price, list) and len(price) == 2:
            shown_price = f"{price[0]}-{price[1]}元"
        saved = add_achievement(
            session=turn.session,
            owner=turn.user,
            data=AchievementIn(
                title=str(slots.get("ach_title", "")),
                kind=str(slots.get("kind", "")),
                maturity=str(slots.get("maturity", "")),
                transfer_mode=str(slots.get("mode", "")),
                fields=tuple(_list(slots.get("ach_fields"))),
                applied_in=_text(slots.get("applied_in")),
                price=shown_price,
            ),
        )
        turn.state.clear_form()
        self.refresh(turn.session)
        turn.say(turn.t("achievement_saved", id=saved.id, title=saved.title))

    def import_file(self, turn: Turn, media: MediaIn) -> None:
        """A file of several achievements: the good rows registered, the bad ones reported
        by line number with the reason."""
        if not self.may_register(turn):
            return
        try:
            report = import_achievements(
                session=turn.session, owner=turn.user, name=media.name, data=media.data
            )
        except UnreadableFile as err:
            turn.say(turn.t("import_unreadable", name=media.name, reason=str(err)))
            return
        except InvalidInput:
            turn.say(turn.t("achievement_experts_only"))
            return
        self.refresh(turn.session)
        lines = [turn.t("import_done", name=media.name, n=len(report.added), bad=len(report.bad))]
        lines += [f"· #{a.id} {a.title}" for a in report.added[:REPORT_LINES]]
        if report.bad:
            lines.append(turn.t("import_bad_head"))
            lines += [
                turn.t("import_bad_line", line=b.line, reason=b.reason)
                for b in report.bad[:REPORT_LINES]
            ]
            if len(report.bad) > REPORT_LINES:
                lines.append(turn.t("import_bad_more", n=len(report.bad) - REPORT_LINES))
        turn.say("\n".join(lines))

    # ---- finding ------------------------------------------------------------------------
    def search(
        self,
        turn: Turn,
        text: str,
        *,
        quiet: bool = False,
        near: Region | None = None,
        only: str = "",
    ) -> bool:
        """Achievements answering a natural question, with owner, maturity and transfer
        mode, and a 对接 button each; none found: the offer to post it as a need (with
        *quiet*, nothing is said). *near*: only those from or applied in that place;
        *only*: only that kind (patent ...). Whether any was shown."""
        session = turn.session
        self.refresh(session)
        wide = SHOWN * (6 if near or only else 2)  # filtered below: look further
        # "只看专利": the kind's words are searched too (a patent's card carries them)
        query = " ".join((text, *_kind_words(only))) if only else text
        found = self.index.search(query, k=wide) if self.index is not None else []
        rows = {a.id: a for a in listed(session=session, ids=[f.id for f in found])}
        ranked = [rows[f.id] for f in found if f.id in rows]
        ranked = [a for a in ranked if (not only or a.kind == only) and _near(a, near)]
        turn.state.searched = {
            "kind": "achievement",
            "text": text,
            "near": near.as_dict() if near else None,
            "only": only,
        }
        wanted = read_mode(text)
        if wanted is not None:  # "可以转让的": those offered that way first
            ranked.sort(key=lambda a: a.transfer_mode != wanted.value)
        ranked = [a for a in ranked if a.owner_id != turn.user.id][:SHOWN]
        if not ranked and quiet:
            return False
        if not ranked:
            turn.state.offer = text
            narrowed = [turn.t(f"kind_{only}")] if only else []
            narrowed += [near.label] if near else []
            turn.say(
                (turn.t("achievements_none_narrowed", by="、".join(narrowed)) if narrowed else "")
                + turn.t("achievements_none"),
                [
                    [
                        turn.button("btn_post_need", Action(Act.FIND_EXPERT)),
                        turn.button("btn_no_thanks", Action(Act.NO_THANKS)),
                    ]
                ],
            )
            return False
        owners = users_by_id(session=session, user_ids=[a.owner_id for a in ranked])
        lines = [turn.t("achievements_head")]
        buttons: list[list[Button]] = []
        for a in ranked:
            owner = owners.get(a.owner_id)
            lines.append(describe(turn, a, owner.display_name if owner else ""))
            buttons.append([Button(turn.t("btn_dock", id=a.id), Action(Act.DOCK, n=a.id or 0))])
        lines.append(turn.t("achievements_tail"))
        turn.say("\n".join(lines), buttons)
        return True

    def docking_slots(self, turn: Turn, achievement_id: int, note: str) -> dict[str, Any] | None:
        """The 对接 form's first slots for this achievement; None (and why) when it cannot be
        asked for."""
        try:
            found = get_achievement(session=turn.session, achievement_id=achievement_id)
        except NotFound:
            turn.say(turn.t("no_achievement", id=achievement_id))
            return None
        if found.owner_id == turn.user.id:
            turn.say(turn.t("own_achievement"))
            return None
        problem = note or turn.t("dock_default", title=found.title)
        return {"achievement": {"id": found.id, "title": found.title}, "problem": problem}


def _near(a: Achievement, near: Region | None) -> bool:
    """From that place (the owner's region when registered) or applied there."""
    if near is None:
        return True
    if near.covers(Region(a.province, a.city, a.county)):
        return True
    # "已在蒲江、丹棱应用": a place applied in that lies in (or around) *near*
    applied = (p for m in find_mentions(a.applied_in) for p in m.places)
    return any(near.covers(p) or (p.level and p.covers(near)) for p in applied)


def card(a: Achievement) -> AchievementCard:
    return AchievementCard(
        id=a.id or 0,
        title=a.title,
        kind_label="、".join(_kind_words(a.kind)),
        fields=tuple(a.fields),
        crops=tuple(a.crops),
        applied_in=a.applied_in,
        description=a.description,
        mode=a.transfer_mode,
    )


def _kind_words(kind: str) -> tuple[str, ...]:
    try:
        return KIND_WORDS[Kind(kind)]
    except ValueError:
        return ()


def describe(turn: Turn, a: Achievement, owner: str) -> str:
    """One achievement as a line: title, kind, maturity, transfer mode, price, owner."""
    if a.price_low is None:
        price = turn.t("price_talk")
    else:
        low, high = a.price_low, a.price_high or a.price_low
        span = _amount(low) if low == high else f"{_amount(low)}–{_amount(high)}"
        price = turn.t("price_value", value=span)
    return turn.t(
        "achievement_line",
        id=a.id,
        title=a.title,
        kind=turn.t(f"kind_{a.kind}"),
        maturity=turn.t(f"maturity_{a.maturity}"),
        mode=turn.t(f"mode_{a.transfer_mode}"),
        price=price,
        owner=owner or "-",
        applied=f"，{turn.t('applied_in_short', value=a.applied_in)}" if a.applied_in else "",
    )


def _amount(n: int) -> str:
    return f"{n / 10_000:g}万" if n >= 10_000 else str(n)


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value != "__skipped__" else ""
