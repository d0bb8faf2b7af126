"""Synthetic activity for the dashboard, `/stats` and the indicator benchmark.

Every person is on the channel ``demo`` (never messaged), is named "演示…" and has a phone
number from the fictional block 199-0000-xxxx. Needs, orders, events and ratings are written
consistently with the order lifecycle (an accepted order has its expert, accept time and
events), with bulk inserts so that a million needs take minutes, not hours.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, func, insert, select, text
from sqlmodel import Session

from bot.demo_ent import seed_enterprises
from store.clock import utcnow
from store.experts import ExpertProfile
from store.needs import Need
from store.order_tables import Order, OrderEvent, Rating
from store.questions import QuestionLog
from store.rollup_check import rebuild
from store.users import Role, User
from store.validation import gazetteer

log = logging.getLogger(__name__)

CHANNEL = "demo"
PROVINCE = "四川省"
BATCH = 20_000

USERS: Table = User.__table__  # type: ignore[attr-defined]
EXPERTS: Table = ExpertProfile.__table__  # type: ignore[attr-defined]
NEEDS: Table = Need.__table__  # type: ignore[attr-defined]
ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
EVENTS: Table = OrderEvent.__table__  # type: ignore[attr-defined]
RATINGS: Table = Rating.__table__  # type: ignore[attr-defined]
QUESTIONS: Table = QuestionLog.__table__  # type: ignore[attr-defined]

# Rough relative weight of activity per city (larger farming populations post more).
CITY_WEIGHT = {"成都市": 6, "南充市": 4, "达州市": 4, "绵阳市": 3, "宜宾市": 3, "泸州市": 3}

# (field, category, crops, typical problem) - the kinds of work a need can be about.
TRADES: list[tuple[str, str, list[str], str]] = [
    ("植物保护", "disease", ["水稻", "柑橘", "猕猴桃", "茶", "辣椒"], "叶片出现病斑，蔓延较快"),
    ("植物保护", "pest", ["柑橘", "玉米", "李", "蔬菜"], "虫子多，叶子被啃得厉害"),
    ("土壤肥料", "soil", ["李", "柑橘", "茶", "水稻"], "土壤板结酸化，长势差"),
    ("果树栽培", "cultivation", ["李", "柑橘", "猕猴桃", "桃"], "挂果少，想请人指导修剪"),
    ("蔬菜栽培", "cultivation", ["辣椒", "番茄", "莴笋"], "大棚里苗长不好"),
    ("畜牧兽医", "livestock", ["猪", "牛", "鸡", "羊"], "牲口不吃食，精神差"),
    ("水产养殖", "livestock", ["鱼", "小龙虾"], "塘里鱼浮头，死了一些"),
    ("农产品加工", "processing", ["茶", "花椒", "猕猴桃"], "想改进烘干和储藏"),
]
ANSWERED = [
    "稻瘟病怎么防治",
    "柑橘黄龙病有什么症状",
    "李子流胶是什么原因",
    "猪瘟疫苗多久打一次",
    "地震时在屋里怎么躲",
    "发芽的土豆能吃吗",
    "茶园什么时候修剪",
    "辣椒叶子发黄怎么办",
]
UNANSWERED = [
    "无人机飞防作业要不要备案",
    "魔芋软腐病用什么药效果好",
    "青花椒采摘机械哪里能买",
    "冷水鱼养殖要办什么证",
    "稻渔综合种养补贴怎么申请",
    "羊肚菌大棚温度控制多少合适",
]


@dataclass(frozen=True, slots=True)
class Size:
    experts: int
    requesters: int
    needs: int
    questions: int
    weeks: int = 12


SIZES = {
    "small": Size(experts=420, requesters=2500, needs=4000, questions=2500),
    "large": Size(experts=4000, requesters=30_000, needs=60_000, questions=30_000),
}


class DemoRefused(RuntimeError):
    """The database holds real people (or earlier demo data); nothing was written."""


@dataclass(slots=True)
class SeedReport:
    experts: int = 0
    requesters: int = 0
    needs: int = 0
    orders_accepted: int = 0
    questions: int = 0
    seconds: float = 0.0
    # issue 18
    enterprises: int = 0
    teams: int = 0
    achievements: int = 0
    dockings: int = 0


@dataclass(slots=True)
class _Ids:
    """Explicit primary keys, so child rows can point at parents without reading back."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: Table, engine: Engine) -> int:
        if table.name not in self.next:
            with engine.connect() as conn:
                self.next[table.name] = (conn.scalar(select(func.max(table.c.id))) or 0) + 1
        value = self.next[table.name]
        self.next[table.name] = value + 1
        return value


