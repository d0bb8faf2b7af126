"""The regional indicators read from the rollups (store.rollups) for periods of whole UTC
days: the same figures store.metrics and store.trends compute from the needs and questions
themselves, in the same shapes, from a few thousand rows whatever the number of needs.

Distinct requesters and active experts come from the chained requester and expert days, a
median time to accept from the wait bands, then the minutes inside the one band that holds
it: exact to the minute.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, literal, select, union_all
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from store.clock import as_utc
from store.rollup_tables import (
    EXPERT_DAYS,
    KIND_DAYS,
    MINUTE,
    NEED_DAYS,
    NEEDS,
    QUESTION_DAYS,
    REGISTRATIONS,
    REQUESTER_DAYS,
    UNMET_DAYS,
    WAIT_BANDS,
    WAIT_MINUTES,
    day_range,
    expert_table,
    midnight,
    order_table,
    question_table,
    whole_days,
)
from store.trends import WEEK, Count, WeekPoint, rank_unmet, week_starts
from store.validation import Region

TOTAL = "__total__"  # the key of a region's own figures (no child level)
LEVEL_OF = {"province": 1, "city": 2, "county": 3}
Days = tuple[date, date]


def usable_days(session: Session, region: Region, since: datetime, until: datetime) -> Days | None:
    """The whole days the rollups can answer [since, until) with, or None.

    *since* must be a midnight (UTC). *until* too, or - the usual "up to now" - no need and
    no question may exist from it to the next midnight, which is then the end.
    """
    days = day_range(since, whole_days(until=until))
    if days is None:
        return None
    if as_utc(until) == midnight(days[1]):
        return days
    if not region:
        return None  # a probe by time needs a region to use its index
    end = midnight(days[1])
    n = NEEDS.c
    later = session.execute(
        select(n.id)
        .where(*region.within(n), n.created_at >= as_utc(until), n.created_at < end)
        .limit(1)
    ).first()
    if later is not None:
        return None
    q = question_table().c
    asked = session.execute(
        select(q.id)
        .where(q.created_at >= as_utc(until), q.created_at < end, *region.within(q))
        .limit(1)
    ).first()
    if asked is not None:
        return None
    o = order_table().c  # active experts count orders by their accept time
    taken = session.execute(
        select(o.id).where(o.accepted_at >= as_utc(until), o.accepted_at < end).limit(1)
    ).first()
    if taken is not None:
        return None
    e = expert_table().c  # and registered experts their profiles by creation time
    made = session.execute(
        select(e.id).where(e.created_at >= as_utc(until), e.created_at < end).limit(1)
    ).first()
    return None if made is not None else days


def _key(table: Table, level: str | None) -> ColumnElement[Any]:
    return getattr(table.c, level) if level else literal(TOTAL)


def _within(table: Table, region: Region, days: Days) -> list[ColumnElement[bool]]:
    c = table.c
    return [*region.within(c), c.day >= days[0], c.day < days[1]]


def _depth(region: Region, level: str | None) -> int:
    """The level of the rows that answer for *level*'s keys (None: *region*'s own rows)."""
    return LEVEL_OF[level] if level else region.level


def _level_rows(table: Table, region: Region, level: str | None, days: Days) -> list[Any]:
    """A per-level table's rows of *region*'s children at *level* (None: its own rows) in
    the period: the rows of that one level, never the counties' below it."""
    return [table.c.level == _depth(region, level), *_within(table, region, days)]


def _first_days(table: Table, region: Region, days: Days) -> list[ColumnElement[bool]]:
    """A chain table's rows that count once in the period: a day in it whose previous day is
    before it (the day as a list: one index range per day, store.rollup_tables.chain_index)."""
    c = table.c
    each = [days[0] + timedelta(days=i) for i in range((days[1] - days[0]).days)]
    return [*region.within(c), c.day.in_(each), c.prev_day < days[0]]


def _grouped(stmt: Any, table: Table, level: str | None, *more: Any) -> Any:
    groups = ([getattr(table.c, level)] if level else []) + list(more)
    return stmt.group_by(*groups) if groups else stmt


def requesters(
    session: Session, region: Region, level: str | None, days: Days
) -> dict[str, tuple[int, int]]:
    """Per key: (requesters with a need in the period, those with a need that was taken)."""
    c = REQUESTER_DAYS.c
    depth = LEVEL_OF[level] if level else region.level
    stmt = select(_key(REQUESTER_DAYS, level), c.served, func.sum(c.requesters)).where(
        c.level == depth, *_first_days(REQUESTER_DAYS, region, days)
    )
    out: dict[str, list[int]] = {}
    for key, served, count in session.execute(_grouped(stmt, REQUESTER_DAYS, level, c.served)):
        out.setdefault(key, [0, 0])[1 if served else 0] += int(count or 0)
    return {k: (v[0], v[1]) for k, v in out.items()}


