"""Teams of experts (团队): a name, a lead, members, fields and service regions. A team is
matched, accepts orders (through any member, on its behalf) and is rated like one expert."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, delete
from sqlmodel import Field, Session, SQLModel, col, func, select

from store.clock import utcnow
from store.errors import InvalidInput, NotFound
from store.users import Role, User
from store.validation import Region, clean_text, validate_region


class Team(SQLModel, table=True):
    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    lead_id: int = Field(foreign_key="users.id", index=True)
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    crops: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    service_regions: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    rating_count: int = 0
    rating_sum: int = 0
    # what the lead gives colleagues to join ("加入团队 123456"); six digits, never a phone
    join_code: str = Field(default_factory=lambda: new_code(), max_length=8, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def rating_avg(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    @property
    def regions(self) -> list[Region]:
        return [Region(**r) for r in self.service_regions]


def new_code() -> str:
    return f"{secrets.randbelow(900_000) + 100_000}"


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_team_member"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    joined_at: datetime = Field(default_factory=utcnow)


def create_team(
    *,
    session: Session,
    lead: User,
    name: str,
    fields: list[str],
    regions: list[Region],
    crops: list[str] | None = None,
) -> Team:
    """A new team led by *lead* (an expert), who is its first member.

    Raises:
        InvalidInput: the lead is no expert, no name or field, a taken name, a bad region.
    """
    if lead.id is None or not lead.has_role(Role.EXPERT):
        raise InvalidInput("lead", lead.id, "only a registered expert can form a team")
    clean = clean_text(name, field="team", max_len=64)
    if session.exec(select(Team.id).where(Team.name == clean)).first() is not None:
        raise InvalidInput("team", clean, "a team of this name exists")
    terms = list(dict.fromkeys(f.strip()[:64] for f in fields if f.strip()))
    if not terms:
        raise InvalidInput("fields", fields, "a team needs at least one field")
    checked = [validate_region(r.province, r.city, r.county) for r in regions]
    team = Team(
        name=clean,
        lead_id=lead.id,
        fields=terms,
        crops=list(dict.fromkeys(crops or [])),
        service_regions=[r.as_dict() for r in checked if r],
    )
    session.add(team)
    session.flush()
    assert team.id is not None
    session.add(TeamMember(team_id=team.id, user_id=lead.id))
    session.commit()
    session.refresh(team)
    return team


def get_team(*, session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("team", team_id)
    return team


def find_team(*, session: Session, name: str) -> Team | None:
    return session.exec(select(Team).where(Team.name == name.strip())).first()


def team_by_code(*, session: Session, code: str) -> Team | None:
    return session.exec(select(Team).where(Team.join_code == code.strip())).first()


def add_member(*, session: Session, team: Team, user: User) -> bool:
    """Add an expert to *team*; False when already a member.

    Raises:
        InvalidInput: the person is no registered expert.
    """
    if user.id is None or not user.has_role(Role.EXPERT):
        raise InvalidInput("member", user.id, "only registered experts join a team")
    assert team.id is not None
    if user.id in member_ids(session=session, team_id=team.id):
        return False
    session.add(TeamMember(team_id=team.id, user_id=user.id))
    team.updated_at = utcnow()
    session.add(team)
    session.commit()
    return True


def member_ids(*, session: Session, team_id: int) -> list[int]:
    stmt = select(TeamMember.user_id).where(TeamMember.team_id == team_id)
    return list(session.exec(stmt.order_by(col(TeamMember.id))).all())


def teams_of(*, session: Session, user_id: int) -> list[Team]:
    """Teams the person belongs to (as lead or member)."""
    stmt = (
        select(Team)
        .join(TeamMember, col(TeamMember.team_id) == col(Team.id))
        .where(TeamMember.user_id == user_id)
        .order_by(col(Team.id))
    )
    return list(session.exec(stmt).all())


def teams_version(*, session: Session) -> tuple[int, datetime | None]:
    """(number of teams, latest change): when either moves, team cards are stale."""
    count, latest = session.exec(select(func.count(), func.max(Team.updated_at))).one()
    return int(count), latest


def teams_with_members(*, session: Session) -> list[tuple[Team, list[int]]]:
    teams = list(session.exec(select(Team).order_by(col(Team.id))).all())
    members: dict[int, list[int]] = {}
    for team_id, user_id in session.exec(
        select(TeamMember.team_id, TeamMember.user_id).order_by(col(TeamMember.id))
    ).all():
        members.setdefault(team_id, []).append(user_id)
    return [(t, members.get(t.id or 0, [])) for t in teams]


def export_teams(*, session: Session, user_id: int) -> list[dict[str, Any]]:
    return [
        {**t.model_dump(mode="json"), "role": "lead" if t.lead_id == user_id else "member"}
        for t in teams_of(session=session, user_id=user_id)
    ]


def forget_member(*, session: Session, user_id: int) -> int:
    """The person leaves every team; a team they led goes to its next member, or is dissolved
    when nobody is left (not committed). Returns the memberships removed."""
    led = list(session.exec(select(Team).where(Team.lead_id == user_id)).all())
    removed = session.execute(delete(TeamMember).where(col(TeamMember.user_id) == user_id))
    session.flush()
    for team in led:
        assert team.id is not None
        rest = member_ids(session=session, team_id=team.id)
        if rest:
            team.lead_id = rest[0]
            team.updated_at = utcnow()
            session.add(team)
        else:
            # orders it took keep their team id for the record: the team row stays, empty
            team.name = f"（已解散）{team.id}"
            team.fields, team.crops, team.service_regions = [], [], []
            team.updated_at = utcnow()
            session.add(team)
    return int(removed.rowcount or 0)  # type: ignore[attr-defined]
