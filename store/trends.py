"""What remains unmet and how activity moves week by week, per region and period: the
dashboard's unmet table and trend line (store.metrics assembles them into a report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, Table, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from store.clock import as_utc
from store.lifecycle import UNMET_STATUSES
from store.needs import Need
from store.questions import QuestionLog
from store.validation import Region

# The tables as SQLAlchemy Core objects (these are Core aggregates, not ORM loads).
NEEDS: Table = Need.__table__  # type: ignore[attr-defined]
QUESTIONS: Table = QuestionLog.__table__  # type: ignore[attr-defined]
UNMET = sorted(s.value for s in UNMET_STATUSES)
WEEK = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class WeekPoint:
    start: datetime
    needs: int
    accepted: int
    questions: int


def unmet_top(
    *, session: Session, region: Region, since: datetime, until: datetime, limit: int = 5
) -> tuple[list[Count], list[Count]]:
    """The problem categories and crops of needs that never reached an expert, most first
    (one grouped pass; the two rankings are summed from it)."""
    n = NEEDS.c
    stmt = (
        select(n.category, n.crop, func.count())
        .where(
            *region.within(n),
            n.created_at >= since,
            n.created_at < until,
            n.status.in_(UNMET),
        )
        .group_by(n.category, n.crop)
    )
    return rank_unmet(session.execute(stmt), limit)


def rank_unmet(rows: Any, limit: int) -> tuple[list[Count], list[Count]]:
    """The top *limit* categories and crops from (category, crop, count) rows."""
    categories: dict[str, int] = {}
    crops: dict[str, int] = {}
    for category, crop, count in rows:
        for tally, label in ((categories, category), (crops, crop)):
            if label:
                tally[label] = tally.get(label, 0) + count

    def top(tally: dict[str, int]) -> list[Count]:
        ranked = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Count(label, count) for label, count in ranked[:limit]]

    return top(categories), top(crops)


def _week_number(session: Session, column: Any, since: datetime) -> ColumnElement[Any]:
    """The number of whole weeks between *since* and *column* (0 for the first week), so that
    any period is one grouped statement, not one term per week.

    Timestamps are stored as naive UTC. PostgreSQL subtracts exactly; SQLite keeps them as text
    and counts whole seconds (a row less than a second from a week's edge may fall either side).
    """
    start = as_utc(since).astimezone(UTC).replace(tzinfo=None)
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(
            func.extract("epoch", column - literal(start, DateTime())) / literal(WEEK)
        )
    seconds = cast(func.strftime("%s", column), Integer)
    epoch = int((start - datetime(1970, 1, 1)).total_seconds())
    return (seconds - literal(epoch)) // literal(WEEK)


def _per_week(
    session: Session, table: Table, region: Region, since: datetime, until: datetime, weeks: int
) -> list[tuple[int, int]]:
    """(rows, rows with accepted_at or 0) for each week from *since*: one grouped range scan
    over an index in (region, time) order."""
    c = table.c
    accepted = func.count(c.accepted_at) if "accepted_at" in c else literal(0)
    week = _week_number(session, c.created_at, since).label("w")
    stmt = (
        select(week, func.count(), accepted)
        .where(*region.within(c), c.created_at >= since, c.created_at < until)
        .group_by(week)
    )
    rows: dict[int, tuple[int, int]] = {}
    for w, n, a in session.execute(stmt):
        i = min(max(int(w), 0), weeks - 1)  # a row on the last edge stays in the last week
        old_n, old_a = rows.get(i, (0, 0))
        rows[i] = (old_n + int(n), old_a + int(a or 0))
    return [rows.get(i, (0, 0)) for i in range(weeks)]


def week_starts(since: datetime, until: datetime) -> list[datetime]:
    """The start of every week of the period (the last may be cut short by *until*)."""
    weeks = max(1, -(-int((until - since).total_seconds()) // WEEK))
    return [since + timedelta(weeks=w) for w in range(weeks)]


def weekly_trend(
    *, session: Session, region: Region, since: datetime, until: datetime
) -> list[WeekPoint]:
    """Needs posted, needs accepted and questions asked per week from *since*."""
    starts = week_starts(since, until)
    weeks = len(starts)
    needs = _per_week(session, NEEDS, region, since, until, weeks)
    questions = _per_week(session, QUESTIONS, region, since, until, weeks)
    return [
        WeekPoint(start, n, a, q)
        for start, (n, a), (q, _) in zip(starts, needs, questions, strict=True)
    ]