def requesters_by_kind(
    session: Session, region: Region, level: str | None, days: Days
) -> list[tuple[str, str, int, int]]:
    """(key, requester kind, requesters with a need in the period, those served)."""
    c = KIND_DAYS.c
    depth = LEVEL_OF[level] if level else region.level
    stmt = select(_key(KIND_DAYS, level), c.kind, c.served, func.sum(c.requesters)).where(
        c.level == depth, *_first_days(KIND_DAYS, region, days)
    )
    out: dict[tuple[str, str], list[int]] = {}
    for key, kind, served, count in session.execute(
        _grouped(stmt, KIND_DAYS, level, c.kind, c.served)
    ):
        out.setdefault((key, kind), [0, 0])[1 if served else 0] += int(count or 0)
    return [(key, kind, asked, served) for (key, kind), (asked, served) in out.items() if asked]


def dockings(session: Session, region: Region, level: str | None, days: Days) -> dict[str, int]:
    """Per key: 对接 requests posted in the period that were resolved."""
    c = NEED_DAYS.c
    stmt = select(_key(NEED_DAYS, level), func.sum(c.docked)).where(
        *_level_rows(NEED_DAYS, region, level, days)
    )
    rows = session.execute(_grouped(stmt, NEED_DAYS, level))
    return {key: int(count) for key, count in rows if count}


def needs_rows(
    session: Session, region: Region, level: str | None, days: Days
) -> dict[str, tuple[Any, ...]]:
    """As store.metrics._Query.needs: per key (key, requesters, served, needs, accepted,
    resolved, unmet, rating sum, rating count)."""
    c = NEED_DAYS.c
    sums = (c.needs, c.accepted, c.resolved, c.unmet, c.rating_sum, c.rating_count)
    stmt = select(_key(NEED_DAYS, level), *(func.sum(s) for s in sums)).where(
        *_level_rows(NEED_DAYS, region, level, days)
    )
    people = requesters(session, region, level, days)
    out = {}
    for row in session.execute(_grouped(stmt, NEED_DAYS, level)):
        if row[1]:
            asked, served = people.get(row[0], (0, 0))
            out[row[0]] = (row[0], asked, served, *(int(v or 0) for v in row[1:]))
    return out


