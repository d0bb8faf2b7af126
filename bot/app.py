"""Wiring: build the long-lived services from settings (never at import time)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.settings import Settings, SettingsError
from dialogs.assistant import Assistant
from dialogs.curation import Shelf
from dialogs.llm.client import ChatModel, open_chat_model
from dialogs.mydata import QuestionRetention
from dialogs.nlu.regions import RegionLookupError, lookup
from dialogs.push import Catalogue, PushPlanner, parse_window
from dialogs.stats import RollupCheck, StatsDesk
from dialogs.types import Outbound, Outcome
from knowledge.lexicons import default_vocabulary
from retrieval.achievements import AchievementIndex
from retrieval.factory import KNOWLEDGE, open_index
from retrieval.index import HybridIndex
from retrieval.matching import ExpertMatcher
from retrieval.safety import PesticideGuard
from retrieval.speech import SpeechError, Transcriber, open_transcriber
from retrieval.tokenizer import shared_tokenizer
from store.db import init_db, make_engine, make_session_factory
from store.media import MediaStorage
from store.outbox import enqueue_many
from store.trust import MarketRules
from store.users import Role, User
from store.validation import Region

log = logging.getLogger(__name__)
EXPERTS = "experts"
ACHIEVEMENTS = "achievements"  # issue 18: the achievements catalogue's own collection


def open_database(settings: Settings) -> tuple[Engine, int]:
    """An engine for DATABASE_URL with the schema created or migrated; and the schema version."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    return engine, init_db(engine)


