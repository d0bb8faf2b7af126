"""Wiring: build the long-lived services from settings (never at import time)."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.settings import Settings
from dialogs.assistant import Assistant
from retrieval.factory import KNOWLEDGE, open_index
from retrieval.index import HybridIndex
from store.db import init_db, make_engine, make_session_factory


def open_database(settings: Settings) -> tuple[Engine, int]:
    """An engine for DATABASE_URL with the schema created or migrated; and the schema version."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    return engine, init_db(engine)


def open_knowledge_index(settings: Settings, name: str = KNOWLEDGE) -> HybridIndex:
    """The hybrid index of the 科普 corpus (embedded Chroma, or the server at CHROMA_URL)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return open_index(
        name,
        data_dir=settings.data_dir,
        chroma_url=settings.chroma_url,
        embeddings=settings.embeddings,
        api_key=key,
        base_url=settings.openai_base_url,
    )


def build_assistant(settings: Settings) -> Assistant:
    """The assistant over the configured database and knowledge index (schema ensured)."""
    from retrieval.tokenizer import shared_tokenizer

    engine, _ = open_database(settings)
    index = open_knowledge_index(settings)
    return Assistant(
        session_factory=make_session_factory(engine),
        knowledge=index if len(index) else None,
        tokenize=shared_tokenizer(),
        locale=settings.locale,
    )
