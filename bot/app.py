"""Wiring: build the long-lived services from settings (never at import time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.settings import Settings, SettingsError
from dialogs.assistant import Assistant
from dialogs.llm.client import ChatModel, open_chat_model
from dialogs.nlu.regions import RegionLookupError, lookup
from dialogs.push import Catalogue, PushPlanner, parse_window
from dialogs.stats import StatsDesk
from dialogs.types import Outcome
from retrieval.factory import KNOWLEDGE, open_index
from retrieval.index import HybridIndex
from retrieval.matching import ExpertMatcher
from store.db import init_db, make_engine, make_session_factory
from store.users import Role, User
from store.validation import Region

EXPERTS = "experts"


def open_database(settings: Settings) -> tuple[Engine, int]:
    """An engine for DATABASE_URL with the schema created or migrated; and the schema version."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    return engine, init_db(engine)


def open_knowledge_index(settings: Settings, name: str = KNOWLEDGE) -> HybridIndex:
    """A hybrid index (embedded Chroma, or the server at CHROMA_URL) named *name*."""
    return open_index(
        name,
        data_dir=settings.data_dir,
        chroma_url=settings.chroma_url,
        embeddings=settings.embeddings,
        api_key=settings.openai_key,
        base_url=settings.openai_base_url,
    )


def open_llm(settings: Settings) -> ChatModel | None:
    """The chat model of LLM mode, or None when it is off (LLM_MODE=off or no API key)."""
    return open_chat_model(
        api_key=settings.openai_key,
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
    push: PushPlanner
    knowledge: HybridIndex
    corpus_overlay: Path

    def run_due(self, now: datetime | None = None) -> Outcome:
        """Every scheduled job once: re-match / expire / auto-close, then the push round."""
        factory = self.assistant.session_factory
        out = self.assistant.matching.run_due(factory, now)
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


def admin_check(settings: Settings) -> Callable[[User], bool]:
    """Who may see indicators: Telegram users in ADMIN_IDS, users given the admin role, and
    the console operator speaking as "admin" (the console runs with database access anyway)."""
    telegram_admins = {str(i) for i in settings.admin_ids}

    def is_admin(user: User) -> bool:
        if user.has_role(Role.ADMIN):
            return True
        if user.channel == "telegram":
            return user.external_id in telegram_admins
        return user.channel == "console" and user.external_id == "admin"

    return is_admin


def default_region(settings: Settings) -> Region:
    """STATS_REGION as a region.

    Raises:
        SettingsError: the name is no place, naming the value.
    """
    try:
        return lookup(settings.stats_region)
    except RegionLookupError as err:
        msg = f"Bad setting STATS_REGION={settings.stats_region!r}: {err}"
        raise SettingsError(msg) from None


def build_services(settings: Settings) -> Services:
    """The assistant with its order desk over the configured database and indexes."""
    from retrieval.tokenizer import shared_tokenizer

    engine, _ = open_database(settings)
    session_factory = make_session_factory(engine)
    knowledge = open_knowledge_index(settings)
    assistant = Assistant.build(
        session_factory,
        knowledge if len(knowledge) else None,
        shared_tokenizer(),
        ExpertMatcher(open_knowledge_index(settings, EXPERTS)),
        stats=StatsDesk(admin_check(settings), default_region(settings)),
        llm=open_llm(settings),
        locale=settings.locale,
        top_n=settings.match_top_n,
        match_timeout=timedelta(minutes=settings.match_timeout_minutes),
        auto_close_days=settings.auto_close_days,
    )
    with session_factory() as session:
        assistant.matching.refresh(session)
    push = make_push_planner(settings, knowledge)
    return Services(engine, assistant, push, knowledge, settings.corpus_overlay)
