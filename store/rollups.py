"""Indicator rollups: the regional indicators' figures per region and day, kept exact in the
same transaction as every need posted and every order move, so that a province view reads
thousands of small rows instead of millions of needs (store.rollup_reads reads them).

Tables (region = province, city, county as on the need; day = the UTC day it was posted):

- ``rollup_need_days`` (level, region cut to that level, day, requester kind): needs,
  accepted, resolved, unmet, rating sum and count, 对接 resolved - figures that add up across
  counties and days, kept per level all the same, so that a province view reads its cities'
  rows (or its own), not every county's;
- ``rollup_wait_bands`` (level, region cut to that level, day, band) and
  ``rollup_wait_minutes`` (level, region, day, band, whole minutes): accepted needs per band
  of time to accept, then per whole minute (each wait truncated to the minute: the median's
  resolution). A median is found in one band, then exactly, to the minute, among the minute
  rows of that band alone. Kept per level so that a province reads its own rows, not its
  counties';
- ``rollup_unmet_days`` (level, region, day, category, crop): needs nobody took;
- ``rollup_requester_days`` (level, region cut to that level, day, previous day, served):
  distinct requesters do not add up across days or counties, so each requester's days with a
  need in a region are chained: a requester counts once in a period [s, u) on the first of
  their days in it, i.e. on a day d in [s, u) whose previous day is before s. The chain is
  kept per level (country, province, city, county) and once more over needs that reached an
  expert (served requesters);
- ``rollup_question_days`` (level, region, day): questions asked and left unanswered;
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
them (the nightly job and ``tianfu stats check``): store.rollup_check. The tables, their keys and
the day arithmetic are in store.rollup_tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from store.prepared import Prepared
from store.rollup_tables import (
    EXPERT_DAYS,
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
    WAIT_MINUTES,
    cut,
    expert_table,
    keys_of,
    order_table,
    user_table,
    utc_day,
    wait_band,
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
        figures = {
            "needs": 1,
            "accepted": n.accepted_at is not None,
            "resolved": n.resolved_at is not None,
            "unmet": unmet,
            "rating_sum": n.rating if rated else 0,
            "rating_count": rated,
            "docked": n.achievement_id is not None and n.resolved_at is not None,
        }
        wait = n.accept_seconds
        for level in range(len(LEVELS)):
            place = cut(region, level)
            _add(cells, NEED_DAYS, (*place, day, level, n.requester_kind), **figures)
            if unmet:
                _add(cells, UNMET_DAYS, (*place, day, level, n.category, n.crop), unmet=1)
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


def _upsert(
    session: Session, table: Table, rows: list[tuple[tuple[Any, ...], dict[str, int]]]
) -> None:
    """Add each row's delta to the row of its key (created at zero when missing): one
    statement for all of *rows* (keys distinct, every delta naming the same fields), taking
    the rows in key order, so that two transactions adding to the same rows (a province's,
    the country's) lock them in one order."""
    if not rows:
        return
    rows = sorted(rows, key=lambda row: row[0])
    fields = tuple(sorted(rows[0][1]))
    keys = keys_of(table)
    dialect = session.get_bind().dialect.name
    for start in range(0, len(rows), _ROWS):
        chunk = rows[start : start + _ROWS]
        params: dict[str, Any] = {}
        for i, (key, delta) in enumerate(chunk):
            params.update({f"{k}_{i}": v for k, v in zip(keys, key, strict=True)})
            params.update({f"{f}_{i}": delta[f] for f in fields})
        _upsert_statement(dialect, table.name, fields, len(chunk)).execute(session, params)


_ROWS = 100  # rows per statement (a person forgotten may have thousands of cells)


@lru_cache(maxsize=1024)
def _upsert_statement(dialect: str, name: str, fields: tuple[str, ...], count: int) -> Prepared:
    """INSERT ... VALUES (*count* rows) ON CONFLICT DO UPDATE adding *fields*, built and
    compiled once (this runs every turn that logs a question and on every move). Prepared:
    SQLAlchemy does not cache a multi-row VALUES, so through ``session.execute`` it compiled
    the statement again on every call (a question's four rows: 900 µs, prepared 55 µs)."""
    table = next(t for t in TABLES if t.name == name)
    keys = keys_of(table)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(
        [
            {c: bindparam(f"{c}_{i}", type_=table.c[c].type) for c in (*keys, *fields)}
            for i in range(count)
        ]
    )
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=keys,
            set_={f: table.c[f] + stmt.excluded[f] for f in fields},
        )
    )


def apply_difference(session: Session, before: Cells, after: Cells) -> int:
    """Add after - before to the rollups, one statement per table and set of fields changed;
    return the number of rows touched."""
    batches: dict[tuple[str, tuple[str, ...]], list[tuple[tuple[Any, ...], dict[str, int]]]]
    batches = defaultdict(list)
    tables = {}
    for cell in before.keys() | after.keys():
        old, new = before.get(cell, {}), after.get(cell, {})
        delta = {k: new.get(k, 0) - old.get(k, 0) for k in old.keys() | new.keys()}
        delta = {k: int(v) for k, v in delta.items() if v}
        if delta:
            table, key = cell
            tables[table.name] = table
            batches[(table.name, tuple(sorted(delta)))].append((key, delta))
    for (name, _), rows in sorted(batches.items()):
        _upsert(session, tables[name], rows)
    return sum(len(rows) for rows in batches.values())


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
    day, delta = utc_day(at), {"questions": 1, "unanswered": int(not answered)}
    rows = [((*cut(region, level), day, level), delta) for level in range(len(LEVELS))]
    _upsert(session, QUESTION_DAYS, rows)
