"""Schema creation and the version table."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import Session, select

from store import db
from store.db import SchemaTooNew, SchemaVersion, init_db


def test_init_is_idempotent_and_creates_all_tables(engine: Engine):
    assert init_db(engine) == db.SCHEMA_VERSION
    assert init_db(engine) == db.SCHEMA_VERSION
    tables = set(inspect(engine).get_table_names())
    assert {
        "users",
        "expert_profiles",
        "needs",
        "orders",
        "order_events",
        "ratings",
        "conversation_states",
        "question_log",
        "schema_version",
    } <= tables


def test_refuses_a_newer_schema(engine: Engine):
    with Session(engine) as s:
        row = s.exec(select(SchemaVersion)).one()
        row.version = db.SCHEMA_VERSION + 1
        s.add(row)
        s.commit()
    with pytest.raises(SchemaTooNew, match="newer than this code"):
        init_db(engine)
    with Session(engine) as s:
        row = s.exec(select(SchemaVersion)).one()
        row.version = db.SCHEMA_VERSION
        s.add(row)
        s.commit()


def test_runs_pending_migrations(engine: Engine, monkeypatch: pytest.MonkeyPatch):
    target = db.SCHEMA_VERSION + 1
    monkeypatch.setattr(db, "SCHEMA_VERSION", target)
    monkeypatch.setattr(
        db, "MIGRATIONS", {target: ["CREATE TABLE migration_probe (id INTEGER PRIMARY KEY)"]}
    )
    try:
        assert init_db(engine) == target
        assert "migration_probe" in inspect(engine).get_table_names()
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE migration_probe")
            conn.exec_driver_sql(f"UPDATE schema_version SET version = {target - 1}")
