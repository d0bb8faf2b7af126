"""The knowledge gap kept as a rollup (``rollup_gap_days``, store.rollup_tables.GapDay): per
level, region cut to it, day, kind and question text, how often that text was asked without
an answer ("unanswered") or with an answer rated 没用 ("unhelpful"), when last, and the
greatest article offered - so that a regional view ranks the gap from its own level's rows
instead of reading every logged question of the period.

Kept exact in the transaction of every write that changes it: a question logged without an
answer and a 没用 vote add to their cells (`add`); a vote changed to 有用, a question's text
cleared by retention and a person forgotten take rows out (`remove`). Counts are decremented;
a cell's last time and article are maxima, so when a removed row may have held one, the cell
is counted again from the question log of that region and day. The nightly check compares
every row with `recount` (store.rollup_check).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, literal, select, tuple_, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from store.clock import as_utc
from store.region import Region
from store.rollup_tables import (
    GAP_DAYS,
    LEVELS,
    cut,
    keys_of,
    midnight,
    question_table,
    text_hash,
    utc_day,
)

UNANSWERED, UNHELPFUL = "unanswered", "unhelpful"
_CHUNK = 500  # cells locked and read per statement


@dataclass(frozen=True, slots=True)
class GapFact:
    """One logged question as the gap counts it: its kind, region, time, text, article."""

    kind: str
    region: tuple[str, str, str]
    at: datetime
    question: str
    top_hit: str = ""


def kinds_of(answered: bool, feedback: int) -> list[str]:
    """The gap kinds a logged question counts in (none, one or both)."""
    return ([UNANSWERED] if not answered else []) + ([UNHELPFUL] if feedback < 0 else [])


def facts_of(rows: Iterable[Any]) -> list[GapFact]:
    """GapFacts of question-log rows (with question, answered, feedback, province, city,
    county, created_at, top_hit); rows whose text is cleared count in no gap."""
    return [
        GapFact(kind, (r.province, r.city, r.county), r.created_at, r.question, r.top_hit)
        for r in rows
        if r.question
        for kind in kinds_of(r.answered, r.feedback)
    ]


def rows_where(session: Session, *terms: Any) -> list[Any]:
    """The question-log rows matching *terms* with the columns `facts_of` reads (before a
    change that may take them out of the gap)."""
    q = question_table().c
    columns = ("question", "answered", "feedback", "province", "city", "county")
    stmt = select(*(q[name] for name in columns), q.created_at, q.top_hit).where(*terms)
    return list(session.execute(stmt))


Cell = tuple[Any, ...]  # GAP_DAYS' key in column order: province, city, county, day, level...


def _cells(facts: Iterable[GapFact]) -> dict[Cell, tuple[int, datetime, str, str]]:
    """key -> (rows, latest time, greatest article, text) of *facts* at every level."""
    out: dict[Cell, tuple[int, datetime, str, str]] = {}
    for f in facts:
        day, qhash, at = utc_day(f.at), text_hash(f.question), as_utc(f.at)
        hit = f.top_hit if f.kind == UNHELPFUL else ""  # an unanswered question offered none
        for level in range(len(LEVELS)):
            key = (*cut(f.region, level), day, level, f.kind, qhash)
            n, last, top, _ = out.get(key, (0, at, hit, f.question))
            out[key] = (n + 1, max(last, at), max(top, hit), f.question)
    return out


@lru_cache(maxsize=4)
def _add_statement(dialect: str) -> Any:
    table = GAP_DAYS
    keys = keys_of(table)
    values = ("asked", "question", "last_at", "top_hit")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values({c: bindparam(c) for c in (*keys, *values)})
    biggest = func.greatest if dialect == "postgresql" else func.max  # SQLite: scalar max
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={
            "asked": table.c.asked + stmt.excluded.asked,
            "last_at": biggest(table.c.last_at, stmt.excluded.last_at),
            "top_hit": biggest(table.c.top_hit, stmt.excluded.top_hit),
        },
    )


def add(session: Session, facts: Iterable[GapFact]) -> None:
    """Count *facts* (questions that entered a gap) in their cells, in the caller's
    transaction: one statement for all the cells, every level's in level order (the order
    `remove` locks them in)."""
    cells = _cells(facts)
    if not cells:
        return
    keys = keys_of(GAP_DAYS)
    params = [
        {
            **dict(zip(keys, key, strict=True)),
            "asked": n,
            "last_at": last,
            "top_hit": top,
            "question": text,
        }
        for key, (n, last, top, text) in sorted(cells.items(), key=_lock_order)
    ]
    session.execute(_add_statement(session.get_bind().dialect.name), params)


def _lock_order(item: tuple[Cell, Any]) -> tuple[Any, ...]:
    key = item[0]
    return (key[4], *key[:4], *key[5:])  # level first


def remove(session: Session, facts: Iterable[GapFact]) -> None:
    """Take *facts* (questions that left a gap: their rows already changed in this
    transaction) out of their cells. A cell whose rows all went is deleted; one whose latest
    time or article may have gone with them is counted again from the question log."""
    cells = _cells(facts)
    if not cells:
        return
    table, keys = GAP_DAYS, keys_of(GAP_DAYS)
    postgres = session.get_bind().dialect.name == "postgresql"
    ordered = sorted(cells.items(), key=_lock_order)
    stored: dict[Cell, tuple[int, datetime | None, str]] = {}
    key_cols = tuple_(*(table.c[k] for k in keys))
    for i in range(0, len(ordered), _CHUNK):
        chunk = [key for key, _ in ordered[i : i + _CHUNK]]
        stmt = select(*(table.c[k] for k in keys), table.c.asked, table.c.last_at, table.c.top_hit)
        order = [table.c.level, *(table.c[k] for k in keys if k != "level")]
        stmt = stmt.where(key_cols.in_(chunk)).order_by(*order)
        if postgres:
            stmt = stmt.with_for_update()
        for row in session.execute(stmt):
            stored[_norm_key(tuple(row[: len(keys)]))] = (row.asked, row.last_at, row.top_hit)
    gone: list[Cell] = []
    fewer: list[tuple[Cell, int]] = []
    again: list[tuple[Cell, str]] = []
    for key, (n, last, top, text) in ordered:
        have = stored.get(key)
        if have is None or have[0] < n:
            again.append((key, text))  # not as counted (a repair pending): count it
        elif have[0] == n:
            gone.append(key)
        elif (
            have[1] is not None
            and as_utc(last) < as_utc(have[1])
            and (top < have[2] or key[5] == UNANSWERED)
        ):
            fewer.append((key, n))  # the maxima were held by rows that stay
        else:
            again.append((key, text))
    where = [table.c[k] == bindparam(f"k_{k}") for k in keys]

    def bound(key: Cell) -> dict[str, Any]:
        return {f"k_{k}": v for k, v in zip(keys, key, strict=True)}

    if gone:
        session.execute(delete(table).where(*where), [bound(key) for key in gone])
    if fewer:
        session.execute(
            table.update().where(*where).values(asked=table.c.asked - bindparam("n")),
            [{**bound(key), "n": n} for key, n in fewer],
        )
    for key, text in again:
        _count_again(session, key, text)


def _norm_key(key: Cell) -> Cell:
    day = key[3]
    if isinstance(day, str):
        day = date.fromisoformat(day)
    elif isinstance(day, datetime):
        day = day.date()
    return (*key[:3], day, *key[4:])


def _kind_filter(kind: str) -> ColumnElement[bool]:
    q = question_table().c
    return q.answered.is_(False) if kind == UNANSWERED else q.feedback < 0


def _count_again(session: Session, key: Cell, text: str) -> None:
    """Set one cell to what the question log holds (its region and day: an index range)."""
    province, city, county, day, level, kind, _qhash = key
    q = question_table().c
    start = midnight(day)
    terms = [
        q.created_at >= start,
        q.created_at < start + timedelta(days=1),
        _kind_filter(kind),
        q.question == text,
    ]
    region = Region(province, city, county) if province else None
    if region is not None:
        terms += region.within(q)
    hit = func.max(q.top_hit) if kind == UNHELPFUL else literal("")
    row = session.execute(select(func.count(), func.max(q.created_at), hit).where(*terms)).one()
    table, keys = GAP_DAYS, keys_of(GAP_DAYS)
    session.execute(
        delete(table).where(*(table.c[k] == v for k, v in zip(keys, key, strict=True)))
    )
    if row[0]:
        session.execute(
            table.insert().values(
                **dict(zip(keys, key, strict=True)),
                asked=row[0],
                question=text,
                last_at=row[1],
                top_hit=row[2] or "",
            )
        )


# ---- recount and reads ---------------------------------------------------------------------
def recount(session: Session, day_of: Any) -> Any:
    """A SELECT of every row of rollup_gap_days (keys, then values, in column order) from the
    question log; *day_of* turns a timestamp column into its UTC day in SQL."""
    q = question_table().c
    day = day_of(q.created_at).label("day")
    qhash = func.md5(q.question).label("qhash")
    parts = []
    for kind in (UNANSWERED, UNHELPFUL):
        for level in range(len(LEVELS)):
            region = [
                c if i < level else literal("").label(c.name)
                for i, c in enumerate((q.province, q.city, q.county))
            ]
            parts.append(
                select(
                    *region,
                    day,
                    literal(level).label("level"),
                    literal(kind).label("kind"),
                    qhash,
                    func.count(),
                    func.max(q.question),
                    func.max(q.created_at),
                    func.max(q.top_hit) if kind == UNHELPFUL else literal(""),
                )
                .where(_kind_filter(kind), q.question != "")
                .group_by(*region, day, qhash)
            )
    return union_all(*parts)


def top(
    session: Session, region: Region, days: tuple[date, date], limit: int
) -> list[tuple[str, str, int, datetime, str]]:
    """The *limit* most asked texts of each kind in *region* over *days*: (kind, text,
    times asked, last asked, greatest article offered), most asked first, then the latest,
    then the text (code point order, as Python sorts it)."""
    c = GAP_DAYS.c
    asked = func.sum(c.asked).label("asked")
    last = func.max(c.last_at).label("last")
    text = func.max(c.question).label("text")
    order_text: Any = func.max(c.question)
    if session.get_bind().dialect.name == "postgresql":
        order_text = order_text.collate("C")
    out = []
    for kind in (UNANSWERED, UNHELPFUL):
        stmt = (
            select(text, asked, last, func.max(c.top_hit))
            .where(
                c.level == region.level,
                *_cut_terms(GAP_DAYS, region),
                c.day >= days[0],
                c.day < days[1],
                c.kind == kind,
            )
            .group_by(c.qhash)
            .order_by(asked.desc(), last.desc(), order_text)
            .limit(max(0, limit))
        )
        out += [(kind, t, int(n), lt, hit or "") for t, n, lt, hit in session.execute(stmt)]
    return out


def _cut_terms(table: Table, region: Region) -> list[ColumnElement[bool]]:
    """Every region column of a per-level table: the cut ones are empty."""
    c = table.c
    return [c.province == region.province, c.city == region.city, c.county == region.county]
