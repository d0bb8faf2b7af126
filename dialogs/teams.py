"""The team desk: an expert forms a team (the team form), colleagues join it with its code
("加入团队 123456"), members look at their teams. Teams are matched and accept orders like
one expert (dialogs.matching, store.orders)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dialogs.context import Turn
from store.experts import get_expert_profile
from store.teams import add_member, create_team, member_ids, team_by_code, teams_of
from store.users import Role, users_by_id
from store.validation import Region

_JOIN = re.compile(r"加入.{0,6}团队.{0,8}?(\d{6})(?!\d)|(?<!\d)(\d{6})(?!\d).{0,4}加入")
_MINE = re.compile(r"我的团队|我们团队|团队(?:情况|成员|信息|有哪些|订单)|查看团队|/team\s*$")


@dataclass(slots=True)
class TeamDesk:
    def on_text(self, turn: Turn, text: str) -> bool:
        """Joining a team or looking at one's teams; False when the person wants to form a
        team (the assistant opens the team form)."""
        if not turn.user.has_role(Role.EXPERT):
            turn.say(turn.t("team_experts_only"))
            return True
        if m := _JOIN.search(text):
            self.join(turn, next(g for g in m.groups() if g))
            return True
        mine = _MINE.search(text) or text.strip() in ("团队", "/team")
        return bool(mine and self.show(turn))

    def prefill(self, turn: Turn, name: str) -> dict[str, Any]:
        """A team starts with its lead's fields and service regions (they may change them)."""
        if name != "team":
            return {}
        profile = get_expert_profile(session=turn.session, user_id=turn.user.id or 0)
        if profile is None:
            return {}
        out: dict[str, Any] = {}
        if profile.fields:
            out["fields"] = list(profile.fields)
        if profile.service_regions:
            out["service_regions"] = list(profile.service_regions)
        return out

    def join(self, turn: Turn, code: str) -> None:
        team = team_by_code(session=turn.session, code=code)
        if team is None:
            turn.say(turn.t("team_bad_code", code=code))
            return
        added = add_member(session=turn.session, team=team, user=turn.user)
        key = "team_joined" if added else "team_already"
        turn.say(turn.t(key, name=team.name))

    def show(self, turn: Turn) -> bool:
        """The person's teams with their members; False when they are in none."""
        teams = teams_of(session=turn.session, user_id=turn.user.id or 0)
        if not teams:
            return False
        lines = []
        for team in teams:
            ids = member_ids(session=turn.session, team_id=team.id or 0)
            names = users_by_id(session=turn.session, user_ids=ids)
            lead = team.lead_id == turn.user.id
            lines.append(
                turn.t(
                    "team_line",
                    name=team.name,
                    fields="、".join(team.fields),
                    members="、".join(names[i].display_name or f"#{i}" for i in ids if i in names),
                )
            )
            if lead:
                lines.append(turn.t("team_code", code=team.join_code))
        turn.say("\n".join(lines))
        return True

    def commit(self, turn: Turn, slots: dict[str, Any]) -> None:
        """Form the team of a confirmed team form.

        Raises:
            InvalidInput: a taken name, no field, a bad region (the form asks again).
        """
        regions = [Region(**r) for r in slots.get("service_regions", [])]
        team = create_team(
            session=turn.session,
            lead=turn.user,
            name=str(slots.get("team_name", "")),
            fields=list(slots.get("fields", [])),
            crops=list(slots.get("crops", [])),
            regions=regions,
        )
        turn.state.clear_form()
        turn.say(turn.t("team_saved", name=team.name, code=team.join_code))
