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

from store.achievements import Achievement
from store.needs import Need
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
    *, session: Session, region: Region, level: str | None, since: datetime, until: datetime
) -> dict[str, dict[str, int]]:
    """Per child key (or ``TOTAL`` when *level* is None): requesters and served requesters
    of each kind, achievements registered and 对接 completed.

    Keys of each figure dict: ``enterprise_requesters``, ``enterprise_served``,
    ``individual_requesters``, ``individual_served``, ``achievements``, ``dockings_done``.
    """
    n = NEEDS.c
    in_period = [*region.within(n), n.created_at >= since, n.created_at < until]
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

    for k, kind, requesters, served in session.execute(stmt):
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
    docked = select(_key(n, level), func.count()).where(
        *in_period, n.achievement_id.isnot(None), n.resolved_at.isnot(None)
    )
    for k, count in _grouped(session, docked, n, level):
        figures(k)["dockings_done"] = int(count)
    return out
