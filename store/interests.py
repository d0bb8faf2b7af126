"""The interest profile of a person: crops, categories and places they asked or posted about.

It grows by itself from questions and needs (each mention adds one to a weight), the person
can see it (/profile) and clear it. Push selection reads it in bulk, batch by batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, delete, select

from store.clock import utcnow
from store.validation import Region


class InterestKind(StrEnum):
    CROP = "crop"
    CATEGORY = "category"
    REGION = "region"  # value: "province|city|county"


class Interest(SQLModel, table=True):
    __tablename__ = "interests"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "value", name="uq_interest_user_kind_value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=16)
    value: str = Field(max_length=100)
    weight: int = 1
    updated_at: datetime = Field(default_factory=utcnow)


@dataclass(slots=True)
class Profile:
    """What one person cares about, heaviest first."""

    crops: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    region: Region = field(default_factory=Region)

    def __bool__(self) -> bool:
        return bool(self.crops or self.categories or self.region)


def region_value(region: Region) -> str:
    return f"{region.province}|{region.city}|{region.county}"


def note_interests(
    *,
    session: Session,
    user_id: int,
    crops: Iterable[str] = (),
    categories: Iterable[str] = (),
    region: Region | None = None,
    commit: bool = True,
) -> None:
    """Add one to the weight of each crop and category mentioned; remember the latest place.

    Empty values and the catch-all category "other" are ignored. *commit* False leaves the
    commit to a caller that commits its whole unit of work once (a conversation turn).
    """
    wanted: list[tuple[str, str]] = [(InterestKind.CROP, c) for c in dict.fromkeys(crops) if c]
    wanted += [(InterestKind.CATEGORY, c) for c in dict.fromkeys(categories) if c and c != "other"]
    if region:
        # one place per person: the newest replaces the older one
        session.execute(
            delete(Interest).where(
                col(Interest.user_id) == user_id, col(Interest.kind) == InterestKind.REGION
            )
        )
        wanted.append((InterestKind.REGION, region_value(region)))
    if not wanted:
        return
    # one upsert for all of them (a question turn does this): new rows weigh 1, others + 1
    rows = {(kind, value[:100]): None for kind, value in wanted}
    now = utcnow()
    params = [
        {"user_id": user_id, "kind": kind, "value": value, "weight": 1, "updated_at": now}
        for kind, value in rows
    ]
    session.execute(_upsert_statement(session.get_bind().dialect.name), params)
    if commit:
        session.commit()


@lru_cache(maxsize=4)
def _upsert_statement(dialect: str) -> Any:
    table = Interest.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["user_id", "kind", "value"],
        set_={"weight": table.c.weight + 1, "updated_at": stmt.excluded.updated_at},
    )


def profiles_of(*, session: Session, user_ids: list[int]) -> dict[int, Profile]:
    """The profiles of several people at once (people with no interests are left out)."""
    out: dict[int, Profile] = {}
    if not user_ids:
        return out
    stmt = (
        select(Interest.user_id, Interest.kind, Interest.value, Interest.weight)
        .where(col(Interest.user_id).in_(user_ids))
        .order_by(col(Interest.weight).desc(), col(Interest.id))
    )
    for user_id, kind, value, weight in session.exec(stmt).all():
        profile = out.setdefault(user_id, Profile())
        if kind == InterestKind.CROP:
            profile.crops[value] = weight
        elif kind == InterestKind.CATEGORY:
            profile.categories[value] = weight
        elif kind == InterestKind.REGION:
            province, city, county = (value.split("|") + ["", "", ""])[:3]
            profile.region = Region(province, city, county)
    return out


def profile_of(*, session: Session, user_id: int) -> Profile:
    return profiles_of(session=session, user_ids=[user_id]).get(user_id, Profile())


def clear_profile(*, session: Session, user_id: int) -> int:
    """Forget everything the profile learned; return how many entries were removed."""
    result = session.execute(delete(Interest).where(col(Interest.user_id) == user_id))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
