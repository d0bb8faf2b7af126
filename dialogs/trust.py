"""The administrators' trust desk: `/experts pending`, `/verify`, `/unverify` (or `/reject`),
`/reports`, `/suspend` and `/unsuspend`. Who is an administrator is the application's to say
(the same check as `/stats`); every decision records who made it and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dialogs.context import Turn
from dialogs.nlu.commands import AdminCommand, AdminVerb
from dialogs.notices import tell
from dialogs.order_views import local_time
from dialogs.parties import PartyDesk
from store.errors import InvalidInput
from store.experts import get_expert_profile
from store.trust import (
    Decision,
    find_person,
    pending_experts,
    recent_reports,
    reports_on,
    review_expert,
    suspend,
    unsuspend,
)
from store.users import Role, User
from store.validation import Region


@dataclass(slots=True)
class TrustDesk:
    """Verification and suspension commands for administrators.

    Args:
        is_admin: whether a user may use these commands.
        parties: the parties desk (a suspended expert's orders are withdrawn through it).
    """

    is_admin: Callable[[User], bool]
    parties: PartyDesk

    def on_command(self, turn: Turn, cmd: AdminCommand) -> None:
        if not self.is_admin(turn.user):
            turn.say(turn.t("admin_denied"))
            return
        if cmd.verb is AdminVerb.PENDING:
            self.pending(turn)
            return
        if cmd.verb is AdminVerb.REPORTS:
            self.reports(turn)
            return
        if not cmd.target:
            turn.say(turn.t("admin_usage"))
            return
        person = find_person(session=turn.session, ref=cmd.target)
        if person is None or person.id is None:
            turn.say(turn.t("admin_no_user", ref=cmd.target[:32]))
            return
        match cmd.verb:
            case AdminVerb.VERIFY | AdminVerb.UNVERIFY:
                self.review(turn, person, cmd)
            case AdminVerb.SUSPEND:
                self.suspend(turn, person, cmd.note)
            case AdminVerb.UNSUSPEND:
                done = unsuspend(session=turn.session, user_id=person.id, decided_by=turn.user.id)
                key = "unsuspended_done" if done else "not_suspended"
                turn.say(turn.t(key, name=person.display_name))

    def pending(self, turn: Turn) -> None:
        rows = pending_experts(session=turn.session)
        if not rows:
            turn.say(turn.t("pending_none"))
            return
        lines = [turn.t("pending_head")]
        for profile, user in rows:
            regions = (
                "、".join(r.label for r in profile.regions[:3])
                or Region(user.province, user.city, user.county).label
            )
            lines.append(
                turn.t(
                    "pending_line",
                    id=user.id,
                    name=user.display_name,
                    org=" ".join(x for x in (profile.organisation, profile.title) if x) or "-",
                    fields="、".join([*profile.fields, *profile.skills][:4]) or "-",
                    regions=regions or "-",
                    reports=len(reports_on(session=turn.session, user_id=user.id or 0)),
                )
            )
        turn.say("\n".join(lines))

    def reports(self, turn: Turn) -> None:
        rows = recent_reports(session=turn.session)
        if not rows:
            turn.say(turn.t("reports_none"))
            return
        lines = [turn.t("reports_head")]
        for row, reported, reporter in rows:
            lines.append(
                turn.t(
                    "report_line",
                    when=local_time(row.at).strftime("%m-%d %H:%M"),
                    order=row.order_id,
                    reported=reported.display_name,
                    uid=reported.id,
                    reporter=reporter.display_name,
                    reason=row.reason,
                )
            )
        turn.say("\n".join(lines))

    def review(self, turn: Turn, person: User, cmd: AdminCommand) -> None:
        verify = cmd.verb is AdminVerb.VERIFY
        profile = get_expert_profile(session=turn.session, user_id=person.id or 0)
        if profile is None or not person.has_role(Role.EXPERT):
            turn.say(turn.t("admin_not_expert", name=person.display_name))
            return
        unit = (cmd.note or profile.organisation or "-") if verify else ""
        reason = "" if verify else (cmd.note or "-")
        try:
            review_expert(
                session=turn.session,
                expert_id=person.id or 0,
                decision=Decision.VERIFIED if verify else Decision.REJECTED,
                decided_by=turn.user.id,
                unit=unit,
                reason=reason,
            )
        except InvalidInput:
            turn.say(turn.t("admin_not_expert", name=person.display_name))
            return
        if verify:
            turn.say(turn.t("verified_done", name=person.display_name, unit=unit))
            tell(turn.out, turn.session, person.id, "verified_expert", kind="trust", unit=unit)
        else:
            turn.say(turn.t("unverified_done", name=person.display_name, reason=reason))
            tell(
                turn.out, turn.session, person.id, "unverified_expert", kind="trust", reason=reason
            )

    def suspend(self, turn: Turn, person: User, reason: str) -> None:
        if not suspend(
            session=turn.session, user_id=person.id or 0, decided_by=turn.user.id, reason=reason
        ):
            turn.say(turn.t("already_suspended", name=person.display_name))
            return
        withdrawn = self.parties.withdraw_all(turn, person.id or 0)
        turn.say(turn.t("suspended_done", name=person.display_name, n=withdrawn))
        tell(turn.out, turn.session, person.id, "suspended_user", kind="trust")
