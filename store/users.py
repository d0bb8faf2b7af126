"""People: one row per person, with roles, region and contact.

A person's channel identities: the user row's (channel, external id) is the home address
(where messages for them are delivered, the identity they last wrote from); identities linked
with ``/link`` (store/links.py) are :class:`Identity` rows pointing at the same user.
:func:`find_user` and :func:`get_or_create_user` are the one place that resolves them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, bindparam
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import utcnow
from store.errors import InvalidInput, NotFound
from store.validation import clean_text, normalize_phone, validate_region


class Role(StrEnum):
    REQUESTER = "requester"
    EXPERT = "expert"
    CITIZEN = "citizen"
    ADMIN = "admin"


class UserBase(SQLModel):
    channel: str = Field(max_length=32, index=True)
    external_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=128)
    locale: str = Field(default="zh", max_length=8)
    phone: str | None = Field(default=None, max_length=20)
    province: str = Field(default="", max_length=32, index=True)
    city: str = Field(default="", max_length=32, index=True)
    county: str = Field(default="", max_length=32, index=True)


class User(UserBase, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_users_channel_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles


class Identity(SQLModel, table=True):
    """Another channel identity of a user (linked with a one-time code)."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_identity_channel_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True)
    linked_at: datetime = Field(default_factory=utcnow)


class UserCreate(UserBase):
    roles: list[Role] = Field(default_factory=list)


def _validated(user_in: UserCreate) -> dict[str, Any]:
    data = user_in.model_dump()
    data["channel"] = clean_text(user_in.channel, field="channel", max_len=32)
    data["external_id"] = clean_text(user_in.external_id, field="external_id", max_len=64)
    data["display_name"] = (user_in.display_name or "").strip()[:128]
    if user_in.locale not in ("zh", "en"):
        raise InvalidInput("locale", user_in.locale, "expected 'zh' or 'en'")
    if user_in.phone:
        data["phone"] = normalize_phone(user_in.phone)
    region = validate_region(user_in.province, user_in.city, user_in.county)
    data.update(province=region.province, city=region.city, county=region.county)
    data["roles"] = sorted({Role(r).value for r in user_in.roles})
    return data


def create_user(*, session: Session, user_in: UserCreate) -> User:
    """Insert a user after validating every field.

    Raises:
        InvalidInput: for a bad phone, region, locale or empty id; nothing is written.
    """
    user = User(**_validated(user_in))
    session.add(user)
    session.commit()  # every field is set here and kept (no read back: a first turn's cost)
    return user


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


# built once: this runs on every message (the linked identity's on every first message)
_FIND_USER = select(User).where(
    User.channel == bindparam("channel"), User.external_id == bindparam("external_id")
)
_FIND_LINKED = (
    select(User)
    .join(Identity, col(Identity.user_id) == col(User.id))
    .where(
        Identity.channel == bindparam("channel"), Identity.external_id == bindparam("external_id")
    )
)


def find_user(
    *, session: Session, channel: str, external_id: str, home_checked: bool = False
) -> User | None:
    """The person with this channel identity (their home address or a linked one), if any.

    With *home_checked* the caller's own read found nobody at this home address: only the
    linked identities are looked up."""
    params = {"channel": channel, "external_id": external_id}
    if not home_checked:
        user = session.exec(_FIND_USER, params=params).first()
        if user is not None:
            return user
    return session.exec(_FIND_LINKED, params=params).first()


def identities(*, session: Session, user_id: int) -> list[tuple[str, str]]:
    """Every (channel, external id) of a person, the home address first."""
    user = session.get(User, user_id)
    if user is None:
        return []
    rows = session.exec(
        select(Identity.channel, Identity.external_id)
        .where(Identity.user_id == user_id)
        .order_by(col(Identity.id))
    ).all()
    return [(user.channel, user.external_id), *((c, e) for c, e in rows)]


def move_home(*, session: Session, user: User, channel: str, external_id: str) -> User:
    """Make a linked identity the person's home address (messages for them go there); the
    previous home becomes a linked identity. Nothing changes for an identity not theirs."""
    if (user.channel, user.external_id) == (channel, external_id):
        return user
    row = session.exec(
        select(Identity).where(
            Identity.channel == channel,
            Identity.external_id == external_id,
            Identity.user_id == user.id,
        )
    ).first()
    if row is None:
        return user
    row.channel, row.external_id = user.channel, user.external_id
    user.channel, user.external_id = channel, external_id
    session.add(row)
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def get_or_create_user(
    *,
    session: Session,
    channel: str,
    external_id: str,
    display_name: str = "",
    locale: str = "zh",
    home_checked: bool = False,
) -> User:
    """The user for this channel identity, created on first contact. A person who writes from
    a linked identity gets their messages there from now on (it becomes the home address).
    *home_checked*: as for :func:`find_user`."""
    user = find_user(
        session=session, channel=channel, external_id=external_id, home_checked=home_checked
    )
    if user is not None:
        if (user.channel, user.external_id) != (channel, external_id):
            user = move_home(session=session, user=user, channel=channel, external_id=external_id)
        return user
    return create_user(
        session=session,
        user_in=UserCreate(
            channel=channel, external_id=external_id, display_name=display_name, locale=locale
        ),
    )


def update_user(*, session: Session, user: User, **changes: object) -> User:
    """Change some fields of a user, validating them as on creation."""
    from store.rollups import tracking  # store.rollups reads users: imported here

    merged = user.model_dump(exclude={"id", "created_at"}) | changes
    data = _validated(UserCreate(**merged))
    # an expert is counted where they live (the active-experts rollup)
    with tracking(session, user.id):
        for key, value in data.items():
            setattr(user, key, value)
        session.add(user)
    session.commit()
    session.refresh(user)
    return user


def add_role(*, session: Session, user: User, role: Role) -> User:
    if role.value not in user.roles:
        user.roles = sorted({*user.roles, role.value})
        session.add(user)
        session.commit()
        session.refresh(user)
    return user


def users_by_id(*, session: Session, user_ids: list[int]) -> dict[int, User]:
    """The users among *user_ids*, by id (missing ones left out)."""
    if not user_ids:
        return {}
    rows = session.exec(select(User).where(col(User.id).in_(user_ids))).all()
    return {u.id: u for u in rows if u.id is not None}


def addresses(*, session: Session, user_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """(channel, external id, locale) per user: plain columns, for rounds over many people."""
    if not user_ids:
        return {}
    stmt = select(User.id, User.channel, User.external_id, User.locale).where(
        col(User.id).in_(user_ids)
    )
    return {uid: (ch, ext, loc) for uid, ch, ext, loc in session.exec(stmt).all() if uid}
