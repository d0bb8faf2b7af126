"""The application's own wiring for tests: settings under tmp_path, services over the test
database and in-memory indexes, and a fake clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.app import Services, build_services
from bot.settings import Settings, load_settings
from retrieval.factory import open_index
from retrieval.index import HybridIndex
from tests.conftest import ephemeral_client

ADMIN = 9001  # the Telegram user id in ADMIN_IDS


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test: data under *tmp_path*, no database or Chroma server, no LLM."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "database_url": "",
        "chroma_url": "",
        "openai_api_key": None,
        "admin_ids": [ADMIN],
        **overrides,
    }
    return load_settings(**values)


def memory_index(tmp_path: Path, prefix: str) -> HybridIndex:
    """A fresh index on the in-memory Chroma client (a unique name: the client is shared)."""
    return open_index(
        f"{prefix}_{uuid.uuid4().hex[:8]}", data_dir=tmp_path, client=ephemeral_client()
    )


def make_services(
    engine: Engine, tmp_path: Path, knowledge: HybridIndex | None = None, **overrides: Any
) -> Services:
    """`build_services` over the test database, *knowledge* (default: a new empty index) and
    a new in-memory experts index."""
    return build_services(
        settings_for(tmp_path, **overrides),
        engine=engine,
        knowledge=knowledge if knowledge is not None else memory_index(tmp_path, "kb"),
        experts=memory_index(tmp_path, "ex"),
        achievements=memory_index(tmp_path, "ac"),
    )


class FakeClock:
    """Monotonic seconds that move only when the code under test sleeps, and a UTC time that
    is real time plus everything slept (rows the test queues are due at once)."""

    def __init__(self) -> None:
        self.seconds = 1000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.seconds

    def utc(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.slept)

    async def sleep(self, seconds: float) -> None:
        self.seconds += max(seconds, 0.0)
        self.slept += max(seconds, 0.0)