def medians(session: Session, region: Region, level: str | None, days: Days) -> dict[str, float]:
    """The median time to accept per key, exact to the minute (each wait truncated to whole
    minutes, store.rollups.MINUTE): the band holding the middle rank(s), then the minute(s)
    at those ranks among that band's minute rows alone."""
    depth = LEVEL_OF[level] if level else region.level
    c = WAIT_BANDS.c
    stmt = select(_key(WAIT_BANDS, level), c.band, func.sum(c.accepted)).where(
        c.level == depth, *_within(WAIT_BANDS, region, days)
    )
    bands: dict[str, dict[int, int]] = {}
    for key, band, count in session.execute(_grouped(stmt, WAIT_BANDS, level, c.band)):
        if count:
            bands.setdefault(key, {})[int(band)] = int(count)
    wanted: dict[str, list[tuple[int, int]]] = {}  # key -> (rank, band holding it)
    for key, counts in bands.items():
        n = sum(counts.values())
        ranks = [(n - 1) // 2] if n % 2 else [n // 2 - 1, n // 2]
        wanted[key] = [(r, _band_at(counts, r)) for r in ranks]
    minutes = _minute_rows(session, region, level, depth, days, wanted)
    out = {}
    for key, places in wanted.items():
        values = [_minute_at(minutes, key, band, bands[key], rank) for rank, band in places]
        out[key] = sum(values) / len(values)
    return out


def _band_at(counts: dict[int, int], rank: int) -> int:
    """The band holding the wait at *rank* (0-based), bands in order."""
    below = 0
    for band in sorted(counts):
        below += counts[band]
        if rank < below:
            return band
    msg = f"rank {rank} beyond the {below} accepted needs of the bands"
    raise LookupError(msg)


def _minute_rows(
    session: Session,
    region: Region,
    level: str | None,
    depth: int,
    days: Days,
    wanted: dict[str, list[tuple[int, int]]],
) -> dict[tuple[str, int], list[tuple[int, int]]]:
    """(key, band) -> [(minutes, accepted)] in order: the minute rows of the bands holding
    the middle ranks, every key's in one statement (each part one range of the index)."""
    c = WAIT_MINUTES.c
    parts = []
    for key, places in wanted.items():
        scope = region if level is None else _child(region, level, key)
        for band in sorted({b for _, b in places}):
            parts.append(
                select(
                    literal(key).label("k"), literal(band).label("b"), c.minutes, c.accepted
                ).where(c.level == depth, c.band == band, *_within(WAIT_MINUTES, scope, days))
            )
    if not parts:
        return {}
    rows = union_all(*parts).subquery()
    r = rows.c
    # summed over the days in the database: a few rows per minute, not one per day
    stmt = select(r.k, r.b, r.minutes, func.sum(r.accepted)).group_by(r.k, r.b, r.minutes)
    out: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for key, band, minutes, count in session.execute(stmt.order_by(r.k, r.b, r.minutes)):
        out.setdefault((key, int(band)), []).append((int(minutes), int(count or 0)))
    return out


def _child(region: Region, level: str, key: str) -> Region:
    parts = region.as_dict() | {level: key}
    return Region(**parts)


def _minute_at(
    minutes: dict[tuple[str, int], list[tuple[int, int]]],
    key: str,
    band: int,
    counts: dict[int, int],
    rank: int,
) -> int:
    """The time to accept (seconds, whole minutes) at *rank* (0-based) under *key*: counted
    through the bands below *band*, then through its minute rows."""
    below = sum(n for b, n in counts.items() if b < band)
    for value, count in minutes.get((key, band), []):
        below += count
        if rank < below:
            return value * MINUTE
    msg = f"rank {rank} beyond the minute rows of band {band} under {key}"
    raise LookupError(msg)


def experts(
    session: Session, region: Region, level: str | None, days: Days
) -> dict[str, tuple[str, int]]:
    """As store.metrics._Query.experts: per key (key, experts registered before the end)."""
    c = REGISTRATIONS.c
    depth = LEVEL_OF[level] if level else region.level
    stmt = select(_key(REGISTRATIONS, level), func.sum(c.experts)).where(
        c.level == depth, *region.within(c), c.day < days[1]
    )
    rows = session.execute(_grouped(stmt, REGISTRATIONS, level))
    return {key: (key, int(count)) for key, count in rows if count}


def active_experts(
    session: Session, region: Region, level: str | None, days: Days
) -> dict[str, tuple[str, int]]:
    """As store.metrics._Query.active_experts: per key (key, experts who accepted an order
    in the period)."""
    c = EXPERT_DAYS.c
    depth = LEVEL_OF[level] if level else region.level
    stmt = select(_key(EXPERT_DAYS, level), func.sum(c.experts)).where(
        c.level == depth, *_first_days(EXPERT_DAYS, region, days)
    )
    rows = session.execute(_grouped(stmt, EXPERT_DAYS, level))
    return {key: (key, int(count)) for key, count in rows if count}


def questions_rows(
    session: Session, region: Region, level: str | None, days: Days
) -> dict[str, tuple[Any, ...]]:
    """As store.metrics._Query.questions: per key (key, questions, unanswered)."""
    c = QUESTION_DAYS.c
    stmt = select(_key(QUESTION_DAYS, level), func.sum(c.questions), func.sum(c.unanswered))
    stmt = _grouped(
        stmt.where(*_level_rows(QUESTION_DAYS, region, level, days)), QUESTION_DAYS, level
    )
    return {r[0]: (r[0], int(r[1]), int(r[2] or 0)) for r in session.execute(stmt) if r[1]}


def unmet_top(
    session: Session, region: Region, days: Days, limit: int = 5
) -> tuple[list[Count], list[Count]]:
    """As store.trends.unmet_top."""
    c = UNMET_DAYS.c
    stmt = (
        select(c.category, c.crop, func.sum(c.unmet))
        .where(*_level_rows(UNMET_DAYS, region, None, days))
        .group_by(c.category, c.crop)
    )
    rows = [(cat, crop, int(n)) for cat, crop, n in session.execute(stmt) if n]
    return rank_unmet(rows, limit)


def weekly_trend(
    session: Session, region: Region, since: datetime, until: datetime, days: Days
) -> list[WeekPoint]:
    """As store.trends.weekly_trend (weeks counted from *since*, a midnight)."""
    starts = week_starts(since, until)
    per_day: list[tuple[date, int, int, int]] = []
    n = NEED_DAYS.c
    stmt = (
        select(n.day, func.sum(n.needs), func.sum(n.accepted))
        .where(*_level_rows(NEED_DAYS, region, None, days))
        .group_by(n.day)
    )
    per_day += [(d, int(a or 0), int(b or 0), 0) for d, a, b in session.execute(stmt)]
    q = QUESTION_DAYS.c
    stmt = (
        select(q.day, func.sum(q.questions))
        .where(*_level_rows(QUESTION_DAYS, region, None, days))
        .group_by(q.day)
    )
    per_day += [(d, 0, 0, int(a or 0)) for d, a in session.execute(stmt)]
    weeks = [[0, 0, 0] for _ in starts]
    first = days[0]
    for day, needs, accepted, asked in per_day:
        if isinstance(day, str):
            day = date.fromisoformat(day)
        i = min(max((day - first) // timedelta(seconds=WEEK), 0), len(starts) - 1)
        weeks[i][0] += needs
        weeks[i][1] += accepted
        weeks[i][2] += asked
    return [WeekPoint(s, a, b, c) for s, (a, b, c) in zip(starts, weeks, strict=True)]
