"""The indicator rollups recomputed from the base tables: `rebuild` after a bulk load or a
migration, `check` (the nightly job and ``tianfu stats check``) to report and repair rows that
disagree with the needs, orders, questions and experts they count."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Table,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from store import rollup_bulk, rollup_gaps
from store.rollup_tables import (
    EXPERT_DAYS,
    GAP_DAYS,
    KIND_DAYS,
    LEVELS,
    MINUTE,
    NEED_DAYS,
    NEEDS,
    NO_DAY,
    QUESTION_DAYS,
    REGISTRATIONS,
    REQUESTER_DAYS,
    TABLES,
    UNMET,
    UNMET_DAYS,
    WAIT_BANDS,
    WAIT_EDGES,
    WAIT_MINUTES,
    expert_table,
    keys_of,
    order_table,
    question_table,
    user_table,
    values_of,
)

log = logging.getLogger(__name__)


# ---- recomputing from the base tables ----------------------------------------------------------
def day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC day of a stored (naive UTC) timestamp, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, Date)
    return func.date(column)


def band_of(session: Session, column: Any) -> ColumnElement[Any]:
    """`wait_band` in SQL: on PostgreSQL a binary search of the band edges (width_bucket
    counts the edges at or below the value, as bisect_right does), else a CASE."""
    if session.get_bind().dialect.name == "postgresql":
        edges = literal(list(WAIT_EDGES), postgresql.ARRAY(Integer))
        return func.width_bucket(column, edges) - 1
    whens = [(column < edge, i - 1) for i, edge in enumerate(WAIT_EDGES)]
    return case(*whens, else_=len(WAIT_EDGES) - 1)


def minutes_of(column: Any) -> ColumnElement[Any]:
    """``seconds // MINUTE`` in SQL (whose integer division truncates towards zero)."""
    return (column - (column % MINUTE + MINUTE) % MINUTE) // MINUTE


def _levels(region: list[Any]) -> Iterator[tuple[int, list[Any]]]:
    """(level, the region columns cut to it) for every level."""
    for level in range(len(LEVELS)):
        yield level, [c if i < level else literal("").label(c.name) for i, c in enumerate(region)]


def _chains(
    people: Any,
    region: list[Any],
    day: Any,
    level: int,
    where: Any = None,
    served: bool | None = None,
    kind: Any = None,
) -> Any:
    """SELECT the rows of a chain table at *level*: each person's distinct (region, day[,
    kind]), the person's previous day, counted (keys, then the count, in column order)."""
    kinds = [kind.label("kind")] if kind is not None else []
    days = select(people, *region, day, *kinds).distinct()
    if where is not None:
        days = days.where(where)
    d = days.subquery()
    place = [d.c.province, d.c.city, d.c.county]
    split = [d.c.kind] if kinds else []
    chain = select(
        *place,
        d.c.day,
        *split,
        func.lag(d.c.day)
        .over(partition_by=[d.c[people.name], *place, *split], order_by=d.c.day)
        .label("prev"),
    ).subquery()
    prev = func.coalesce(chain.c.prev, literal(NO_DAY, Date))
    at = [chain.c.province, chain.c.city, chain.c.county, chain.c.day]
    flag = [literal(served).label("served")] if served is not None else []
    split = [chain.c.kind] if kinds else []
    return select(
        *at, literal(level).label("level"), prev.label("prev_day"), *flag, *split, func.count()
    ).group_by(*at, prev, *split)


def _per_level(table: Table, counties: Any) -> Any:
    """The rows of *table* (a rollup kept per level whose figures add up) at every level,
    summed from *counties*: its rows per county (region, day, then its other keys and its
    values by name), read once (a CTE) however many levels sum them."""
    c = counties.c
    region = [c.province, c.city, c.county]
    rest = [c[name] for name in keys_of(table)[5:]]
    sums = [func.sum(c[name]) for name in values_of(table)]
    return union_all(
        *(
            select(*kept, c.day, literal(level).label("level"), *rest, *sums).group_by(
                *kept, c.day, *rest
            )
            for level, kept in _levels(region)
        )
    )


