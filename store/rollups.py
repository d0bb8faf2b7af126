"""Indicator rollups: the regional indicators' figures per county and day, kept exact in the
same transaction as every need posted and every order move, so that a province view reads
thousands of small rows instead of millions of needs (store.rollup_reads reads them).

Tables (region = province, city, county as on the need; day = the UTC day it was posted):

- ``rollup_need_days`` (region, day, requester kind): needs, accepted, resolved, unmet, rating
  sum and count, 对接 resolved - figures that add up across counties and days;
- ``rollup_wait_bands`` (level, region cut to that level, day, band) and
  ``rollup_wait_minutes`` (level, region, day, band, whole minutes): accepted needs per band
  of time to accept, then per whole minute (each wait truncated to the minute: the median's
  resolution). A median is found in one band, then exactly, to the minute, among the minute
  rows of that band alone. Kept per level so that a province reads its own rows, not its
  counties';
- ``rollup_unmet_days`` (region, day, category, crop): needs nobody took;
- ``rollup_requester_days`` (level, region cut to that level, day, previous day, served):
  distinct requesters do not add up across days or counties, so each requester's days with a
  need in a region are chained: a requester counts once in a period [s, u) on the first of
  their days in it, i.e. on a day d in [s, u) whose previous day is before s. The chain is
  kept per level (country, province, city, county) and once more over needs that reached an
  expert (served requesters);
- ``rollup_question_days`` (region, day): questions asked and left unanswered;
- ``rollup_expert_days`` (level, region cut to that level, day, previous day): experts
  (a user with an expert profile, counted where the user lives) chained over the days they
  accepted an order, as requesters are: an expert is active in [s, u) once, on their first
  accepting day in it;
- ``rollup_expert_registrations`` (level, region, day): expert profiles made that day;
- ``rollup_kind_days``: the requester chains once more per requester kind (issue 18).

Every change goes through `tracking`: it locks the users concerned, reads what their needs
(as requester) and their accepted orders (as expert) contributed before and after the
change, and adds the difference. `check` recomputes
everything from the base tables, reports differences by table, region and day, and repairs
them (the nightly job and ``tianfu stats check``).
"""

from __future__ import annotations

import bisect
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Index,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement
from sqlmodel import Field, Session, SQLModel

from store.clock import as_utc
from store.lifecycle import UNMET_STATUSES
from store.needs import Need

log = logging.getLogger(__name__)

NO_DAY = date(1970, 1, 1)  # the previous day of a requester's first day
LEVELS = ("", "province", "city", "county")  # level number -> the deepest column kept
UNMET = sorted(s.value for s in UNMET_STATUSES)
MINUTE = 60  # the resolution of a median time to accept, in seconds
# Bands of time to accept (seconds, whole minutes): 0, 1 minute, then about 15 % wider each;
# the last is open.
WAIT_EDGES: tuple[int, ...] = (0, *sorted({MINUTE * round(1.15**i) for i in range(110)}))


def wait_band(seconds: int) -> int:
    """The band of a time to accept (-1 below zero: a clock that went backwards)."""
    return bisect.bisect_right(WAIT_EDGES, seconds) - 1


def band_range(band: int) -> tuple[int | None, int | None]:
    """[low, high) seconds of a band (None: unbounded)."""
    low = WAIT_EDGES[band] if band >= 0 else None
    high = WAIT_EDGES[band + 1] if band + 1 < len(WAIT_EDGES) else None
    return low, high


class _Region(SQLModel):
    province: str = Field(default="", primary_key=True, max_length=32)
    city: str = Field(default="", primary_key=True, max_length=32)
    county: str = Field(default="", primary_key=True, max_length=32)
    day: date = Field(primary_key=True)


class NeedDay(_Region, table=True):
    __tablename__ = "rollup_need_days"

    requester_kind: str = Field(default="individual", primary_key=True, max_length=16)
    needs: int = 0
    accepted: int = 0
    resolved: int = 0
    unmet: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    docked: int = 0  # 对接 requests (needs on an achievement) resolved


