"""Linking a person's channel identities with a one-time code (`/link`).

`/link` on one channel issues a 6-digit code valid for :data:`CODE_MINUTES`; `/link 123456`
on another joins the two users into one: every record that names the younger user (needs,
orders, expert profile, subscriptions, ...) is moved to the older one, whose row keeps both
identities (store.users.Identity), and the younger row is deleted. Found by reading the
schema's foreign keys, so a table added later is moved too.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Table, UniqueConstraint, and_, delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import utcnow
from store.rollups import tracking
from store.users import Identity, User

CODE_MINUTES = 10
MAX_FAILURES = 5  # wrong codes per person per hour before /link refuses for a while
FAILURE_WINDOW = timedelta(hours=1)


class LinkCode(SQLModel, table=True):
    __tablename__ = "link_codes"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=6, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    channel: str = Field(max_length=32)  # the identity that asked for it (told when used)
    external_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LinkFailure(SQLModel, table=True):
    """A wrong or expired code tried by a person (bounds guessing)."""

    __tablename__ = "link_failures"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    at: datetime = Field(default_factory=utcnow)


class LinkResult(StrEnum):
    LINKED = "linked"
    UNKNOWN = "unknown"  # no such code, or expired, or used
    SAME = "same"  # both identities are already one person
    TWO_EXPERTS = "two_experts"  # both accounts hold an expert profile: merge refused
    TOO_MANY = "too_many"  # too many wrong codes lately


@dataclass(frozen=True, slots=True)
class Linked:
    result: LinkResult
    user_id: int | None = None  # the person both identities now belong to
    issuer: tuple[str, str] | None = None  # (channel, external id) that asked for the code


def issue_code(*, session: Session, user: User, channel: str, external_id: str) -> LinkCode:
    """A fresh code for this person (their earlier unused codes stop working)."""
    now = utcnow()
    session.execute(
        update(LinkCode)
        .where(col(LinkCode.user_id) == user.id, col(LinkCode.used_at).is_(None))
        .values(used_at=now)
    )
    live = set(
        session.exec(
            select(LinkCode.code).where(
                col(LinkCode.used_at).is_(None), col(LinkCode.expires_at) > now
            )
        ).all()
    )
    code = f"{secrets.randbelow(10**6):06d}"
    while code in live:
        code = f"{secrets.randbelow(10**6):06d}"
    row = LinkCode(
        code=code,
        user_id=user.id or 0,
        channel=channel,
        external_id=external_id,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def _failures(session: Session, user_id: int, now: datetime) -> int:
    stmt = select(func.count()).where(
        col(LinkFailure.user_id) == user_id, col(LinkFailure.at) > now - FAILURE_WINDOW
    )
    return int(session.execute(stmt).scalar_one())


def redeem_code(*, session: Session, user: User, code: str) -> Linked:
    """Join *user* (who typed the code) with the person who asked for it."""
    now = utcnow()
    uid = user.id or 0
    if _failures(session, uid, now) >= MAX_FAILURES:
        return Linked(LinkResult.TOO_MANY)
    row = session.exec(
        select(LinkCode).where(
            LinkCode.code == code.strip(),
            col(LinkCode.used_at).is_(None),
            col(LinkCode.expires_at) > now,
        )
    ).first()
    if row is None:
        session.add(LinkFailure(user_id=uid, at=now))
        session.commit()
        return Linked(LinkResult.UNKNOWN)
    issuer = (row.channel, row.external_id)
    if row.user_id == uid:
        return Linked(LinkResult.SAME, uid, issuer)
    if _both_experts(session, row.user_id, uid):
        return Linked(LinkResult.TWO_EXPERTS, None, issuer)
    row.used_at = now
    session.add(row)
    keep, gone = sorted((row.user_id, uid))
    merge_users(session=session, keep_id=keep, gone_id=gone, home=(user.channel, user.external_id))
    return Linked(LinkResult.LINKED, keep, issuer)


def _both_experts(session: Session, a: int, b: int) -> bool:
    from store.experts import ExpertProfile

    stmt = select(func.count()).where(col(ExpertProfile.user_id).in_([a, b]))
    return int(session.execute(stmt).scalar_one()) >= 2


def _references() -> list[tuple[Table, str, list[list[str]]]]:
    """(table, column, unique column sets holding it) for every column naming a user."""
    out = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name == "users":
            continue
        uniques = [
            [c.name for c in con.columns]
            for con in table.constraints
            if isinstance(con, UniqueConstraint)
        ] + [[c.name for c in index.columns] for index in table.indexes if index.unique]
        for fk in table.foreign_keys:
            if fk.column.table.name == "users" and fk.column.name == "id":
                column = fk.parent.name
                out.append((table, column, [u for u in uniques if column in u]))
    return out


def merge_users(
    *, session: Session, keep_id: int, gone_id: int, home: tuple[str, str] | None = None
) -> User:
    """Move everything of user *gone_id* to *keep_id* in one transaction, keep both users'
    identities on *keep_id* (home address: *home* when given) and delete the *gone_id* row.

    A row that would duplicate one the kept user already has (the same subscription, vote,
    push) is dropped instead of moved.
    """
    keep = session.get(User, keep_id)
    gone = session.get(User, gone_id)
    if keep is None or gone is None or keep_id == gone_id:
        msg = f"cannot merge user {gone_id} into {keep_id}"
        raise ValueError(msg)
    try:
        with tracking(session, keep_id, gone_id):  # the indicator rollups: both people's
            _merge_rows(session, keep, gone, keep_id, gone_id, home)
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.refresh(keep)
    return keep


def _merge_rows(
    session: Session,
    keep: User,
    gone: User,
    keep_id: int,
    gone_id: int,
    home: tuple[str, str] | None,
) -> None:
    """The body of `merge_users` (inside its transaction and rollup tracking)."""
    for table, column, uniques in _references():
        c = table.c[column]
        for unique in uniques:
            others = [n for n in unique if n != column]
            dup = table.alias("dup")
            if not others:  # one row per user (an expert profile): the kept one stays
                kept = sa_select(dup.c[column]).where(dup.c[column] == keep_id).exists()
                session.execute(delete(table).where(c == gone_id, kept))
                continue
            clash = (
                sa_select(dup.c[column])
                .where(dup.c[column] == keep_id)
                .where(and_(*(dup.c[n] == table.c[n] for n in others)))
                .exists()
            )
            session.execute(delete(table).where(c == gone_id, clash))
        session.execute(update(table).where(c == gone_id).values({column: keep_id}))
    addresses = [(gone.channel, gone.external_id), (keep.channel, keep.external_id)]
    addresses += [
        (i.channel, i.external_id)
        for i in session.exec(
            select(Identity).where(col(Identity.user_id).in_([keep_id, gone_id]))
        ).all()
    ]
    session.execute(delete(Identity).where(col(Identity.user_id).in_([keep_id, gone_id])))
    _fill(keep, gone)
    session.delete(gone)
    session.flush()
    home = home if home in addresses else (keep.channel, keep.external_id)
    keep.channel, keep.external_id = home
    session.add(keep)
    session.flush()
    for channel, external_id in dict.fromkeys(addresses):
        if (channel, external_id) != home:
            session.add(Identity(channel=channel, external_id=external_id, user_id=keep_id))


def _fill(keep: User, gone: User) -> None:
    """The kept user takes the other's roles, and their name, phone and place where it has
    none."""
    keep.roles = sorted({*keep.roles, *gone.roles})
    keep.display_name = keep.display_name or gone.display_name
    keep.phone = keep.phone or gone.phone
    if not keep.province:
        keep.province, keep.city, keep.county = gone.province, gone.city, gone.county
