"""What remains unmet and how activity moves week by week, per region and period: the
dashboard's unmet table and trend line (store.metrics assembles them into a report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, func, literal, select, union_all
from sqlmodel import Session

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
    categories: dict[str, int] = {}
    crops: dict[str, int] = {}
    for category, crop, count in session.execute(stmt):
        for tally, label in ((categories, category), (crops, crop)):
            if label:
                tally[label] = tally.get(label, 0) + count

    def top(tally: dict[str, int]) -> list[Count]:
        ranked = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Count(label, count) for label, count in ranked[:limit]]

    return top(categories), top(crops)


def _per_week(
    session: Session, table: Table, region: Region, bounds: list[tuple[datetime, datetime]]
) -> list[tuple[int, int]]:
    """(rows, rows with accepted_at or 0) for each [start, end) in *bounds*: one range scan per
    week over an index in (region, time) order, all in one statement."""
    c = table.c
    accepted = func.count(c.accepted_at) if "accepted_at" in c else literal(0)
    parts = [
        select(literal(i).label("w"), func.count().label("n"), accepted.label("a")).where(
            *region.within(c), c.created_at >= lo, c.created_at < hi
        )
        for i, (lo, hi) in enumerate(bounds)
    ]
    rows = {int(w): (int(n), int(a or 0)) for w, n, a in session.execute(union_all(*parts))}
    return [rows.get(i, (0, 0)) for i in range(len(bounds))]


def weekly_trend(
    *, session: Session, region: Region, since: datetime, until: datetime
) -> list[WeekPoint]:
    """Needs posted, needs accepted and questions asked per week from *since*."""
    weeks = max(1, -(-int((until - since).total_seconds()) // WEEK))
    starts = [since + timedelta(weeks=w) for w in range(weeks)]
    bounds = [(lo, min(lo + timedelta(weeks=1), until)) for lo in starts]
    needs = _per_week(session, NEEDS, region, bounds)
    questions = _per_week(session, QUESTIONS, region, bounds)
    return [
        WeekPoint(start, n, a, q)
        for start, (n, a), (q, _) in zip(starts, needs, questions, strict=True)
    ]