class WaitBand(_Region, table=True):
    __tablename__ = "rollup_wait_bands"
    __table_args__ = (
        Index(
            "ix_rollup_wait_bands_level",
            "level",
            "province",
            "city",
            "county",
            "day",
            "band",
            "accepted",
        ),
    )

    level: int = Field(primary_key=True)
    band: int = Field(primary_key=True)
    accepted: int = 0


class WaitMinute(_Region, table=True):
    __tablename__ = "rollup_wait_minutes"
    # a median reads the minutes of one band of one region
    __table_args__ = (
        Index(
            "ix_rollup_wait_minutes_band",
            "level",
            "band",
            "province",
            "city",
            "county",
            "day",
            "minutes",
            "accepted",
        ),
    )

    level: int = Field(primary_key=True)
    band: int = Field(primary_key=True)
    minutes: int = Field(primary_key=True)
    accepted: int = 0


class UnmetDay(_Region, table=True):
    __tablename__ = "rollup_unmet_days"

    category: str = Field(primary_key=True, max_length=16)
    crop: str = Field(primary_key=True, max_length=32)
    unmet: int = 0


class RequesterDay(_Region, table=True):
    __tablename__ = "rollup_requester_days"
    # a view reads one level of one region: that level's rows only, from the index
    __table_args__ = (
        Index(
            "ix_rollup_requester_days_level",
            "level",
            "province",
            "city",
            "county",
            "day",
            "prev_day",
            "served",
            "requesters",
        ),
    )

    level: int = Field(primary_key=True)
    prev_day: date = Field(primary_key=True)
    served: bool = Field(primary_key=True)
    requesters: int = 0


class ExpertRegistration(_Region, table=True):
    """Expert profiles by the day they were made, where the expert lives, per level: the
    registered experts of a region up to a day are the sum of its rows before that day."""

    __tablename__ = "rollup_expert_registrations"
    __table_args__ = (
        Index(
            "ix_rollup_expert_registrations_level",
            "level",
            "province",
            "city",
            "county",
            "day",
            "experts",
        ),
    )

    level: int = Field(primary_key=True)
    experts: int = 0


class KindDay(_Region, table=True):
    """As RequesterDay, per requester kind (enterprise, individual): issue 18's acquisition
    rates by kind. A requester with needs of both kinds is in both chains."""

    __tablename__ = "rollup_kind_days"
    __table_args__ = (
        Index(
            "ix_rollup_kind_days_level",
            "level",
            "province",
            "city",
            "county",
            "day",
            "prev_day",
            "served",
            "kind",
            "requesters",
        ),
    )

    level: int = Field(primary_key=True)
    prev_day: date = Field(primary_key=True)
    served: bool = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=16)
    requesters: int = 0


class QuestionDay(_Region, table=True):
    __tablename__ = "rollup_question_days"

    questions: int = 0
    unanswered: int = 0


class ExpertDay(_Region, table=True):
    __tablename__ = "rollup_expert_days"
    __table_args__ = (
        Index(
            "ix_rollup_expert_days_level",
            "level",
            "province",
            "city",
            "county",
            "day",
            "prev_day",
            "experts",
        ),
    )

    level: int = Field(primary_key=True)
    prev_day: date = Field(primary_key=True)
    experts: int = 0


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined]


NEED_DAYS, UNMET_DAYS = _table(NeedDay), _table(UnmetDay)
WAIT_BANDS, WAIT_MINUTES = _table(WaitBand), _table(WaitMinute)
REQUESTER_DAYS, QUESTION_DAYS = _table(RequesterDay), _table(QuestionDay)
EXPERT_DAYS, KIND_DAYS = _table(ExpertDay), _table(KindDay)
REGISTRATIONS = _table(ExpertRegistration)
NEEDS = _table(Need)
TABLES = (
    NEED_DAYS,
    WAIT_BANDS,
    WAIT_MINUTES,
    UNMET_DAYS,
    REQUESTER_DAYS,
    KIND_DAYS,
    QUESTION_DAYS,
    EXPERT_DAYS,
    REGISTRATIONS,
)