def recompute(session: Session) -> dict[Table, Any]:
    """table -> a SELECT giving its rows (keys, then values, in column order) from the base
    tables. On PostgreSQL the needs and accepted orders are first staged, narrow, in
    temporary tables of the session's transaction (store.rollup_bulk), which most of the
    statements read instead of the base tables."""
    generic = _generic(session)
    if session.get_bind().dialect.name != "postgresql":
        return generic
    rollup_bulk.stage(session)
    return rollup_bulk.statements(generic)


def _generic(session: Session) -> dict[Table, Any]:
    n = NEEDS.c
    day = day_of(session, n.created_at).label("day")
    region = [n.province, n.city, n.county]
    band = band_of(session, n.accept_seconds).label("band")
    minutes = minutes_of(n.accept_seconds).label("minutes")
    bands, minute_rows, requester_rows, kind_rows, expert_rows = [], [], [], [], []
    for level, kept in _levels(region):
        lv = literal(level).label("level")
        waited = n.accept_seconds.isnot(None)
        bands.append(
            select(*kept, day, lv, band, func.count()).where(waited).group_by(*kept, day, band)
        )
        minute_rows.append(
            select(*kept, day, lv, band, minutes, func.count())
            .where(waited)
            .group_by(*kept, day, band, minutes)
        )
        for served in (False, True):
            where = n.accepted_at.isnot(None) if served else None
            requester_rows.append(_chains(n.requester_id, kept, day, level, where, served))
            kind_rows.append(
                _chains(n.requester_id, kept, day, level, where, served, n.requester_kind)
            )
    need_days = select(
        *region,
        day,
        n.requester_kind,
        func.count().label("needs"),
        func.count(n.accepted_at).label("accepted"),
        func.count(n.resolved_at).label("resolved"),
        func.sum(case((n.status.in_(UNMET), 1), else_=0)).label("unmet"),
        func.coalesce(func.sum(n.rating), 0).label("rating_sum"),
        func.count(n.rating).label("rating_count"),
        func.count(case((n.achievement_id.isnot(None), n.resolved_at))).label("docked"),
    ).group_by(*region, day, n.requester_kind)
    unmet_days = (
        select(*region, day, n.category, n.crop, func.count().label("unmet"))
        .where(n.status.in_(UNMET))
        .group_by(*region, day, n.category, n.crop)
    )
    out: dict[Table, Any] = {
        NEED_DAYS: _per_level(NEED_DAYS, need_days.cte("need_counties")),
        WAIT_BANDS: union_all(*bands),
        WAIT_MINUTES: union_all(*minute_rows),
        UNMET_DAYS: _per_level(UNMET_DAYS, unmet_days.cte("unmet_counties")),
        REQUESTER_DAYS: union_all(*requester_rows),
        KIND_DAYS: union_all(*kind_rows),
    }
    q = question_table().c
    qday = day_of(session, q.created_at).label("day")
    question_days = select(
        q.province,
        q.city,
        q.county,
        qday,
        func.count().label("questions"),
        func.sum(case((q.answered.is_(False), 1), else_=0)).label("unanswered"),
    ).group_by(q.province, q.city, q.county, qday)
    out[QUESTION_DAYS] = _per_level(QUESTION_DAYS, question_days.cte("question_counties"))
    # experts: where the expert lives, over the days of the orders they hold accepted
    users = user_table()
    o, u, e = order_table().c, users.c, expert_table().c
    taken = (
        select(o.expert_id, u.province, u.city, u.county, o.accepted_at)
        .join(users, u.id == o.expert_id)
        .join(expert_table(), e.user_id == u.id)
        .where(o.accepted_at.isnot(None))
        .subquery()
    )
    t = taken.c
    tday = day_of(session, t.accepted_at).label("day")
    for level, kept in _levels([t.province, t.city, t.county]):
        expert_rows.append(_chains(t.expert_id, kept, tday, level))
    out[GAP_DAYS] = rollup_gaps.recount(session, lambda column: day_of(session, column))
    out[EXPERT_DAYS] = union_all(*expert_rows)
    rday = day_of(session, e.created_at).label("day")
    registered = []
    for level, kept in _levels([u.province, u.city, u.county]):
        registered.append(
            select(*kept, rday, literal(level).label("level"), func.count())
            .select_from(expert_table().join(users, u.id == e.user_id))
            .group_by(*kept, rday)
        )
    out[REGISTRATIONS] = union_all(*registered)
    return out


