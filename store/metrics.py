"""Regional indicators: how well science and technology services reach people.

Definitions (DESIGN.md, "Regional indicators"), for a region and a period of need posting:

- service acquisition rate = requesters with at least one need that reached accepted or later
  / requesters who posted at least one need;
- expert supply rate = experts living in the region who accepted at least one order in the
  period / experts registered in the region;
- median time to accept, resolution rate (needs resolved / needs posted), average rating,
  unanswered-question rate (questions the knowledge base could not answer / questions asked),
  the top unmet problem categories and crops (needs that never reached an expert) and the
  unanswered questions themselves (the knowledge gap).

Every figure is one SQL aggregate grouped by the child region (city of a province, county of
a city), so a view costs a handful of queries whatever the number of rows, on SQLite and on
PostgreSQL alike. Rates are ``None`` when their denominator is zero: "no data", not 0 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Table, case, cast, extract, func, literal, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from store.clock import utcnow
from store.experts import ExpertProfile
from store.needs import Need
from store.orders import Order, OrderStatus
from store.questions import QuestionLog
from store.users import User
from store.validation import Region, gazetteer

# The tables as SQLAlchemy Core objects (the queries below are Core aggregates, not ORM loads).
NEEDS: Table = Need.__table__  # type: ignore[attr-defined]
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]
EXPERTS: Table = ExpertProfile.__table__  # type: ignore[attr-defined]
QUESTIONS: Table = QuestionLog.__table__  # type: ignore[attr-defined]
UNMET = (OrderStatus.POSTED.value, OrderStatus.MATCHED.value, OrderStatus.EXPIRED.value)
WEEK = 7 * 24 * 3600
TOTAL = "__total__"
LEVELS = ("province", "city", "county")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(slots=True)
class Indicators:
    """The figures of one region over one period; every count is zero for an empty region."""

    region: Region
    requesters: int = 0
    served_requesters: int = 0
    needs: int = 0
    accepted_needs: int = 0
    resolved_needs: int = 0
    unmet_needs: int = 0
    experts: int = 0
    active_experts: int = 0
    median_accept_seconds: float | None = None
    rating_avg: float | None = None
    rating_count: int = 0
    questions: int = 0
    unanswered: int = 0

    @property
    def acquisition_rate(self) -> float | None:
        return _ratio(self.served_requesters, self.requesters)

    @property
    def supply_rate(self) -> float | None:
        return _ratio(self.active_experts, self.experts)

    @property
    def resolution_rate(self) -> float | None:
        return _ratio(self.resolved_needs, self.needs)

    @property
    def unanswered_rate(self) -> float | None:
        return _ratio(self.unanswered, self.questions)

    @property
    def has_data(self) -> bool:
        return bool(self.needs or self.experts or self.questions)


@dataclass(frozen=True, slots=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class GapQuestion:
    question: str
    asked: int
    last_asked: datetime


@dataclass(frozen=True, slots=True)
class WeekPoint:
    start: datetime
    needs: int
    accepted: int
    questions: int


@dataclass(slots=True)
class RegionReport:
    """A region's indicators, its child regions side by side, and what remains unmet."""

    region: Region
    since: datetime
    until: datetime
    total: Indicators
    children: list[Indicators] = field(default_factory=list)
    unmet_categories: list[Count] = field(default_factory=list)
    unmet_crops: list[Count] = field(default_factory=list)
    gaps: list[GapQuestion] = field(default_factory=list)
    weekly: list[WeekPoint] = field(default_factory=list)


def child_regions(region: Region) -> list[Region]:
    """The regions one level below *region*, in the gazetteer's order.

    A municipality (重庆市) is its own single city, so its children are its districts.
    """
    gaz = gazetteer()
    if not region:
        return [Region(p) for p in gaz]
    if region.county:
        return []
    if region.city:
        return [Region(region.province, region.city, c) for c in gaz[region.province][region.city]]
    cities = gaz[region.province]
    if list(cities) == [region.province]:
        only = region.province
        return [Region(only, only, c) for c in cities[only]]
    return [Region(region.province, c) for c in cities]


def _child_level(region: Region, children: list[Region]) -> str | None:
    if not children:
        return None
    first = children[0]
    return "county" if first.county else "city" if first.city else "province"


def _scope(columns: Any, region: Region) -> list[ColumnElement[bool]]:
    """WHERE terms putting rows with province/city/county *columns* inside *region*."""
    terms = []
    for level in LEVELS:
        value = getattr(region, level)
        if value:
            terms.append(getattr(columns, level) == value)
    return terms


def _epoch(dialect: str, column: Any) -> ColumnElement[Any]:
    """Seconds since the epoch of a timestamp column, per backend."""
    if dialect == "sqlite":
        return func.julianday(column) * 86400.0
    return extract("epoch", column)


