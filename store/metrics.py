"""Regional indicators: how well science and technology services reach people.

Definitions (DESIGN.md, "Regional indicators"), for a region and a period of need posting:

- service acquisition rate = requesters with at least one need that reached accepted or later
  / requesters who posted at least one need;
- expert supply rate = experts living in the region who accepted at least one order in the
  period / experts registered in the region;
- median time to accept (each wait truncated to whole minutes: exact to the minute),
  resolution rate (needs resolved / needs posted), average rating,
  unanswered-question rate (questions the knowledge base could not answer / questions asked),
  the top unmet problem categories and crops (needs that never reached an expert) and the
  unanswered questions themselves (the knowledge gap).

Every figure is one SQL aggregate grouped by the child region (city of a province, county of
a city), so a view costs a handful of queries whatever the number of rows, on SQLite and on
PostgreSQL alike. Rates are ``None`` when their denominator is zero: "no data", not 0 %.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, case, func, literal, select
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from store import rollup_reads as reads
from store.clock import utcnow
from store.ent_metrics import enterprise_figures
from store.experts import ExpertProfile
from store.feedback import GapRow, knowledge_gaps
from store.order_tables import Order
from store.rollup_reads import TOTAL, Days
from store.rollup_tables import MINUTE, whole_days
from store.trends import NEEDS, QUESTIONS, UNMET, Count, WeekPoint, unmet_top, weekly_trend
from store.users import User
from store.validation import Region, child_level, child_regions

# The tables as SQLAlchemy Core objects (the queries below are Core aggregates, not ORM loads).
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]
EXPERTS: Table = ExpertProfile.__table__  # type: ignore[attr-defined]
PARALLEL = 2  # connections a report uses at once (this is sized for a 2-core machine)
GAP_ROWS = 100  # question wordings read for a report's knowledge gap (dialogs.gaps merges them)


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
    # issue 18 (store.ent_metrics): acquisition by requester kind, achievements and 对接
    enterprise_requesters: int = 0
    enterprise_served: int = 0
    individual_requesters: int = 0
    individual_served: int = 0
    achievements: int = 0
    dockings_done: int = 0

    @property
    def acquisition_rate(self) -> float | None:
        return _ratio(self.served_requesters, self.requesters)

    @property
    def enterprise_acquisition_rate(self) -> float | None:
        return _ratio(self.enterprise_served, self.enterprise_requesters)

    @property
    def individual_acquisition_rate(self) -> float | None:
        return _ratio(self.individual_served, self.individual_requesters)

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
        return bool(self.needs or self.experts or self.questions or self.achievements)


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
    gaps: list[GapRow] = field(default_factory=list)
    weekly: list[WeekPoint] = field(default_factory=list)


class _Query:
    """The grouped queries of one report: scope, period and child key set once.

    *days*: the period as whole days the rollups answer for (store.rollup_reads): the needs'
    and questions' figures are read there instead of from the needs and questions.
    """

    def __init__(
        self,
        session: Session,
        region: Region,
        level: str | None,
        since: datetime,
        until: datetime,
        days: Days | None = None,
    ) -> None:
        self.session = session
        self.region = region
        self.level = level
        self.since, self.until = since, until
        self.days = days

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
        if self.days is not None:
            return reads.needs_rows(self.session, self.region, self.level, self.days)
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
            .where(*self.region.within(n), *self.period(n))
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

    def whole(self) -> tuple[int, int, float | None]:
        """Distinct requesters in the whole scope, how many were served, and the median time
        to accept (the figures that do not add up from child regions)."""
        if self.days is not None:
            people = reads.requesters(self.session, self.region, None, self.days)
            asked, served = people.get(TOTAL, (0, 0))
            median = reads.medians(self.session, self.region, None, self.days).get(TOTAL)
            return asked, served, median
        n = NEEDS.c
        per = (
            select(
                func.max(case((n.accepted_at.isnot(None), 1), else_=0)).label("served"),
                func.count(n.accepted_at).label("accepted"),
            )
            .where(*self.region.within(n), *self.period(n))
            .group_by(n.requester_id)
            .subquery()
        )
        row = self.session.execute(
            select(func.count(), func.sum(per.c.served), func.sum(per.c.accepted))
        ).one()
        median = self.median_accept({TOTAL: int(row[2] or 0)}).get(TOTAL)
        return int(row[0]), int(row[1] or 0), median

    def median_accept(self, accepted: dict[str, int]) -> dict[str, float]:
        """The median time to accept per key: a walk to the middle of an index ordered by
        time to accept, *accepted* being the number of accepted needs under each key."""
        if self.days is not None:
            return reads.medians(self.session, self.region, self.level, self.days)
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
                .where(*region.within(n), n.accept_seconds.isnot(None), *self.period(n))
                .order_by(n.accept_seconds)
                .offset((count - 1) // 2)
                .limit(2 - count % 2)
            )
            # truncated to whole minutes, as the rollups keep them (monotone: same ranks)
            middle = [v // MINUTE * MINUTE for v in self.session.scalars(stmt)]
            if middle:
                out[key] = sum(middle) / len(middle)
        return out

    def experts(self) -> dict[str, Any]:
        if self.days is not None:
            return reads.experts(self.session, self.region, self.level, self.days)
        u = USERS.c
        e = EXPERTS.c
        stmt = (
            select(self.key(u), func.count())
            .select_from(EXPERTS.join(USERS, u.id == e.user_id))
            .where(*self.region.within(u), e.created_at < self.until)
        )
        return self.rows(stmt, u)

    def active_experts(self) -> dict[str, Any]:
        if self.days is not None:
            return reads.active_experts(self.session, self.region, self.level, self.days)
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
            .where(*self.region.within(u), took)
        )
        return self.rows(stmt, u)

    def questions(self) -> dict[str, Any]:
        if self.days is not None:
            return reads.questions_rows(self.session, self.region, self.level, self.days)
        q = QUESTIONS.c
        stmt = select(
            self.key(q),
            func.count(),
            func.sum(case((q.answered.is_(False), 1), else_=0)),
        ).where(*self.region.within(q), q.created_at >= self.since, q.created_at < self.until)
        return self.rows(stmt, q)


def _indicators(region: Region, key: str, parts: dict[str, dict[str, Any]]) -> Indicators:
    ind = Indicators(region)
    if row := parts["needs"].get(key):
        ind.requesters, ind.served_requesters, ind.needs = (
            row[1],
            int(row[2] or 0),
            int(row[3] or 0),
        )
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
    *,
    session: Session,
    region: Region,
    since: datetime,
    until: datetime,
    rollups: bool = True,
) -> Indicators:
    """The indicators of *region* for needs and questions from *since* up to *until*
    (*rollups* False: from the needs and questions themselves, whatever the period)."""
    days = reads.usable_days(session, region, since, until) if rollups else None
    query = _Query(session, region, None, since, until, days)
    ind = _indicators(region, TOTAL, _collect(query))
    whole = enterprise_figures(
        session=session, region=region, level=None, since=since, until=until, days=days
    )
    _fill_enterprise_figures(whole, {}, None, ind, [])
    return ind


def _summed(
    region: Region, parts: dict[str, dict[str, Any]], whole: tuple[int, int, float | None]
) -> Indicators:
    """The region's own indicators from its children's rows (every key, "" included) where a
    figure adds up, and from *whole* (see `_Query.whole`) where it does not."""
    total = Indicators(region)
    rating_sum = 0.0
    for key in parts["needs"]:
        part = _indicators(region, key, parts)
        total.needs += part.needs
        total.accepted_needs += part.accepted_needs
        total.resolved_needs += part.resolved_needs
        total.unmet_needs += part.unmet_needs
        total.rating_count += part.rating_count
        rating_sum += (part.rating_avg or 0) * part.rating_count
    total.rating_avg = rating_sum / total.rating_count if total.rating_count else None
    total.experts = sum(row[1] for row in parts["experts"].values())
    total.active_experts = sum(row[1] for row in parts["active"].values())
    for row in parts["questions"].values():
        total.questions += row[1]
        total.unanswered += int(row[2] or 0)
    total.requesters, total.served_requesters, total.median_accept_seconds = whole
    return total


def region_report(
    *,
    session: Session,
    region: Region,
    since: datetime | None = None,
    until: datetime | None = None,
    weeks: int = 12,
    rollups: bool = True,
) -> RegionReport:
    """Everything the dashboard and /stats show for *region*.

    A period of whole UTC days (the default, and any period from a date) is read from the
    indicator rollups (store.rollups); any other period from the needs and questions
    themselves. Both give the same figures.

    Args:
        since: start of the period (default: the midnight UTC *weeks* weeks before the one
            ending *until*'s day).
        until: end of the period, exclusive (default: now).
        rollups: False reads the needs and questions themselves whatever the period.
    """
    until = until or utcnow()
    # a midnight, *weeks* weeks before the end of today (a whole-day period: the rollups)
    since = since or whole_days(until=until) - timedelta(weeks=weeks)
    if since >= until:
        msg = f"period start {since.isoformat()} is not before its end {until.isoformat()}"
        raise ValueError(msg)
    children = child_regions(region)
    level = child_level(children)
    days = reads.usable_days(session, region, since, until) if rollups else None
    # independent queries; the longest first, so that two connections finish together: the
    # knowledge gap (its votes still read from article_feedback), then the rollups
    tasks: dict[str, Callable[[Session], Any]] = {
        "gaps": lambda s: knowledge_gaps(
            session=s, since=since, until=until, region=region, limit=GAP_ROWS, days=days
        )
    }
    if level is None:
        tasks["total"] = lambda s: _indicators(
            region, TOTAL, _collect(_Query(s, region, None, since, until, days))
        )
    else:
        tasks["parts"] = lambda s: _collect(_Query(s, region, level, since, until, days))
        tasks["whole"] = lambda s: _Query(s, region, None, since, until, days).whole()
    if days is not None:
        tasks["unmet"] = lambda s: reads.unmet_top(s, region, days)
        tasks["weekly"] = lambda s: reads.weekly_trend(s, region, since, until, days)
    else:
        tasks["unmet"] = lambda s: unmet_top(session=s, region=region, since=since, until=until)
        tasks["weekly"] = lambda s: weekly_trend(
            session=s, region=region, since=since, until=until
        )
    if level is not None:  # issue 18: enterprises and achievements (indicators() has them)
        tasks["enterprise"] = lambda s: enterprise_figures(
            session=s, region=region, level=None, since=since, until=until, days=days
        )
        tasks["enterprise_parts"] = lambda s: enterprise_figures(
            session=s, region=region, level=level, since=since, until=until, days=days
        )
    done = _run_all(session, tasks)
    if level is None:
        total, kids = done["total"], []
    else:
        parts = done["parts"]
        kids = [_indicators(child, getattr(child, level), parts) for child in children]
        total = _summed(region, parts, done["whole"])
    categories, crops = done["unmet"]
    if level is not None:
        _fill_enterprise_figures(done["enterprise"], done["enterprise_parts"], level, total, kids)
    return RegionReport(
        region=region,
        since=since,
        until=until,
        total=total,
        children=kids,
        unmet_categories=categories,
        unmet_crops=crops,
        gaps=done["gaps"],
        weekly=done["weekly"],
    )


def _fill_enterprise_figures(
    whole: dict[str, dict[str, int]],
    rows: dict[str, dict[str, int]],
    level: str | None,
    total: Indicators,
    children: list[Indicators],
) -> None:
    """Set the issue-18 figures from `enterprise_figures`' ungrouped (*whole*: distinct
    requesters do not add up from children) and grouped (*rows*) passes."""
    for name, value in whole.get(TOTAL, {}).items():
        setattr(total, name, value)
    if level is None:
        return
    for child in children:
        for name, value in rows.get(getattr(child.region, level), {}).items():
            setattr(child, name, value)


def _run_all(session: Session, tasks: dict[str, Callable[[Session], Any]]) -> dict[str, Any]:
    """Run *tasks* on PARALLEL connections of the session's engine, each in its own session
    (SQLite and psycopg release the GIL while a query runs); in order on *session* itself
    when the engine has a single connection (an in-memory SQLite database)."""
    engine = session.get_bind()
    if not isinstance(engine, Engine) or isinstance(engine.pool, StaticPool):
        return {name: task(session) for name, task in tasks.items()}

    def run(task: Callable[[Session], Any]) -> Any:
        with Session(engine) as own:
            return task(own)

    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="metrics") as pool:
        futures = {name: pool.submit(run, task) for name, task in tasks.items()}
        return {name: future.result() for name, future in futures.items()}
