"""Demo enterprises, teams and achievements (issue 18), added by `tianfu demo seed` after the
people, needs and orders of bot.demo: fictional names (all 演示…) from
knowledge/demo/enterprises.json.

Some demo requesters speak for an enterprise (their needs become enterprises' needs), experts
of the same field form teams, achievements are owned by experts, and a resolved need of an
enterprise served by an achievement's owner becomes a completed 对接 of that achievement.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, insert, select, update

from knowledge import PACKAGE_DIR
from store.achievements import Achievement, read_price
from store.enterprises import Enterprise
from store.experts import ExpertProfile
from store.needs import Need
from store.order_tables import Order
from store.teams import Team, TeamMember
from store.users import User

DEMO_FILE = PACKAGE_DIR / "demo" / "enterprises.json"
ENTERPRISE_SHARE = 0.12  # of demo requesters
TEAM_SIZE = 3

USERS: Table = User.__table__  # type: ignore[attr-defined]
EXPERTS: Table = ExpertProfile.__table__  # type: ignore[attr-defined]
NEEDS: Table = Need.__table__  # type: ignore[attr-defined]
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
ENTERPRISES: Table = Enterprise.__table__  # type: ignore[attr-defined]
TEAMS: Table = Team.__table__  # type: ignore[attr-defined]
MEMBERS: Table = TeamMember.__table__  # type: ignore[attr-defined]
ACHIEVEMENTS: Table = Achievement.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class EnterpriseReport:
    enterprises: int = 0
    teams: int = 0
    achievements: int = 0
    dockings: int = 0


def seed_enterprises(
    engine: Engine, channel: str, rng: random.Random, start: datetime, now: datetime
) -> EnterpriseReport:
    """Add the demo enterprises, teams and achievements among the demo people of *channel*."""
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    report = EnterpriseReport()
    with engine.begin() as conn:
        people = conn.execute(
            select(USERS.c.id, USERS.c.city, USERS.c.county, USERS.c.roles).where(
                USERS.c.channel == channel
            )
        ).all()
        requesters = [p for p in people if "expert" not in (p.roles or [])]
        experts = {
            row.user_id: (row.fields, row.city, row.county)
            for row in conn.execute(
                select(EXPERTS.c.user_id, EXPERTS.c.fields, USERS.c.city, USERS.c.county)
                .join(USERS, USERS.c.id == EXPERTS.c.user_id)
                .where(USERS.c.channel == channel)
            )
        }
        chosen = rng.sample(requesters, k=int(len(requesters) * ENTERPRISE_SHARE))
        kinds = data["enterprises"]
        rows = []
        for i, person in enumerate(chosen):
            kind = kinds[i % len(kinds)]
            suffix = f"（{i // len(kinds) + 1}号）" if i >= len(kinds) else ""
            rows.append(
                {
                    "user_id": person.id,
                    "name": f"{kind['name']}{suffix}",
                    "industry": kind["industry"],
                    "size": kind["size"],
                    "contact_name": "演示联系人",
                    "province": "四川省",
                    "city": person.city,
                    "county": person.county,
                    "created_at": start,
                    "updated_at": start,
                }
            )
        if rows:
            conn.execute(insert(ENTERPRISES), rows)
            ids = [r["user_id"] for r in rows]
            for part in range(0, len(ids), 900):
                conn.execute(
                    update(NEEDS)
                    .where(NEEDS.c.requester_id.in_(ids[part : part + 900]))
                    .values(requester_kind="enterprise")
                )
        report.enterprises = len(rows)
        report.teams = _teams(conn, data["teams"], experts, rng, start)
        report.achievements, report.dockings = _achievements(
            conn, data["achievements"], experts, ids if rows else [], rng, start, now
        )
    return report


def _teams(
    conn: Any,
    teams: list[dict[str, Any]],
    experts: dict[int, tuple[list[str], str, str]],
    rng: random.Random,
    start: datetime,
) -> int:
    made = 0
    taken: set[int] = set()
    for i, spec in enumerate(teams):
        pool = [
            uid
            for uid, (fields, _, _) in experts.items()
            if uid not in taken and set(fields) & set(spec["fields"])
        ] or [uid for uid in experts if uid not in taken]
        if not pool:
            break
        members = rng.sample(pool, k=min(TEAM_SIZE, len(pool)))
        taken.update(members)
        lead_city = experts[members[0]][1]
        team_id = conn.execute(
            insert(TEAMS).returning(TEAMS.c.id),
            {
                "name": spec["name"],
                "lead_id": members[0],
                "fields": spec["fields"],
                "crops": [],
                "service_regions": [{"province": "四川省", "city": lead_city, "county": ""}],
                "rating_count": 0,
                "rating_sum": 0,
                "join_code": f"{900_000 + i:06d}",
                "created_at": start,
                "updated_at": start,
            },
        ).scalar_one()
        conn.execute(
            insert(MEMBERS),
            [{"team_id": team_id, "user_id": m, "joined_at": start} for m in members],
        )
        made += 1
    return made


def _achievements(
    conn: Any,
    items: list[dict[str, Any]],
    experts: dict[int, tuple[list[str], str, str]],
    enterprise_ids: list[int],
    rng: random.Random,
    start: datetime,
    now: datetime,
) -> tuple[int, int]:
    """Each achievement gets an owner; where an enterprise's resolved need was served by an
    expert, that expert owns one and the need becomes its completed 对接."""
    served: list[tuple[int, int]] = []  # (need id, expert id)
    if enterprise_ids:
        served = [
            (row.id, row.expert_id)
            for row in conn.execute(
                select(NEEDS.c.id, ORDERS.c.expert_id)
                .join(ORDERS, ORDERS.c.need_id == NEEDS.c.id)
                .where(
                    NEEDS.c.requester_kind == "enterprise",
                    NEEDS.c.resolved_at.isnot(None),
                    ORDERS.c.expert_id.isnot(None),
                )
                .order_by(NEEDS.c.id)
                .limit(len(items))
            )
        ]
    owners = list(experts)
    docked = 0
    span = (now - start).total_seconds()
    for i, item in enumerate(items):
        need = served[i] if i < len(served) and i % 2 == 0 else None
        owner = need[1] if need else rng.choice(owners)
        _, city, county = experts.get(owner, ([], "", ""))
        low, high = read_price(item["price"]) if item["price"] else (None, None)
        created = start + timedelta(seconds=span * rng.random() * 0.5)
        achievement_id = conn.execute(
            insert(ACHIEVEMENTS).returning(ACHIEVEMENTS.c.id),
            {
                "owner_id": owner,
                "team_id": None,
                "title": item["title"],
                "kind": item["kind"],
                "fields": item["fields"],
                "crops": item["crops"],
                "maturity": item["maturity"],
                "applied_in": item["applied_in"],
                "transfer_mode": item["transfer_mode"],
                "price_low": low,
                "price_high": high,
                "description": "演示数据：虚构的科技成果。",
                "province": "四川省",
                "city": city,
                "county": county,
                "withdrawn": False,
                "created_at": created,
                "updated_at": created,
            },
        ).scalar_one()
        if need is not None:
            conn.execute(
                update(NEEDS)
                .where(NEEDS.c.id == need[0])
                .values(
                    achievement_id=achievement_id,
                    text=f"希望对接成果《{item['title']}》（演示数据）",
                )
            )
            docked += 1
    return len(items), docked
