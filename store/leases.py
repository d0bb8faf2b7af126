"""Leases for jobs that must run once however many processes run them (the scheduler's
rounds: re-matching, expiry, auto-close, pushes).

A lease is a row (name, holder, until). Taking it is one conditional UPDATE - free when
``until`` has passed or the holder already has it - so exactly one of several racing
processes wins, on SQLite (one writer at a time) and on PostgreSQL (the row lock makes the
second UPDATE re-check its condition). A holder that dies simply lets it expire.

A lease row rather than ``pg_try_advisory_lock``: an advisory lock only excludes others while
a round runs, so a second process would run the same round right after the first; the lease
is held for the whole interval, so each round runs once, and it works the same on SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, or_

from store.clock import as_utc, utcnow


class Lease(SQLModel, table=True):
    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)
    until: datetime


def take_lease(
    *, session: Session, name: str, holder: str, seconds: float, now: datetime | None = None
) -> bool:
    """Take or renew lease *name* for *holder* for *seconds*; False when another holds it."""
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    result = session.execute(
        update(Lease)
        .where(
            col(Lease.name) == name,
            or_(col(Lease.until) < now, col(Lease.holder) == holder),
        )
        .values(holder=holder, until=until)
    )
    session.commit()
    if result.rowcount:  # type: ignore[attr-defined]
        return True
    if session.get(Lease, name) is not None:
        return False
    session.add(Lease(name=name, holder=holder, until=until))
    try:
        session.commit()
    except IntegrityError:  # another process created it first: theirs
        session.rollback()
        return False
    return True


def release_lease(*, session: Session, name: str, holder: str) -> None:
    """Give the lease back early (a clean shutdown), if *holder* still has it."""
    session.execute(
        update(Lease)
        .where(col(Lease.name) == name, col(Lease.holder) == holder)
        .values(until=utcnow() - timedelta(seconds=1))
    )
    session.commit()


def lease_holder(*, session: Session, name: str, now: datetime | None = None) -> str:
    """Who holds lease *name* now ("" when nobody)."""
    row = session.get(Lease, name)
    if row is None or as_utc(row.until) < (now or utcnow()):
        return ""
    return row.holder
