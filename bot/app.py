"""Wiring: build the long-lived services from settings (never at import time)."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.settings import Settings
from store.db import init_db, make_engine


def open_database(settings: Settings) -> tuple[Engine, int]:
    """An engine for DATABASE_URL with the schema created or migrated; and the schema version."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    return engine, init_db(engine)
