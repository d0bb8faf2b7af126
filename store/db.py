"""Engine and session factories, and schema creation with a version table.

Schema management: ``SQLModel.metadata.create_all`` plus a one-row ``schema_version`` table.
``init_db`` creates missing tables, runs the numbered migration steps above the stored
version, and refuses to start on a database written by a newer version of the code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, Session, SQLModel, create_engine, select

from store import (  # noqa: F401 - every table must be imported before create_all
    achievements,
    cases,  # issue 19: the curation queue
    conversations,
    enterprises,
    experts,
    feedback,
    interests,
    leases,
    links,  # /link codes (issue 16)
    media,
    needs,
    notifications,
    orders,
    outbox,
    push,
    qa,  # issue 19: imported Q&A
    questions,
    rollup_check,
    rollup_tables,  # the indicator rollups' tables (issue 17)
    subscriptions,
    teams,
    trust,
    updates,
    users,
    wechat,  # issue 16: WeChat peers (48 h window, choices) and access token
)
from store.needs import METRICS_INDEXES
from store.rollup_tables import (
    CHAIN_INDEXES,
    GAP_DAYS,
    NEED_DAYS,
    QUESTION_DAYS,
    UNMET_DAYS,
    text_hash,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 14
LEVELLED = (NEED_DAYS, UNMET_DAYS, QUESTION_DAYS)  # kept per level from schema 14 on
# version -> SQL statements that bring a database from version-1 to version; a statement that
# differs between back-ends is a {dialect name: SQL} mapping.
# (New tables need no step: create_all adds them; only changes to existing tables do.)
MIGRATIONS: dict[int, list[str | dict[str, str]]] = {
    # 2: needs mirror their order's accept/resolve times and rating; indexes for indicators
    2: [
        "ALTER TABLE needs ADD COLUMN accepted_at TIMESTAMP",
        "ALTER TABLE needs ADD COLUMN resolved_at TIMESTAMP",
        "ALTER TABLE needs ADD COLUMN rating INTEGER",
        "UPDATE needs SET "
        "accepted_at = (SELECT o.accepted_at FROM orders o WHERE o.need_id = needs.id), "
        "resolved_at = (SELECT o.resolved_at FROM orders o WHERE o.need_id = needs.id), "
        "rating = (SELECT r.score FROM ratings r JOIN orders o ON o.id = r.order_id "
        "WHERE o.need_id = needs.id)",
        "CREATE INDEX IF NOT EXISTS ix_needs_metrics ON needs (province, city, county, "
        "created_at, status, requester_id, accepted_at, resolved_at, rating, category, crop)",
        "CREATE INDEX IF NOT EXISTS ix_orders_expert_accepted ON orders (expert_id, accepted_at)",
    ],
    # 3: 有用 / 没用 votes on answers (interests, push_log, article_feedback are new tables)
    3: ["ALTER TABLE question_log ADD COLUMN feedback INTEGER NOT NULL DEFAULT 0"],
    # 4: time to accept on the need, and one narrow index per region level for indicators
    4: [
        "ALTER TABLE needs ADD COLUMN accept_seconds INTEGER",
        {
            "sqlite": "UPDATE needs SET accept_seconds = CAST(ROUND("
            "(julianday(accepted_at) - julianday(created_at)) * 86400) AS INTEGER) "
            "WHERE accepted_at IS NOT NULL",
            "postgresql": "UPDATE needs SET accept_seconds = "
            "CAST(ROUND(EXTRACT(EPOCH FROM accepted_at - created_at)) AS INTEGER) "
            "WHERE accepted_at IS NOT NULL",
        },
        "DROP INDEX IF EXISTS ix_needs_metrics",
        "CREATE INDEX IF NOT EXISTS ix_question_log_region "
        "ON question_log (province, city, county, created_at, answered)",
        *(
            f"CREATE INDEX IF NOT EXISTS {name} ON needs ({', '.join(columns)})"
            for name, columns in METRICS_INDEXES.items()
        ),
    ],
    # 5: an article is pushed to a person once, even by two scheduler loops at once
    5: [
        "CREATE UNIQUE INDEX IF NOT EXISTS uq_push_log_user_article "
        "ON push_log (user_id, article_id)"
    ],
    # 6: contacts are exchanged when the requester agrees (orders accepted before this had
    # them exchanged on accepting); expert_reviews, suspensions, reports, contact_views are new
    6: [
        "ALTER TABLE orders ADD COLUMN contacts_at TIMESTAMP",
        "UPDATE orders SET contacts_at = accepted_at WHERE accepted_at IS NOT NULL",
    ],
    # 7 (photos and voice, issue 16): an outbox message may carry stored media ids;
    # media_files is a new table
    7: ["ALTER TABLE outbox ADD COLUMN media JSON"],
    # 8 (perf, issue 17): needs say who posted them; indicator rollups (new tables, filled
    # from the base tables by init_db below)
    8: [
        "ALTER TABLE needs ADD COLUMN requester_kind VARCHAR(16) NOT NULL DEFAULT 'individual'",
    ],
    # 9 (cluster, issue 17): outbox rows are claimed by one of several senders under a lease;
    # handled_updates and leases are new tables
    9: [
        "ALTER TABLE outbox ADD COLUMN claimed_by VARCHAR(64) NOT NULL DEFAULT ''",
        "ALTER TABLE outbox ADD COLUMN claimed_until TIMESTAMP",
        "CREATE INDEX IF NOT EXISTS ix_outbox_chat_pending "
        "ON outbox (channel, external_id, status, id)",
    ],
    # 10 (issue 18): needs say who posted them and may be enterprises' technical needs or 对接
    # requests; a team may hold an order; enterprises, teams, achievements are new tables
    10: [
        "ALTER TABLE needs ADD COLUMN service_kind VARCHAR(16) NOT NULL DEFAULT ''",
        "ALTER TABLE needs ADD COLUMN deadline VARCHAR(32) NOT NULL DEFAULT ''",
        "ALTER TABLE needs ADD COLUMN paid_contract BOOLEAN",
        "ALTER TABLE needs ADD COLUMN achievement_id INTEGER",
        "CREATE INDEX IF NOT EXISTS ix_needs_achievement_id ON needs (achievement_id)",
        "ALTER TABLE orders ADD COLUMN team_id INTEGER",
        "CREATE INDEX IF NOT EXISTS ix_orders_team_id ON orders (team_id)",
        "ALTER TABLE order_notifications ADD COLUMN team_id INTEGER",
    ],
    # 11 (stats, issue 17): every panel of a regional view from rollups: wait bands and
    # minutes per region level replace rollup_wait_days; need days count 对接 done (dropped
    # here, created again and every rollup rebuilt by init_db below); rollup_expert_days and
    # rollup_kind_days, rollup_expert_registrations are new; orders by accept time and expert
    # profiles by creation time (whether a rollup day is complete)
    11: [
        "DROP TABLE IF EXISTS rollup_wait_days",
        "DROP TABLE IF EXISTS rollup_need_days",
        "CREATE INDEX IF NOT EXISTS ix_orders_accepted ON orders (accepted_at)",
        "CREATE INDEX IF NOT EXISTS ix_expert_profiles_created_at ON expert_profiles (created_at)",
    ],
    # 12 (stats at scale, issue 17): chain tables read by day first (one index range per day
    # of the period instead of every row of the region)
    12: [
        *(f"DROP INDEX IF EXISTS ix_{table}_level" for table in CHAIN_INDEXES),
        *(
            f"CREATE INDEX IF NOT EXISTS ix_{table}_chain ON {table} "
            f"(level, province, day, prev_day, city, county, {', '.join(columns)})"
            for table, columns in CHAIN_INDEXES.items()
        ),
    ],
    # 13 (stats at scale, issue 17): the knowledge gap's rollup, rollup_gap_days (a new
    # table, counted from the question log by init_db below)
    # 14 (stats at scale, issue 17): need, unmet and question days kept per region level, so
    # that a province reads its own rows, not its counties' (dropped here, created again and
    # counted by init_db below)
    14: [f"DROP TABLE IF EXISTS {table.name}" for table in LEVELLED],
}
ROLLUPS_SINCE = 11  # a database migrated from below this version gets its rollups rebuilt
# ... from below these (and not below ROLLUPS_SINCE): those tables counted again
RECOUNTED_SINCE = {13: (GAP_DAYS,), 14: LEVELLED}


class SchemaVersion(SQLModel, table=True):
    __tablename__ = "schema_version"

    id: int = Field(default=1, primary_key=True)
    version: int


class SchemaTooNew(RuntimeError):
    pass


def make_engine(url: str, *, echo: bool = False, ping_idle_seconds: float = 2.0) -> Engine:
    """An engine for a sqlite:// or postgresql:// URL (SQLite gets WAL and a busy timeout;
    PostgreSQL connections are tested on checkout after *ping_idle_seconds* idle)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        memory = database in ("", ":memory:")
        if not memory:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # md5(text): the knowledge-gap rollup's key of a question, as on PostgreSQL
            dbapi_conn.create_function("md5", 1, _md5, deterministic=True)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                # indicator queries scan large covering indexes: keep them in memory
                cur.execute("PRAGMA cache_size=-65536")
                cur.execute("PRAGMA mmap_size=268435456")
            cur.close()

        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
    ping_when_idle(engine, ping_idle_seconds)
    return engine