class _Query:
    """The grouped queries of one report: scope, period and child key set once."""

    def __init__(
        self, session: Session, region: Region, level: str | None, since: datetime, until: datetime
    ) -> None:
        self.session = session
        self.region = region
        self.level = level
        self.since, self.until = since, until
        self.dialect = session.get_bind().dialect.name

    def key(self, columns: Any) -> ColumnElement[Any]:
        if self.level is None:
            return literal(TOTAL)
        return getattr(columns, self.level)

    def rows(self, stmt: Any, columns: Any) -> dict[str, Any]:
        """Run *stmt* (first column the child key) grouped by the child key when there is one."""
        if self.level is not None:
            stmt = stmt.group_by(getattr(columns, self.level))
        return {row[0]: row for row in self.session.execute(stmt)}

    def period(self, n: Any) -> list[ColumnElement[bool]]:
        return [n.created_at >= self.since, n.created_at < self.until]

    def needs(self) -> dict[str, Any]:
        """Per key: requesters, served requesters, needs, accepted, resolved, unmet, rating
        sum and count. Grouping by requester first lets the database count distinct
        requesters while streaming an index in (region, requester) order."""
        n = NEEDS.c
        group = [getattr(n, self.level)] if self.level else []
        keys = [g.label("k") for g in group]
        per = (
            select(
                *keys,
                func.max(case((n.accepted_at.isnot(None), 1), else_=0)).label("served"),
                func.count().label("needs"),
                func.count(n.accepted_at).label("accepted"),
                func.count(n.resolved_at).label("resolved"),
                func.sum(case((n.status.in_(UNMET), 1), else_=0)).label("unmet"),
                func.sum(n.rating).label("rating_sum"),
                func.count(n.rating).label("rating_count"),
            )
            .where(*_scope(n, self.region), *self.period(n))
            .group_by(*group, n.requester_id)
            .subquery()
        )
        c = per.c
        stmt = select(
            c.k if keys else literal(TOTAL),
            func.count(),
            *(
                func.sum(col)
                for col in (
                    c.served,
                    c.needs,
                    c.accepted,
                    c.resolved,
                    c.unmet,
                    c.rating_sum,
                    c.rating_count,
                )
            ),
        )
        if keys:
            stmt = stmt.group_by(c.k)
        return {row[0]: row for row in self.session.execute(stmt)}

    def median_accept(self, accepted: dict[str, int]) -> dict[str, float]:
        """The median time to accept per key: a walk to the middle of an index ordered by
        time to accept, *accepted* being the number of accepted needs under each key."""
        n = NEEDS.c
        out = {}
        for key, count in accepted.items():
            if not count:
                continue
            region = (
                self.region if self.level is None else replace(self.region, **{self.level: key})
            )
            stmt = (
                select(n.accept_seconds)
                .where(*_scope(n, region), n.accept_seconds.isnot(None), *self.period(n))
                .order_by(n.accept_seconds)
                .offset((count - 1) // 2)
                .limit(2 - count % 2)
            )
            middle = list(self.session.scalars(stmt))
            if middle:
                out[key] = sum(middle) / len(middle)
        return out

    def experts(self) -> dict[str, Any]:
        u = USERS.c
        e = EXPERTS.c
        stmt = (
            select(self.key(u), func.count())
            .select_from(EXPERTS.join(USERS, u.id == e.user_id))
            .where(*_scope(u, self.region), e.created_at < self.until)
        )
        return self.rows(stmt, u)

    def active_experts(self) -> dict[str, Any]:
        u, e, o = USERS.c, EXPERTS.c, ORDERS.c
        # one index probe per expert (orders by expert and accept time), not a scan of orders
        took = (
            select(literal(1))
            .where(
                o.expert_id == u.id,
                o.accepted_at >= self.since,
                o.accepted_at < self.until,
            )
            .exists()
        )
        stmt = (
            select(self.key(u), func.count())
            .select_from(EXPERTS.join(USERS, u.id == e.user_id))
            .where(*_scope(u, self.region), took)
        )
        return self.rows(stmt, u)

    def questions(self) -> dict[str, Any]:
        q = QUESTIONS.c
        stmt = select(
            self.key(q),
            func.count(),
            func.sum(case((q.answered.is_(False), 1), else_=0)),
        ).where(*_scope(q, self.region), q.created_at >= self.since, q.created_at < self.until)
        return self.rows(stmt, q)


def _indicators(region: Region, key: str, parts: dict[str, dict[str, Any]]) -> Indicators:
    ind = Indicators(region)
    if row := parts["needs"].get(key):
        ind.requesters, ind.served_requesters, ind.needs = row[1], int(row[2] or 0), int(row[3] or 0)
        ind.accepted_needs, ind.resolved_needs, ind.unmet_needs = (int(v or 0) for v in row[4:7])
        if row[8]:
            ind.rating_count = int(row[8])
            ind.rating_avg = float(row[7]) / ind.rating_count
    ind.median_accept_seconds = parts["median"].get(key)
    if row := parts["experts"].get(key):
        ind.experts = row[1]
    if row := parts["active"].get(key):
        ind.active_experts = row[1]
    if row := parts["questions"].get(key):
        ind.questions, ind.unanswered = row[1], int(row[2] or 0)
    return ind


def _collect(query: _Query) -> dict[str, dict[str, Any]]:
    needs = query.needs()
    return {
        "needs": needs,
        "median": query.median_accept({k: int(row[4] or 0) for k, row in needs.items()}),
        "experts": query.experts(),
        "active": query.active_experts(),
        "questions": query.questions(),
    }


def indicators(
    *, session: Session, region: Region, since: datetime, until: datetime
) -> Indicators:
    """The indicators of *region* for needs and questions from *since* up to *until*."""
    query = _Query(session, region, None, since, until)
    return _indicators(region, TOTAL, _collect(query))


def child_indicators(
    *, session: Session, region: Region, since: datetime, until: datetime
) -> list[Indicators]:
    """The indicators of every child region of *region*, zeros for those without activity."""
    children = child_regions(region)
    level = _child_level(region, children)
    if level is None:
        return []
    parts = _collect(_Query(session, region, level, since, until))
    return [_indicators(child, getattr(child, level), parts) for child in children]


def _top(
    session: Session, column: Any, region: Region, since: datetime, until: datetime, limit: int
) -> list[Count]:
    n = NEEDS.c
    stmt = (
        select(column, func.count().label("c"))
        .where(
            *_scope(n, region),
            n.created_at >= since,
            n.created_at < until,
            n.status.in_(UNMET),
            column != "",
        )
        .group_by(column)
        .order_by(func.count().desc(), column)
        .limit(limit)
    )
    return [Count(label, count) for label, count in session.execute(stmt)]


def unmet_top(
    *, session: Session, region: Region, since: datetime, until: datetime, limit: int = 5
) -> tuple[list[Count], list[Count]]:
    """The problem categories and crops of needs that never reached an expert, most first."""
    n = NEEDS.c
    return (
        _top(session, n.category, region, since, until, limit),
        _top(session, n.crop, region, since, until, limit),
    )


def unanswered_questions(
    *, session: Session, region: Region, since: datetime, until: datetime, limit: int = 20
) -> list[GapQuestion]:
    """Questions the knowledge base could not answer, most often asked first."""
    q = QUESTIONS.c
    stmt = (
        select(q.question, func.count().label("c"), func.max(q.created_at))
        .where(
            *_scope(q, region),
            q.created_at >= since,
            q.created_at < until,
            q.answered.is_(False),
        )
        .group_by(q.question)
        .order_by(func.count().desc(), func.max(q.created_at).desc())
        .limit(limit)
    )
    return [GapQuestion(text, count, last) for text, count, last in session.execute(stmt)]


def _week_index(dialect: str, column: Any, start: datetime) -> ColumnElement[Any]:
    seconds = _epoch(dialect, column) - _epoch(dialect, literal(start.replace(tzinfo=None)))
    if dialect == "sqlite":
        return cast(seconds / WEEK, Integer)  # truncates; rows are never before start
    return cast(func.floor(seconds / WEEK), Integer)


def weekly_trend(
    *, session: Session, region: Region, since: datetime, until: datetime
) -> list[WeekPoint]:
    """Needs posted, needs accepted and questions asked per week from *since*."""
    dialect = session.get_bind().dialect.name
    n = NEEDS.c
    q = QUESTIONS.c
    weeks = max(1, -(-int((until - since).total_seconds()) // WEEK))
    needs_week = _week_index(dialect, n.created_at, since)
    stmt = (
        select(needs_week, func.count(), func.count(n.accepted_at))
        .where(*_scope(n, region), n.created_at >= since, n.created_at < until)
        .group_by(needs_week)
    )
    needs = {int(w): (c, a) for w, c, a in session.execute(stmt)}
    q_week = _week_index(dialect, q.created_at, since)
    stmt = (
        select(q_week, func.count())
        .where(*_scope(q, region), q.created_at >= since, q.created_at < until)
        .group_by(q_week)
    )
    questions = {int(w): c for w, c in session.execute(stmt)}
    return [
        WeekPoint(
            since + timedelta(weeks=w),
            needs.get(w, (0, 0))[0],
            needs.get(w, (0, 0))[1],
            questions.get(w, 0),
        )
        for w in range(weeks)
    ]


def region_report(
    *,
    session: Session,
    region: Region,
    since: datetime | None = None,
    until: datetime | None = None,
    weeks: int = 12,
) -> RegionReport:
    """Everything the dashboard and /stats show for *region*.

    Args:
        since: start of the period (default: *weeks* weeks before *until*).
        until: end of the period, exclusive (default: now).
    """
    until = until or utcnow()
    since = since or until - timedelta(weeks=weeks)
    if since >= until:
        msg = f"period start {since.isoformat()} is not before its end {until.isoformat()}"
        raise ValueError(msg)
    categories, crops = unmet_top(session=session, region=region, since=since, until=until)
    return RegionReport(
        region=region,
        since=since,
        until=until,
        total=indicators(session=session, region=region, since=since, until=until),
        children=child_indicators(session=session, region=region, since=since, until=until),
        unmet_categories=categories,
        unmet_crops=crops,
        gaps=unanswered_questions(session=session, region=region, since=since, until=until),
        weekly=weekly_trend(session=session, region=region, since=since, until=until),
    )