def _places(rng: random.Random) -> tuple[list[tuple[str, str]], list[float]]:
    counties = []
    weights = []
    for city, names in gazetteer()[PROVINCE].items():
        for county in sorted(names):
            counties.append((city, county))
            weights.append(CITY_WEIGHT.get(city, 1.5) * rng.uniform(0.5, 1.5))
    return counties, weights


def _phone(n: int) -> str:
    return f"1990000{n % 10_000:04d}"


class _Writer:
    """Buffered bulk inserts per table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.tables: dict[str, Table] = {}

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self.tables[table.name] = table
        buf = self.rows[table.name]
        buf.append(row)
        if len(buf) >= BATCH:
            self.flush()

    def flush(self) -> None:
        # parents before children, so foreign keys hold at every commit
        order = [USERS, EXPERTS, NEEDS, ORDERS, EVENTS, RATINGS, QUESTIONS]
        with self.engine.begin() as conn:
            for table in order:
                buf = self.rows.get(table.name)
                if buf:
                    conn.execute(insert(table), buf)
                    buf.clear()


def existing_people(engine: Engine) -> tuple[int, int]:
    """(real users, demo users) already in the database."""
    with engine.connect() as conn:
        real = conn.scalar(select(func.count()).where(USERS.c.channel != CHANNEL)) or 0
        demo = conn.scalar(select(func.count()).where(USERS.c.channel == CHANNEL)) or 0
    return int(real), int(demo)


def seed(
    engine: Engine,
    size: Size,
    *,
    force: bool = False,
    now: datetime | None = None,
    seed_value: int = 20260301,
    events: bool = True,
) -> SeedReport:
    """Fill the database with synthetic Sichuan activity over ``size.weeks`` weeks.

    Raises:
        DemoRefused: real users exist (unless *force*) or demo data is already there.
    """
    import time

    started = time.perf_counter()
    real, demo = existing_people(engine)
    if demo:
        msg = f"demo data is already present ({demo} demo users); use a fresh database"
        raise DemoRefused(msg)
    if real and not force:
        msg = f"the database has {real} real users; pass --force to add demo data beside them"
        raise DemoRefused(msg)
    rng = random.Random(seed_value)
    now = now or utcnow()
    start = now - timedelta(weeks=size.weeks)
    ids = _Ids()
    out = _Writer(engine)
    report = SeedReport()
    counties, weights = _places(rng)
    # how well each city is served: the dashboard should show differences worth acting on
    city_supply = {city: rng.uniform(0.35, 0.95) for city, _ in counties}

    experts_by_city: dict[str, list[int]] = defaultdict(list)
    experts_by_trade: dict[tuple[str, str], list[int]] = defaultdict(list)
    experts_by_field: dict[str, list[int]] = defaultdict(list)
    for i in range(size.experts):
        city, county = rng.choices(counties, weights)[0]
        uid = ids.take(USERS, engine)
        trade = rng.randrange(len(TRADES))
        field_name, _, crops, _ = TRADES[trade]
        joined = start - timedelta(days=rng.uniform(0, 120))
        out.add(
            USERS, _user(uid, f"e{i}", f"演示专家{i + 1:04d}", city, county, joined, expert=True)
        )
        out.add(
            EXPERTS,
            {
                "id": ids.take(EXPERTS, engine),
                "user_id": uid,
                "organisation": f"演示农技站{(i % 40) + 1:02d}",
                "title": "农艺师",
                "bio": "演示数据：虚构的专家。",
                "available": rng.random() > 0.1,
                "fields": [field_name],
                "skills": [],
                "crops": rng.sample(crops, k=min(2, len(crops))),
                "service_regions": [{"province": PROVINCE, "city": city, "county": ""}],
                "rating_count": 0,
                "rating_sum": 0,
                "created_at": joined,
                "updated_at": joined,
            },
        )
        if rng.random() < 0.3:
            continue  # registered but never takes an order: the supply rate is not 100 %
        experts_by_city[city].append(uid)
        experts_by_trade[(city, field_name)].append(uid)
        experts_by_field[field_name].append(uid)
    report.experts = size.experts

    requesters: list[tuple[int, str, str]] = []
    for i in range(size.requesters):
        city, county = rng.choices(counties, weights)[0]
        uid = ids.take(USERS, engine)
        joined = start - timedelta(days=rng.uniform(0, 60))
        out.add(USERS, _user(uid, f"r{i}", f"演示农户{i + 1:05d}", city, county, joined))
        requesters.append((uid, city, county))
    report.requesters = size.requesters

    ratings: dict[int, list[int]] = defaultdict(list)
    span = (now - start).total_seconds()
    for _ in range(size.needs):
        uid, city, county = rng.choice(requesters)
        field_name, category, crops, problem = rng.choice(TRADES)
        crop = rng.choice(crops)
        # activity grows over the period (a platform being adopted)
        created = start + timedelta(seconds=span * (rng.random() ** 0.7))
        pool = experts_by_trade.get((city, field_name)) or experts_by_city.get(city) or []
        chance = city_supply[city]
        if not pool:
            # nobody local: an expert from elsewhere in the province, less often
            pool, chance = experts_by_field.get(field_name, []), chance / 2
        taken = bool(pool) and rng.random() < chance
        need_id, order_id = ids.take(NEEDS, engine), ids.take(ORDERS, engine)
        steps = [("post", None, "posted", created, uid)]
        expert = None
        if taken:
            expert = rng.choice(pool)
            accepted_at = created + timedelta(hours=rng.lognormvariate(1.2, 0.9))
            steps.append(("match", "posted", "matched", created + timedelta(minutes=1), None))
            steps.append(("accept", "matched", "accepted", accepted_at, expert))
            if rng.random() < 0.8:
                resolved_at = accepted_at + timedelta(days=rng.uniform(0.5, 6))
                steps.append(("resolve", "accepted", "resolved", resolved_at, expert))
                if rng.random() < 0.75:
                    closed = resolved_at + timedelta(days=rng.uniform(0, 3))
                    steps.append(("close", "resolved", "closed", closed, uid))
            steps = [s for s in steps if s[3] < now]
        elif created < now - timedelta(days=3):
            steps.append(("match", "posted", "matched", created + timedelta(minutes=1), None))
            steps.append(("expire", "matched", "expired", created + timedelta(days=3), None))
        elif created < now - timedelta(minutes=1):
            steps.append(("match", "posted", "matched", created + timedelta(minutes=1), None))
        status = steps[-1][2]
        at = {action: when for action, _, _, when, _ in steps}
        accepted_at, resolved_at, closed_at = at.get("accept"), at.get("resolve"), at.get("close")
        expert = expert if accepted_at else None
        score = rng.choices([5, 4, 3, 2, 1], [55, 28, 10, 4, 3])[0] if closed_at else None
        out.add(
            NEEDS,
            {
                "id": need_id,
                "requester_id": uid,
                "text": f"{crop}{problem}（演示数据）",
                "crop": crop,
                "problem": problem,
                "category": category,
                "province": PROVINCE,
                "city": city,
                "county": county,
                "urgency": "normal",
                "budget": None,
                "contact_phone": _phone(uid),
                "status": status,
                "created_at": created,
                "accepted_at": accepted_at,
                "accept_seconds": round((accepted_at - created).total_seconds())
                if accepted_at
                else None,
                "resolved_at": resolved_at,
                "rating": score,
            },
        )
        out.add(
            ORDERS,
            {
                "id": order_id,
                "need_id": need_id,
                "requester_id": uid,
                "expert_id": expert,
                "status": status,
                "match_round": 1 if len(steps) > 1 else 0,
                "resolution_note": "已现场指导（演示数据）" if resolved_at else "",
                "created_at": created,
                "updated_at": steps[-1][3],
                "accepted_at": accepted_at,
                "resolved_at": resolved_at,
                "closed_at": closed_at,
                "contacts_at": accepted_at,  # demo parties exchanged contacts on accepting
            },
        )
        if events:
            for action, before, after, at, actor in steps:
                out.add(
                    EVENTS,
                    {
                        "id": ids.take(EVENTS, engine),
                        "order_id": order_id,
                        "actor_id": actor,
                        "action": action,
                        "from_status": before,
                        "to_status": after,
                        "note": "",
                        "at": at,
                    },
                )
        if score is not None and expert is not None:
            ratings[expert].append(score)
            out.add(
                RATINGS,
                {
                    "id": ids.take(RATINGS, engine),
                    "order_id": order_id,
                    "expert_id": expert,
                    "requester_id": uid,
                    "score": score,
                    "comment": "",
                    "created_at": closed_at,
                },
            )
        report.orders_accepted += accepted_at is not None
    report.needs = size.needs

    for _ in range(size.questions):
        uid, city, county = rng.choice(requesters)
        unanswered = rng.random() < 0.18
        question = rng.choice(UNANSWERED if unanswered else ANSWERED)
        out.add(
            QUESTIONS,
            {
                "id": ids.take(QUESTIONS, engine),
                "user_id": uid,
                "question": question,
                "answered": not unanswered,
                "top_hit": "",
                "top_title": "",
                "score": 0.0 if unanswered else 0.8,
                "province": PROVINCE,
                "city": city,
                "county": county,
                "created_at": start + timedelta(seconds=span * (rng.random() ** 0.8)),
            },
        )
    report.questions = size.questions
    out.flush()
    _finish(engine, ratings)
    # issue 18: enterprises among the requesters, teams, achievements and completed 对接
    extra = seed_enterprises(engine, CHANNEL, rng, start, now)
    report.enterprises, report.teams = extra.enterprises, extra.teams
    report.achievements, report.dockings = extra.achievements, extra.dockings
    with Session(engine) as session:  # bulk rows bypass the moves: recount the rollups
        rebuild(session)
    report.seconds = time.perf_counter() - started
    return report


def _user(
    uid: int,
    ext: str,
    name: str,
    city: str,
    county: str,
    joined: datetime,
    *,
    expert: bool = False,
) -> dict[str, Any]:
    return {
        "id": uid,
        "channel": CHANNEL,
        "external_id": ext,
        "display_name": name,
        "locale": "zh",
        "phone": _phone(uid),
        "province": PROVINCE,
        "city": city,
        "county": county,
        "roles": [Role.EXPERT.value] if expert else [Role.REQUESTER.value],
        "created_at": joined,
    }


def _finish(engine: Engine, ratings: dict[int, list[int]]) -> None:
    """Expert rating aggregates, and PostgreSQL sequences moved past the explicit ids."""
    with engine.begin() as conn:
        for chunk in _chunks(list(ratings.items()), 1000):
            for expert, scores in chunk:
                conn.execute(
                    EXPERTS.update()
                    .where(EXPERTS.c.user_id == expert)
                    .values(rating_count=len(scores), rating_sum=sum(scores))
                )
        if engine.dialect.name == "postgresql":
            for table in (USERS, EXPERTS, NEEDS, ORDERS, EVENTS, RATINGS, QUESTIONS):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 1))"
                    )
                )


def _chunks(items: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