def rebuild(session: Session) -> dict[str, float]:
    """Replace every rollup with its recomputation (after a bulk load; commits); the seconds
    each step took (staging, then each table), for the benchmark."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    statements = recompute(session)
    seconds["stage"] = time.perf_counter() - started
    postgres = session.get_bind().dialect.name == "postgresql"
    for table, stmt in statements.items():
        started = time.perf_counter()
        if postgres:
            rollup_bulk.refill(session, table, stmt)
        else:
            session.execute(delete(table))
            session.execute(table.insert().from_select([c.name for c in table.columns], stmt))
        seconds[table.name] = time.perf_counter() - started
    session.commit()
    return {name: round(s, 1) for name, s in seconds.items()}


def rebuild_table(session: Session, table: Table) -> None:
    """Replace the rows of one rollup *table* with its recount (a table added by a migration;
    not committed)."""
    stmt = _generic(session)[table]
    session.execute(delete(table))
    session.execute(table.insert().from_select([c.name for c in table.columns], stmt))


@dataclass(frozen=True, slots=True)
class Difference:
    """One rollup row that disagrees with the base tables."""

    table: str
    region: str
    day: date
    key: tuple[Any, ...]
    stored: dict[str, Any]
    expected: dict[str, Any]


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)
    return value


def _value(value: Any) -> Any:
    """A rollup value as compared: counts as int (None: 0), texts and times as they are."""
    if value is None:
        return 0
    return value if isinstance(value, (str, datetime)) else int(value)


def check(session: Session, *, repair: bool = False) -> list[Difference]:
    """Compare every rollup with its recomputation from the base tables; with *repair*, set
    the differing rows to the recomputed values (and commit).

    On PostgreSQL both reads see one snapshot (REPEATABLE READ, when *session* has no
    transaction open yet), so moves committed during the check cannot show up as differences.
    """
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    found: list[Difference] = []
    for table, stmt in recompute(session).items():
        keys, values = keys_of(table), values_of(table)
        expected = {
            tuple(_norm(v) for v in row[: len(keys)]): [_value(v) for v in row[len(keys) :]]
            for row in session.execute(stmt)
        }
        stored = {
            tuple(_norm(v) for v in row[: len(keys)]): [_value(v) for v in row[len(keys) :]]
            for row in session.execute(select(*(table.c[k] for k in keys + values)))
        }
        zero = [0] * len(values)
        for key in expected.keys() | stored.keys():
            want, have = expected.get(key, zero), stored.get(key, zero)
            if want != have:
                found.append(
                    Difference(
                        table=table.name,
                        region="".join(dict.fromkeys(p for p in key[:3] if p)),
                        day=key[3],
                        key=key,
                        stored=dict(zip(values, have, strict=True)),
                        expected=dict(zip(values, want, strict=True)),
                    )
                )
    if repair and found:
        session.rollback()  # leave the snapshot: repair in a fresh transaction
        by_name = {t.name: t for t in TABLES}
        for diff in found:
            table = by_name[diff.table]
            keys = keys_of(table)
            where = [table.c[k] == v for k, v in zip(keys, diff.key, strict=True)]
            session.execute(delete(table).where(*where))
            if any(diff.expected.values()):
                session.execute(
                    table.insert().values(
                        **dict(zip(keys, diff.key, strict=True)), **diff.expected
                    )
                )
        session.commit()
        log.warning("repaired %d rollup rows that disagreed with the base tables", len(found))
    elif session.in_transaction():
        session.rollback()
    return found