@lru_cache(maxsize=16)
def _keys(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _values(table: Table) -> list[str]:
    return [c.name for c in table.columns if not c.primary_key]


def utc_day(at: datetime) -> date:
    return as_utc(at).astimezone(UTC).date()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def cut(region: tuple[str, str, str], level: int) -> tuple[str, str, str]:
    """The region at *level* (0 country .. 3 county): deeper parts emptied."""
    return (
        region[0] if level >= 1 else "",
        region[1] if level >= 2 else "",
        region[2] if level >= 3 else "",
    )


# ---- what a requester's needs contribute -----------------------------------------------------
Cells = dict[tuple[Table, tuple[Any, ...]], dict[str, int]]
_FACTS = (
    NEEDS.c.province,
    NEEDS.c.city,
    NEEDS.c.county,
    NEEDS.c.created_at,
    NEEDS.c.requester_kind,
    NEEDS.c.status,
    NEEDS.c.accepted_at,
    NEEDS.c.resolved_at,
    NEEDS.c.rating,
    NEEDS.c.accept_seconds,
    NEEDS.c.category,
    NEEDS.c.crop,
    NEEDS.c.achievement_id,
)


def _add(cells: Cells, table: Table, key: tuple[Any, ...], **values: int) -> None:
    cell = cells.setdefault((table, key), {})
    for name, value in values.items():
        cell[name] = cell.get(name, 0) + value


def _chain(cells: Cells, table: Table, column: str, key: tuple[Any, ...], days: set[date]) -> None:
    """Add one person's *days* in a region (*key*: level, region) to a chain table: each day
    counted with the day before it (NO_DAY for the first)."""
    level, region, *rest = key
    prev = NO_DAY
    for day in sorted(days):
        _add(cells, table, (*region, day, level, prev, *rest), **{column: 1})
        prev = day


def contribution(needs: Iterable[Any], cells: Cells | None = None) -> Cells:
    """The rollup cells one requester's needs (rows of `_FACTS`) make up (added to *cells*)."""
    cells = {} if cells is None else cells
    chains: dict[tuple[int, tuple[str, str, str], bool], set[date]] = defaultdict(set)
    kinds: dict[tuple[int, tuple[str, str, str], bool, str], set[date]] = defaultdict(set)
    for n in needs:
        day = utc_day(n.created_at)
        region = (n.province, n.city, n.county)
        unmet = n.status in UNMET
        rated = n.rating is not None
        _add(
            cells,
            NEED_DAYS,
            (*region, day, n.requester_kind),
            needs=1,
            accepted=n.accepted_at is not None,
            resolved=n.resolved_at is not None,
            unmet=unmet,
            rating_sum=n.rating if rated else 0,
            rating_count=rated,
            docked=n.achievement_id is not None and n.resolved_at is not None,
        )
        if unmet:
            _add(cells, UNMET_DAYS, (*region, day, n.category, n.crop), unmet=1)
        wait = n.accept_seconds
        for level in range(len(LEVELS)):
            place = cut(region, level)
            chains[(level, place, False)].add(day)
            kinds[(level, place, False, n.requester_kind)].add(day)
            if n.accepted_at is not None:
                chains[(level, place, True)].add(day)
                kinds[(level, place, True, n.requester_kind)].add(day)
            if wait is not None:
                band = wait_band(wait)
                _add(cells, WAIT_BANDS, (*place, day, level, band), accepted=1)
                _add(cells, WAIT_MINUTES, (*place, day, level, band, wait // MINUTE), accepted=1)
    for (level, region, served), days in chains.items():
        _chain(cells, REQUESTER_DAYS, "requesters", (level, region, served), days)
    for key, days in kinds.items():
        _chain(cells, KIND_DAYS, "requesters", key, days)
    return cells


def expert_contribution(expert: Any, days: Iterable[date], cells: Cells) -> Cells:
    """The rollup cells of one expert (a row with province, city, county; None: no expert
    profile) who accepted orders on *days* (added to *cells*)."""
    if expert is None:
        return cells
    region = (expert.province, expert.city, expert.county)
    chain = set(days)
    registered = utc_day(expert.created_at)
    for level in range(len(LEVELS)):
        _chain(cells, EXPERT_DAYS, "experts", (level, cut(region, level)), chain)
        _add(cells, REGISTRATIONS, (*cut(region, level), registered, level), experts=1)
    return cells


def _facts(session: Session, requester_id: int) -> list[Any]:
    return list(session.execute(select(*_FACTS).where(NEEDS.c.requester_id == requester_id)))


def _cells(session: Session, user_ids: list[int]) -> Cells:
    """What *user_ids* contribute to the rollups: their needs, their accepted orders."""
    cells: Cells = {}
    profiles, orders, users = expert_table().c, order_table().c, user_table()
    for user_id in user_ids:
        contribution(_facts(session, user_id), cells)
        expert = session.execute(
            select(users.c.province, users.c.city, users.c.county, profiles.created_at)
            .join(expert_table(), profiles.user_id == users.c.id)
            .where(users.c.id == user_id)
        ).first()
        if expert is not None:
            taken = select(orders.accepted_at).where(
                orders.expert_id == user_id, orders.accepted_at.isnot(None)
            )
            days = {utc_day(at) for at in session.scalars(taken)}
            expert_contribution(expert, days, cells)
    return cells


def _upsert(session: Session, table: Table, key: tuple[Any, ...], delta: dict[str, int]) -> None:
    """Add *delta* to the row of *key* (created at zero when missing)."""
    dialect = session.get_bind().dialect.name
    stmt = _upsert_statement(dialect, table.name, tuple(sorted(delta)))
    session.execute(stmt, {**dict(zip(_keys(table), key, strict=True)), **delta})


@lru_cache(maxsize=256)
def _upsert_statement(dialect: str, name: str, fields: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE adding *fields*, built once (this runs every turn
    that logs a question and on every move)."""
    table = next(t for t in TABLES if t.name == name)
    keys = _keys(table)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values({c: bindparam(c) for c in (*keys, *fields)})
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={f: table.c[f] + stmt.excluded[f] for f in fields},
    )


def apply_difference(session: Session, before: Cells, after: Cells) -> int:
    """Add after - before to the rollups; return the number of rows touched."""
    touched = 0
    for cell in before.keys() | after.keys():
        old, new = before.get(cell, {}), after.get(cell, {})
        delta = {k: new.get(k, 0) - old.get(k, 0) for k in old.keys() | new.keys()}
        delta = {k: v for k, v in delta.items() if v}
        if delta:
            _upsert(session, cell[0], cell[1], delta)
            touched += 1
    return touched


def _lock(session: Session, user_id: int) -> None:
    """Serialise rollup changes per user (their chains of days are read, then written)."""
    users = user_table()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(users.c.id).where(users.c.id == user_id).with_for_update(key_share=True)
        )
    else:  # SQLite: any write takes the database's write lock for the rest of the transaction
        session.execute(
            users.update().where(users.c.id == user_id).values(created_at=users.c.created_at)
        )


@contextmanager
def tracking(session: Session, *user_ids: int | None) -> Iterator[None]:
    """Keep the rollups exact across the writes inside the block to *user_ids*' needs (as
    requesters), accepted orders, region or expert profile (as experts); in the caller's
    transaction, the caller commits or rolls back. Users are locked in id order, so that two
    moves naming the same two users cannot deadlock."""
    ids = sorted({i for i in user_ids if i is not None})
    for user_id in ids:
        _lock(session, user_id)
    before = _cells(session, ids)
    yield
    session.flush()
    apply_difference(session, before, _cells(session, ids))


def question_logged(
    session: Session, *, region: tuple[str, str, str], at: datetime, answered: bool
) -> None:
    """Count a new question-log row (its region, day and answer never change afterwards)."""
    key = (*region, utc_day(at))
    _upsert(session, QUESTION_DAYS, key, {"questions": 1, "unanswered": int(not answered)})


def question_table() -> Table:
    # store.questions imports this module to count its rows: its table is found by name
    return SQLModel.metadata.tables["question_log"]


def user_table() -> Table:
    # store.users imports this module (an expert's region changes): found by name
    return SQLModel.metadata.tables["users"]


def expert_table() -> Table:
    return SQLModel.metadata.tables["expert_profiles"]  # by name, as question_table


def order_table() -> Table:
    return SQLModel.metadata.tables["orders"]  # store.orders imports this module


# ---- recomputing from the base tables ----------------------------------------------------------
def day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC day of a stored (naive UTC) timestamp, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, Date)
    return func.date(column)


def band_of(column: Any) -> ColumnElement[Any]:
    """`wait_band` in SQL."""
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


def recompute(session: Session) -> dict[Table, Any]:
    """table -> a SELECT giving its rows (keys, then values, in column order) from the base
    tables."""
    n = NEEDS.c
    day = day_of(session, n.created_at).label("day")
    region = [n.province, n.city, n.county]
    band = band_of(n.accept_seconds).label("band")
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
    out: dict[Table, Any] = {
        NEED_DAYS: select(
            *region,
            day,
            n.requester_kind,
            func.count(),
            func.count(n.accepted_at),
            func.count(n.resolved_at),
            func.sum(case((n.status.in_(UNMET), 1), else_=0)),
            func.coalesce(func.sum(n.rating), 0),
            func.count(n.rating),
            func.count(case((n.achievement_id.isnot(None), n.resolved_at))),
        ).group_by(*region, day, n.requester_kind),
        WAIT_BANDS: union_all(*bands),
        WAIT_MINUTES: union_all(*minute_rows),
        UNMET_DAYS: select(*region, day, n.category, n.crop, func.count())
        .where(n.status.in_(UNMET))
        .group_by(*region, day, n.category, n.crop),
        REQUESTER_DAYS: union_all(*requester_rows),
        KIND_DAYS: union_all(*kind_rows),
    }
    q = question_table().c
    qday = day_of(session, q.created_at).label("day")
    out[QUESTION_DAYS] = select(
        q.province,
        q.city,
        q.county,
        qday,
        func.count(),
        func.sum(case((q.answered.is_(False), 1), else_=0)),
    ).group_by(q.province, q.city, q.county, qday)
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


def rebuild(session: Session) -> None:
    """Replace every rollup with its recomputation (after a bulk load; commits)."""
    for table, stmt in recompute(session).items():
        session.execute(delete(table))
        session.execute(table.insert().from_select([c.name for c in table.columns], stmt))
    session.commit()


@dataclass(frozen=True, slots=True)
class Difference:
    """One rollup row that disagrees with the base tables."""

    table: str
    region: str
    day: date
    key: tuple[Any, ...]
    stored: dict[str, int]
    expected: dict[str, int]


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)
    return value


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
        keys, values = _keys(table), _values(table)
        expected = {
            tuple(_norm(v) for v in row[: len(keys)]): [int(v or 0) for v in row[len(keys) :]]
            for row in session.execute(stmt)
        }
        stored = {
            tuple(_norm(v) for v in row[: len(keys)]): [int(v or 0) for v in row[len(keys) :]]
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
            keys = _keys(table)
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


def day_range(since: datetime, until: datetime) -> tuple[date, date] | None:
    """(first day, day after the last) when the period is whole UTC days, else None."""
    since, until = as_utc(since).astimezone(UTC), as_utc(until).astimezone(UTC)
    if since.timetz() != time(tzinfo=UTC) or until.timetz() != time(tzinfo=UTC):
        return None
    return since.date(), until.date()


def whole_days(*, until: datetime) -> datetime:
    """The next midnight (UTC) at or after *until*."""
    day = utc_day(until)
    start = midnight(day)
    return start if start == as_utc(until) else midnight(day + timedelta(days=1))
