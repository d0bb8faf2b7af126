"""Indicators of enterprises and achievements (issue 18), beside store.metrics' own:

- the service acquisition rate separately for enterprises (企业科技服务获取率) and for
  individuals: requesters of that kind with at least one need that reached accepted or later
  / requesters of that kind who posted at least one need (needs posted in the period);
- achievements registered in the region in the period (where their owner is);
- 对接 completed: 对接 requests (needs on an achievement) posted in the period that reached
  resolved or closed, counted where the requester is.

Each figure is one grouped SQL aggregate per report, like store.metrics'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, func, literal, select
from sqlmodel import Session

from store import rollup_reads as reads
from store.achievements import Achievement
from store.needs import Need
from store.rollup_reads import Days
from store.validation import Region

NEEDS: Table = Need.__table__  # type: ignore[attr-defined]
ACHIEVEMENTS: Table = Achievement.__table__  # type: ignore[attr-defined]
TOTAL = "__total__"
KINDS = ("enterprise", "individual")


def _key(columns: Any, level: str | None) -> Any:
    return literal(TOTAL) if level is None else getattr(columns, level)


def _grouped(session: Session, stmt: Any, columns: Any, level: str | None) -> list[Any]:
    if level is not None:
        stmt = stmt.group_by(getattr(columns, level))
    return list(session.execute(stmt))


def enterprise_figures(
    *,
    session: Session,
    region: Region,
    level: str | None,
    since: datetime,
    until: datetime,
    days: Days | None = None,
) -> dict[str, dict[str, int]]:
    """Per child key (or ``TOTAL`` when *level* is None): requesters and served requesters
    of each kind, achievements registered and 对接 completed.

    *days*: the period as whole days the rollups answer for (store.rollup_reads): the needs'
    figures are read there instead of from the needs.

    Keys of each figure dict: ``enterprise_requesters``, ``enterprise_served``,
    ``individual_requesters``, ``individual_served``, ``achievements``, ``dockings_done``.
    """
    n = NEEDS.c
    in_period = [*region.within(n), n.created_at >= since, n.created_at < until]
    out: dict[str, dict[str, int]] = {}

    def figures(k: str) -> dict[str, int]:
        return out.setdefault(
            k,
            {
                "enterprise_requesters": 0,
                "enterprise_served": 0,
                "individual_requesters": 0,
                "individual_served": 0,
                "achievements": 0,
                "dockings_done": 0,
            },
        )

    if days is not None:
        kinds = reads.requesters_by_kind(session, region, level, days)
        docked = reads.dockings(session, region, level, days)
    else:
        kinds, docked = _requesters_by_kind(session, region, level, in_period), {}
    for k, kind, requesters, served in kinds:
        kind = kind if kind in KINDS else "individual"
        row = figures(k)
        row[f"{kind}_requesters"] += int(requesters)
        row[f"{kind}_served"] += int(served or 0)
    a = ACHIEVEMENTS.c
    registered = select(_key(a, level), func.count()).where(
        *region.within(a), a.created_at >= since, a.created_at < until
    )
    for k, count in _grouped(session, registered, a, level):
        figures(k)["achievements"] = int(count)
    if days is None:
        stmt = select(_key(n, level), func.count()).where(
            *in_period, n.achievement_id.isnot(None), n.resolved_at.isnot(None)
        )
        docked = {k: int(count) for k, count in _grouped(session, stmt, n, level)}
    for k, count in docked.items():
        figures(k)["dockings_done"] = count
    return out


def _requesters_by_kind(
    session: Session, region: Region, level: str | None, in_period: list[Any]
) -> list[tuple[str, str, int, int]]:
    """(key, kind, requesters, served requesters) from the needs themselves."""
    n = NEEDS.c
    group = [getattr(n, level)] if level else []
    per = (
        select(
            *(g.label("k") for g in group),
            n.requester_kind.label("kind"),
            func.max(case((n.accepted_at.isnot(None), 1), else_=0)).label("served"),
        )
        .where(*in_period)
        .group_by(*group, n.requester_kind, n.requester_id)
        .subquery()
    )
    c = per.c
    key = c.k if group else literal(TOTAL)
    stmt = select(key, c.kind, func.count(), func.sum(c.served)).group_by(
        *([c.k] if group else []), c.kind
    )
    return [(k, kind, int(r), int(s or 0)) for k, kind, r, s in session.execute(stmt)]
