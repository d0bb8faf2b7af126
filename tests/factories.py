"""Small builders for test records (fictional people and numbers)."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from store.experts import ExpertProfileCreate, upsert_expert_profile
from store.needs import NeedCreate
from store.orders import Posted, post_need
from store.users import Role, User, UserCreate, create_user
from store.validation import Region

_seq = itertools.count(1)


def make_user(session: Session, name: str = "", roles: tuple[Role, ...] = ()) -> User:
    n = next(_seq)
    return create_user(
        session=session,
        user_in=UserCreate(
            channel="test",
            external_id=f"u{n}",
            display_name=name or f"测试用户{n}",
            roles=list(roles),
            province="四川省",
            city="宜宾市",
            county="翠屏区",
        ),
    )


def make_expert(session: Session, name: str = "") -> User:
    user = make_user(session, name or "测试专家")
    upsert_expert_profile(
        session=session,
        user=user,
        profile_in=ExpertProfileCreate(
            fields=["果树栽培"],
            skills=["土壤改良"],
            organisation="示例农技站",
            service_regions=[Region("四川省", "宜宾市", "")],
        ),
    )
    session.refresh(user)
    return user


def need_in(**changes: object) -> NeedCreate:
    data: dict[str, object] = {
        "text": "李子园土壤酸化板结，果子产量低，想请专家来看看",
        "crop": "李",
        "category": "soil",
        "province": "四川省",
        "city": "宜宾市",
        "county": "翠屏区",
        "contact_phone": "13800001234",
        "budget": 5000,
    }
    data.update(changes)
    return NeedCreate(**data)  # type: ignore[arg-type]


def post(session: Session, requester: User | None = None, **changes: object) -> Posted:
    requester = requester or make_user(session, "测试农户")
    return post_need(session=session, requester=requester, need_in=need_in(**changes))


def downgrade(engine, version: int) -> None:  # type: ignore[no-untyped-def]
    """Undo schema steps down to *version*, as a database written by older code would be."""
    from sqlalchemy import text

    from store.needs import METRICS_INDEXES
    from store.rollup_tables import CHAIN_INDEXES

    region = "province VARCHAR(32) NOT NULL, city VARCHAR(32) NOT NULL, " + (
        "county VARCHAR(32) NOT NULL, day DATE NOT NULL"
    )
    undo = {
        # 14 (stats): need, unmet and question days per county only
        14: [
            "DROP TABLE rollup_need_days",
            "DROP TABLE rollup_unmet_days",
            "DROP TABLE rollup_question_days",
            f"CREATE TABLE rollup_need_days ({region}, requester_kind VARCHAR(16) NOT NULL, "
            "needs INTEGER NOT NULL, accepted INTEGER NOT NULL, resolved INTEGER NOT NULL, "
            "unmet INTEGER NOT NULL, rating_sum INTEGER NOT NULL, rating_count INTEGER NOT NULL, "
            "docked INTEGER NOT NULL, "
            "PRIMARY KEY (province, city, county, day, requester_kind))",
            f"CREATE TABLE rollup_unmet_days ({region}, category VARCHAR(16) NOT NULL, "
            "crop VARCHAR(32) NOT NULL, unmet INTEGER NOT NULL, "
            "PRIMARY KEY (province, city, county, day, category, crop))",
            f"CREATE TABLE rollup_question_days ({region}, questions INTEGER NOT NULL, "
            "unanswered INTEGER NOT NULL, PRIMARY KEY (province, city, county, day))",
        ],
        # 13 (stats): the knowledge gap's rollup
        13: ["DROP TABLE rollup_gap_days"],
        # 9 (cluster): outbox claims
        9: [
            "DROP INDEX ix_outbox_chat_pending",
            "ALTER TABLE outbox DROP COLUMN claimed_until",
            "ALTER TABLE outbox DROP COLUMN claimed_by",
        ],
        # 11 (stats): level-keyed wait rollups, expert days, orders by accept time
        # 12: chain tables indexed day first
        12: [
            *(f"DROP INDEX ix_{table}_chain" for table in CHAIN_INDEXES),
            *(
                f"CREATE INDEX ix_{table}_level ON {table} "
                f"(level, province, city, county, day, prev_day, {', '.join(columns)})"
                for table, columns in CHAIN_INDEXES.items()
            ),
        ],
        11: [
            "DROP TABLE rollup_wait_bands",
            "DROP TABLE rollup_wait_minutes",
            "DROP TABLE rollup_expert_days",
            "DROP TABLE rollup_kind_days",
            "DROP TABLE rollup_expert_registrations",
            "DROP INDEX ix_expert_profiles_created_at",
            "ALTER TABLE rollup_need_days DROP COLUMN docked",
            "DROP INDEX ix_orders_accepted",
            "DROP TABLE IF EXISTS rollup_wait_days",  # left by a test that stopped midway
            "CREATE TABLE rollup_wait_days (province VARCHAR(32) NOT NULL, "
            "city VARCHAR(32) NOT NULL, county VARCHAR(32) NOT NULL, day DATE NOT NULL, "
            "band INTEGER NOT NULL, accepted INTEGER NOT NULL, "
            "PRIMARY KEY (province, city, county, day, band))",
        ],
        # 10 (ent): enterprises' needs, 对接, teams
        10: [
            "DROP INDEX ix_needs_achievement_id",
            *(
                f"ALTER TABLE needs DROP COLUMN {c}"
                for c in ("service_kind", "deadline", "paid_contract")
            ),
            "ALTER TABLE needs DROP COLUMN achievement_id",
            "DROP INDEX ix_orders_team_id",
            "ALTER TABLE orders DROP COLUMN team_id",
            "ALTER TABLE order_notifications DROP COLUMN team_id",
        ],
        7: ["ALTER TABLE outbox DROP COLUMN media"],
        8: [
            "ALTER TABLE needs DROP COLUMN requester_kind",
            *(
                f"DROP TABLE {name}"
                for name in (
                    "rollup_need_days",
                    "rollup_wait_days",
                    "rollup_unmet_days",
                    "rollup_requester_days",
                    "rollup_question_days",
                )
            ),
        ],
        6: ["ALTER TABLE orders DROP COLUMN contacts_at"],
        5: ["DROP INDEX uq_push_log_user_article"],
        4: [
            *(f"DROP INDEX {name}" for name in METRICS_INDEXES),
            "ALTER TABLE needs DROP COLUMN accept_seconds",
            "CREATE INDEX ix_needs_metrics ON needs (province, city, county, created_at)",
        ],
        3: ["ALTER TABLE question_log DROP COLUMN feedback"],
        2: [
            "DROP INDEX ix_needs_metrics",
            "DROP INDEX ix_orders_expert_accepted",
            "ALTER TABLE needs DROP COLUMN accepted_at",
            "ALTER TABLE needs DROP COLUMN resolved_at",
            "ALTER TABLE needs DROP COLUMN rating",
        ],
    }
    from store.db import SCHEMA_VERSION

    fresh_connections(engine)
    with engine.begin() as conn:
        for step in range(SCHEMA_VERSION, version, -1):
            for sql in undo[step]:
                conn.execute(text(sql))
        conn.execute(text(f"UPDATE schema_version SET version = {version}"))


def fresh_connections(engine) -> None:  # type: ignore[no-untyped-def]
    """Drop pooled PostgreSQL connections, whose cached plans know the old table shapes (an
    in-memory SQLite database lives in its one connection and must be kept)."""
    if engine.dialect.name == "postgresql":
        engine.dispose()
