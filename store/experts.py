"""Expert profiles: what an expert can do, where, and how they have been rated."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, func, select

from store.clock import utcnow
from store.errors import InvalidInput
from store.rollups import tracking
from store.users import Role, User
from store.validation import Region, clean_text, validate_region


class ExpertProfileBase(SQLModel):
    organisation: str = Field(default="", max_length=128)
    title: str = Field(default="", max_length=64)
    bio: str = Field(default="", max_length=2000)
    available: bool = Field(default=True, index=True)


class ExpertProfile(ExpertProfileBase, table=True):
    __tablename__ = "expert_profiles"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    crops: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Each entry is {"province": ..., "city": ..., "county": ...}; lower levels may be "".
    service_regions: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    rating_count: int = Field(default=0)
    rating_sum: int = Field(default=0)
    # whether a day of the registered-experts rollup is complete (store.rollup_reads)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def rating_avg(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    @property
    def regions(self) -> list[Region]:
        return [Region(**r) for r in self.service_regions]


class ExpertProfileCreate(ExpertProfileBase):
    fields: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    crops: list[str] = Field(default_factory=list)
    service_regions: list[Region] = Field(default_factory=list)


def _clean_terms(values: list[str], field: str) -> list[str]:
    out: list[str] = []
    for v in values:
        term = clean_text(v, field=field, max_len=64)
        if term not in out:
            out.append(term)
    return out


def upsert_expert_profile(
    *, session: Session, user: User, profile_in: ExpertProfileCreate
) -> ExpertProfile:
    """Create or replace the expert profile of *user* and give them the expert role.

    Raises:
        InvalidInput: no field or skill, or a service region that does not exist.
    """
    fields = _clean_terms(profile_in.fields, "fields")
    skills = _clean_terms(profile_in.skills, "skills")
    if not fields and not skills:
        raise InvalidInput(
            "fields", profile_in.fields, "an expert needs at least one field or skill"
        )
    regions = [
        {"province": r.province, "city": r.city, "county": r.county}
        for r in (
            validate_region(x.province, x.city, x.county) for x in profile_in.service_regions
        )
    ]
    if user.id is None:
        raise InvalidInput("user", user, "user must be saved first")
    stmt = select(ExpertProfile).where(ExpertProfile.user_id == user.id)
    existing = session.exec(stmt).first()
    profile = existing or ExpertProfile(user_id=user.id)
    profile.organisation = profile_in.organisation.strip()[:128]
    profile.title = profile_in.title.strip()[:64]
    profile.bio = profile_in.bio.strip()[:2000]
    profile.available = profile_in.available
    profile.fields, profile.skills = fields, skills
    profile.crops = _clean_terms(profile_in.crops, "crops")
    profile.service_regions = regions
    profile.updated_at = utcnow()
    if not user.has_role(Role.EXPERT):
        user.roles = sorted({*user.roles, Role.EXPERT.value})
        session.add(user)
    if existing is None:  # a new expert: their accepted orders now count (store.rollups)
        with tracking(session, user.id):
            session.add(profile)
    else:
        session.add(profile)
    session.commit()
    session.refresh(profile)
    return profile


def withdraw_expert(*, session: Session, user_id: int) -> bool:
    """The expert steps down: their profile is kept (for their data export and deletion) but
    no longer available, so matching passes them by; signing up again makes it available.
    False when they have no available profile. Committed here."""
    profile = get_expert_profile(session=session, user_id=user_id)
    if profile is None or not profile.available:
        return False
    profile.available = False
    profile.updated_at = utcnow()  # cached expert cards see the change
    session.add(profile)
    session.commit()
    return True


def get_expert_profile(*, session: Session, user_id: int) -> ExpertProfile | None:
    return session.exec(select(ExpertProfile).where(ExpertProfile.user_id == user_id)).first()


def experts_version(*, session: Session) -> tuple[int, datetime | None]:
    """(number of profiles, latest change): when either moves, cached cards are stale."""
    count, latest = session.exec(select(func.count(), func.max(ExpertProfile.updated_at))).one()
    return int(count), latest


def experts_with_users(
    *,
    session: Session,
    changed_since: datetime | None = None,
    user_ids: list[int] | None = None,
) -> list[tuple[ExpertProfile, User]]:
    """Expert profiles with their users: all, those changed after *changed_since*, or those of
    *user_ids*."""
    stmt = select(ExpertProfile, User).where(col(ExpertProfile.user_id) == col(User.id))
    if changed_since is not None:
        stmt = stmt.where(col(ExpertProfile.updated_at) > changed_since)
    if user_ids is not None:
        stmt = stmt.where(col(ExpertProfile.user_id).in_(user_ids))
    return [(p, u) for p, u in session.exec(stmt).all()]
