"""Wiring: build the long-lived services from settings (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bot.settings import Settings
from dialogs.assistant import Assistant
from dialogs.llm.client import ChatModel, open_chat_model
from dialogs.orders import OrderDesk
from retrieval.factory import KNOWLEDGE, open_index
from retrieval.index import HybridIndex
from retrieval.matching import ExpertMatcher
from store.db import init_db, make_engine, make_session_factory

EXPERTS = "experts"


def open_database(settings: Settings) -> tuple[Engine, int]:
    """An engine for DATABASE_URL with the schema created or migrated; and the schema version."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    return engine, init_db(engine)


def open_knowledge_index(settings: Settings, name: str = KNOWLEDGE) -> HybridIndex:
    """A hybrid index (embedded Chroma, or the server at CHROMA_URL) named *name*."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return open_index(
        name,
        data_dir=settings.data_dir,
        chroma_url=settings.chroma_url,
        embeddings=settings.embeddings,
        api_key=key,
        base_url=settings.openai_base_url,
    )


def open_llm(settings: Settings) -> ChatModel | None:
    """The chat model of LLM mode, or None when it is off (LLM_MODE=off or no API key)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return open_chat_model(
        api_key=key,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        timeout=settings.llm_timeout,
        mode=settings.effective_llm_mode,
        method=settings.llm_structured,
    )


@dataclass(slots=True)
class Services:
    engine: Engine
    assistant: Assistant
    desk: OrderDesk


def build_services(settings: Settings) -> Services:
    """The assistant with its order desk over the configured database and indexes."""
    from retrieval.tokenizer import shared_tokenizer

    engine, _ = open_database(settings)
    session_factory = make_session_factory(engine)
    knowledge = open_knowledge_index(settings)
    matcher = ExpertMatcher(open_knowledge_index(settings, EXPERTS))
    desk = OrderDesk(
        matcher=matcher,
        top_n=settings.match_top_n,
        match_timeout=timedelta(minutes=settings.match_timeout_minutes),
        auto_close_days=settings.auto_close_days,
    )
    with session_factory() as session:
        matcher.sync(desk.load_cards(session))
    assistant = Assistant(
        session_factory=session_factory,
        knowledge=knowledge if len(knowledge) else None,
        tokenize=shared_tokenizer(),
        locale=settings.locale,
        hooks=[desk],
        llm=open_llm(settings),
    )
    return Services(engine, assistant, desk)
