"""Shared fixtures: databases on SQLite and, when reachable, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from knowledge.ingest import ingest
from knowledge.lexicons import default_vocabulary
from retrieval.factory import open_index
from retrieval.index import HybridIndex
from retrieval.tokenizer import shared_tokenizer
from store.db import init_db, make_engine

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session", autouse=True)
def _vocabulary() -> None:
    """Give retrieval its domain vocabulary, as the application's wiring does."""
    shared_tokenizer(default_vocabulary())


@pytest.fixture(scope="session", autouse=True)
def _intent_model(
    _vocabulary: None, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Make the intent model once, up front, from a cache kept between runs (pytest's, or
    MODEL_CACHE_DIR), and let the processes tests start load it from there too."""
    from dialogs.nlu.model import default_model

    cache = getattr(request.config, "cache", None)
    directory = Path(
        os.environ.get("MODEL_CACHE_DIR")
        or (cache.mkdir("intent-model") if cache is not None else tmp_path_factory.mktemp("model"))
    )
    default_model(directory)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODEL_CACHE_DIR", str(directory))
        yield


def _no_postgres(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL tests must run in CI: {reason}")
    pytest.skip(f'PostgreSQL not available ({reason}); start one with: eval "$(.ci/pg.sh start)"')


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        _no_postgres("TEST_DATABASE_URL is not set")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not reachable"
        _no_postgres(f"cannot connect to {url}: {exc}")
    SQLModel.metadata.drop_all(engine)
    init_db(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    names = ", ".join(
        t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name != "schema_version"
    )
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database on each back-end."""
    if backend == "sqlite":
        eng = make_engine("sqlite://")
        init_db(eng)
        yield eng
        eng.dispose()
        return
    eng = request.getfixturevalue("pg_engine")
    _truncate(eng)
    yield eng


@pytest.fixture
def file_engine(backend: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """Like ``engine`` but SQLite lives in a file, so several connections can race on it."""
    if backend == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
        init_db(eng)
        yield eng
        eng.dispose()
        return
    eng = request.getfixturevalue("pg_engine")
    _truncate(eng)
    yield eng


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


def ephemeral_client():  # type: ignore[no-untyped-def]
    return chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))


@pytest.fixture(scope="session")
def kb_index(tmp_path_factory: pytest.TempPathFactory) -> HybridIndex:
    """The bundled corpus indexed once for the session (embedded Chroma, local embedding)."""
    index = open_index(
        "knowledge_test", data_dir=tmp_path_factory.mktemp("kb"), client=ephemeral_client()
    )
    report = ingest(index, progress=False)
    assert report.errors == []
    return index


@pytest.fixture(scope="session")
def fake_llm_server():  # type: ignore[no-untyped-def]
    """A fake OpenAI-compatible server on 127.0.0.1 for the whole session."""
    from bench.fake_llm import FakeLLM

    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(fake_llm_server):  # type: ignore[no-untyped-def]
    """The fake server, back to normal behaviour with no recorded requests."""
    fake_llm_server.reset()
    yield fake_llm_server
    fake_llm_server.reset()


def make_assistant(engine: Engine, knowledge: HybridIndex | None, data_dir=None, **options):  # type: ignore[no-untyped-def]
    """The real assistant (every desk) over *engine*, with empty expert and achievement
    indexes of its own."""
    import tempfile
    import uuid

    from dialogs.assistant import Assistant
    from retrieval.achievements import AchievementIndex
    from retrieval.matching import ExpertMatcher
    from retrieval.tokenizer import shared_tokenizer
    from store.db import make_session_factory

    directory = Path(data_dir or tempfile.mkdtemp(prefix="tianfu-experts-"))
    experts = open_index(
        f"experts_{uuid.uuid4().hex[:8]}", data_dir=directory, client=ephemeral_client()
    )
    if "achievements" not in options:
        options["achievements"] = AchievementIndex(
            open_index(
                f"achievements_{uuid.uuid4().hex[:8]}",
                data_dir=directory,
                client=ephemeral_client(),
            )
        )
    return Assistant.build(
        make_session_factory(engine),
        knowledge,
        shared_tokenizer(),
        ExpertMatcher(experts),
        **options,
    )
