"""Wiring: build the long-lived services from settings (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.settings import Settings
from dialogs.assistant import Assistant
from dialogs.orders import OrderDesk
from dialogs.push import Catalogue, PushPlanner, parse_window
from dialogs.types import Outcome
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


@dataclass(slots=True)
class Services:
    engine: Engine
    assistant: Assistant
    desk: OrderDesk
    push: PushPlanner
    knowledge: HybridIndex
    corpus_overlay: Path

    def run_due(self, now: datetime | None = None) -> Outcome:
        """Every scheduled job once: re-match / expire / auto-close, then the push round."""
        factory = self.assistant.session_factory
        out = self.desk.run_due(factory, now)
        pushed = self.push.run_due(factory, now)
        out.replies.extend(pushed.replies)
        out.outbound.extend(pushed.outbound)
        return out


def make_push_planner(settings: Settings, knowledge: HybridIndex) -> PushPlanner:
    """The push job over the live index: an article added at run time is pushable at once."""
    return PushPlanner(
        catalogue=lambda: Catalogue.from_index(knowledge),
        per_week=settings.push_per_week,
        window=parse_window(settings.push_window),
        timezone=ZoneInfo(settings.push_timezone),
    )


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
    )
    push = make_push_planner(settings, knowledge)
    return Services(engine, assistant, desk, push, knowledge, settings.corpus_overlay)