def open_knowledge_index(
    settings: Settings, name: str = KNOWLEDGE, *, client: Any | None = None
) -> HybridIndex:
    """A hybrid index (embedded Chroma, the server at CHROMA_URL, or *client*) named *name*,
    tokenized with the bundled lexicons."""
    return open_index(
        name,
        data_dir=settings.data_dir,
        client=client,
        tokenize=shared_tokenizer(default_vocabulary()),
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
    """Everything long-lived that every entry point shares (console, Telegram polling and
    webhook, dashboard, bench, tests): built once by :func:`build_services`."""

    settings: Settings
    engine: Engine
    session_factory: Callable[[], Session]
    assistant: Assistant
    push: PushPlanner
    knowledge: HybridIndex  # where administrators' articles are indexed (may be empty)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # tells the notifier to look
    rollup_check: RollupCheck = field(default_factory=RollupCheck)  # perf (issue 17): nightly

    @property
    def admin_ids(self) -> frozenset[int]:
        """Telegram user ids of ADMIN_IDS (they may add articles and see indicators)."""
        return frozenset(self.settings.admin_ids)

    @property
    def corpus_overlay(self) -> Path:
        """Where administrators' articles are saved."""
        return self.settings.corpus_overlay

    @property
    def media(self) -> MediaStorage:
        """Where photos and voice messages are kept (the assistant's own storage)."""
        return self.assistant.media.storage or media_storage(self.settings)

    def run_due(self, now: datetime | None = None) -> Outcome:
        """One scheduler round: re-match / expire / auto-close, the push round, then old
        question texts cleared (QUESTION_LOG_DAYS).

        A job that fails is logged and retried at the next round; the other still runs.
        """
        out = Outcome()
        retention = QuestionRetention(self.settings.question_log_days)
        jobs = (
            self.assistant.matching,
            self.push,
            self.assistant.projects,
            retention,
            self.rollup_check,
        )
        for job in jobs:
            try:
                done = job.run_due(self.session_factory, now)
            except Exception:  # noqa: BLE001 - a failed pass is retried at the next round
                log.exception("scheduler job %s failed", type(job).__name__)
                continue
            out.replies.extend(done.replies)
            out.outbound.extend(done.outbound)
        return out

    def queue(self, session: Session, outcome: Outcome, *, commit: bool = True) -> int:
        """Persist this outcome's messages for other people in the outbox (one transaction;
        the caller's when *commit* is False) and wake the sender; the number queued."""
        n = enqueue_many(session=session, messages=outbox_rows(outcome.outbound), commit=commit)
        if n:
            self.wake.set()
        return n

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def outbox_rows(messages: list[Outbound], *, kind: str | None = None) -> list[dict[str, Any]]:
    """Messages as outbox rows (store.outbox.enqueue_many); *kind* overrides theirs."""
    return [
        {
            "channel": msg.channel,
            "external_id": msg.external_id,
            "text": msg.text,
            "buttons": [
                [{"label": b.label, "action": str(b.action)} for b in row] for row in msg.buttons
            ],
            "kind": kind or msg.kind,
            "ref": msg.ref,
            "media": list(msg.media) or None,  # photos and voice (issue 16)
        }
        for msg in messages
    ]


def prepare_knowledge(services: Services) -> tuple[int, int]:
    """Index the bundled corpus and the administrators' articles (new or changed files only)
    and let the assistant answer from them; (articles, chunks) now in the index. The intent
    model is made here too (loaded from its cache, or trained), so that the first message does
    not wait for it."""
    from dialogs.nlu.model import default_model
    from knowledge.ingest import ingest

    default_model(services.settings.model_cache)

    report = ingest(services.knowledge, progress=False)
    if services.corpus_overlay.is_dir():  # articles administrators added at run time
        report = ingest(services.knowledge, services.corpus_overlay, progress=False)
    sync_imported(services)
    if len(services.knowledge):
        services.assistant.science.knowledge = services.knowledge
    return len(services.knowledge), report.stats.chunks


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


def market_rules(settings: Settings) -> MarketRules:
    """Who may accept and when contacts are exchanged, from the settings."""
    return MarketRules(
        unverified_may_browse_accept=settings.unverified_may_browse_accept,
        accepts_per_day=settings.accepts_per_day,
        max_open_orders=settings.max_open_orders,
        contact_exchange=settings.contact_exchange,
    )


# ---- photos and voice (issue 16) ----
def media_storage(settings: Settings) -> MediaStorage:
    """MEDIA_ROOT (default DATA_DIR/media), MEDIA_URL and the size limits."""
    return MediaStorage(
        root=settings.media_dir,
        url=settings.media_url,
        max_photo_bytes=settings.media_max_photo_bytes,
        max_voice_bytes=settings.media_max_voice_bytes,
    )


def open_speech(settings: Settings) -> Transcriber | None:
    """The voice transcriber for ASR_MODEL_DIR, or None without one.

    Raises:
        SettingsError: the model folder, vosk or ffmpeg is missing (named).
    """
    try:
        return open_transcriber(settings.asr_model_dir)
    except SpeechError as err:
        raise SettingsError(f"Bad setting ASR_MODEL_DIR: {err}") from None


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


# ---- issue 19: knowledge that grows from real cases ---------------------------------------
def pesticide_guard() -> PesticideGuard:
    """The banned / restricted pesticide list every answer, upload and import passes."""
    from knowledge.pesticides import default_guard

    return default_guard()


def sync_imported(services: Services) -> int:
    """Index the imported Q&A items the database holds (a restart keeps them)."""
    from knowledge.qa import sync_qa

    with services.session_factory() as session:
        return sync_qa(session=session, index=services.knowledge, guard=pesticide_guard())


def build_services(
    settings: Settings,
    *,
    engine: Engine | None = None,
    knowledge: HybridIndex | None = None,
    experts: HybridIndex | None = None,
    achievements: HybridIndex | None = None,
) -> Services:
    """The assistant with its desks over the configured database and indexes.

    The only place where the assistant and its desks are put together. Tests may pass a
    prepared *engine* (already migrated) and indexes (e.g. on an in-memory Chroma client):
    *knowledge*, *experts* and *achievements*.
    """
    tokenize = shared_tokenizer(default_vocabulary())
    if engine is None:
        engine, _ = open_database(settings)
    session_factory = make_session_factory(engine)
    if knowledge is None:
        knowledge = open_knowledge_index(settings)
    is_admin = admin_check(settings)
    guard = pesticide_guard()
    assistant = Assistant.build(
        session_factory,
        knowledge if len(knowledge) else None,
        tokenize,
        ExpertMatcher(experts or open_knowledge_index(settings, EXPERTS)),
        stats=StatsDesk(is_admin, default_region(settings)),
        is_admin=is_admin,
        rules=market_rules(settings),
        llm=open_llm(settings),
        locale=settings.locale,
        top_n=settings.match_top_n,
        match_timeout=timedelta(minutes=settings.match_timeout_minutes),
        auto_close_days=settings.auto_close_days,
        achievements=AchievementIndex(
            achievements or open_knowledge_index(settings, ACHIEVEMENTS)
        ),
        media=media_storage(settings),
        support_contact=settings.support_contact,
        transcriber=open_speech(settings),
        guard=guard,
        shelf=Shelf(knowledge, settings.corpus_overlay),
    )
    assistant.projects.window = parse_window(settings.push_window)
    assistant.projects.timezone = ZoneInfo(settings.push_timezone)
    with session_factory() as session:
        assistant.matching.refresh(session)
        assistant.achievements.refresh(session)
    push = make_push_planner(settings, knowledge)
    return Services(
        settings,
        engine,
        session_factory,
        assistant,
        push,
        knowledge,
        rollup_check=RollupCheck(settings.stats_check_hour),  # perf (issue 17)
    )