def _md5(value: str | None) -> str | None:
    return None if value is None else text_hash(value)


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection on checkout only when it sat idle in the pool for more than
    *idle_seconds* (a server restart or a firewall dropping idle connections shows there);
    one just given back is used at once. ``pool_pre_ping`` would cost a round trip on every
    checkout, i.e. on every turn. A dead connection is replaced (the pool tries again)."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        idle = time.monotonic() - since if since is not None else 0.0
        if idle <= idle_seconds:
            return  # a new connection, or one in use a moment ago
        try:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            # the ping opened a transaction: end it, so that the caller may still choose the
            # connection's isolation level (a REPEATABLE READ check) or autocommit
            dbapi_conn.rollback()
        except Exception as exc:
            log.info("pooled connection idle for %.0f s is gone (%s); reconnecting", idle, exc)
            raise DisconnectionError(str(exc)) from exc


def make_session_factory(engine: Engine) -> Callable[[], Session]:
    """A callable returning a new Session bound to *engine* (objects stay usable after commit)."""

    def factory() -> Session:
        return Session(engine, expire_on_commit=False)

    return factory


def init_db(engine: Engine) -> int:
    """Create or migrate the schema; return the version the database is now at.

    Raises:
        SchemaTooNew: the database was written by a newer version of tianfu.
    """
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        row = session.exec(select(SchemaVersion)).first()
        if row is None:
            session.add(SchemaVersion(id=1, version=SCHEMA_VERSION))
            session.commit()
            return SCHEMA_VERSION
        if row.version > SCHEMA_VERSION:
            msg = (
                f"database schema version {row.version} is newer than this code "
                f"({SCHEMA_VERSION}); upgrade tianfu"
            )
            raise SchemaTooNew(msg)
        old = row.version
        for version in range(row.version + 1, SCHEMA_VERSION + 1):
            for step in MIGRATIONS.get(version, []):
                sql = step if isinstance(step, str) else step[engine.dialect.name]
                session.execute(text(sql))
            log.info("migrated database schema to version %d", version)
        if old < ROLLUPS_SINCE:  # issue 17: the indicator rollups of existing records
            SQLModel.metadata.create_all(session.connection())  # rollup tables dropped above
            rollup_check.rebuild(session)
        else:
            recount = [t for since, ts in RECOUNTED_SINCE.items() if old < since for t in ts]
            if recount:
                SQLModel.metadata.create_all(session.connection())  # dropped above
            for table in recount:
                rollup_check.rebuild_table(session, table)
        row.version = SCHEMA_VERSION
        session.add(row)
        session.commit()
        return row.version
