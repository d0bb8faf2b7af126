"""Pushed articles: who got which article when, for "not repeated", the weekly cap and the
check at send time that a queued push is still wanted."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Index, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import as_utc, utcnow
from store.questions import QuestionLog
from store.subscriptions import topics_of
from store.users import find_user

log = logging.getLogger(__name__)

PUSH_REF = "push:"


class PushLog(SQLModel, table=True):
    __tablename__ = "push_log"
    __table_args__ = (
        Index("ix_push_log_user_created", "user_id", "created_at"),
        # an article goes to a person once, even when two scheduler loops plan the same round
        Index("uq_push_log_user_article", "user_id", "article_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    article_id: str = Field(max_length=128, index=True)
    topic: str = Field(default="", max_length=32)  # the subscription it answers, if any
    created_at: datetime = Field(default_factory=utcnow)


@dataclass(slots=True)
class History:
    """What one person already got: article ids seen, pushes since a moment, the last one."""

    seen: set[str] = field(default_factory=set)
    recent: int = 0
    last_at: datetime | None = None


def record_pushes(
    *, session: Session, pushes: list[tuple[int, str, str]], at: datetime
) -> list[int]:
    """Write planned pushes, (user id, article id, topic) each, in one transaction; return
    their ids in the same order (one multi-row INSERT ... RETURNING, not an object per row).

    Returns [] and writes nothing when any of them was already recorded (a concurrent round).
    """
    if not pushes:
        return []
    rows = [
        {"user_id": uid, "article_id": article[:128], "topic": topic[:32], "created_at": at}
        for uid, article, topic in pushes
    ]
    try:
        result = session.execute(
            insert(PushLog).returning(col(PushLog.id), sort_by_parameter_order=True), rows
        )
        ids = [int(r[0]) for r in result.all()]
        session.commit()
    except IntegrityError:
        # another scheduler loop recorded some of these pushes first: it sends them
        session.rollback()
        log.warning("push round of %d skipped: already planned by another loop", len(rows))
        return []
    return ids


def histories(*, session: Session, user_ids: list[int], since: datetime) -> dict[int, History]:
    """Per person: articles pushed or given as answers, and pushes since *since*."""
    out: dict[int, History] = {uid: History() for uid in user_ids}
    if not user_ids:
        return out
    rows = session.exec(
        select(PushLog.user_id, PushLog.article_id, PushLog.created_at).where(
            col(PushLog.user_id).in_(user_ids)
        )
    ).all()
    for user_id, article_id, created_at in rows:
        if article_id.startswith(DIGEST_PREFIX):
            continue  # a project digest is no article: it neither counts nor repeats
        hist = out[user_id]
        hist.seen.add(article_id)
        at = as_utc(created_at)
        if at >= since:
            hist.recent += 1
        if hist.last_at is None or at > hist.last_at:
            hist.last_at = at
    answered = session.exec(
        select(QuestionLog.user_id, QuestionLog.top_hit)
        .where(col(QuestionLog.user_id).in_(user_ids))
        .where(QuestionLog.answered == True)  # noqa: E712 - SQL comparison
        .distinct()
    ).all()
    for asker, article_id in answered:
        if asker is not None and article_id:
            out[asker].seen.add(article_id)
    return out


def push_id(ref: str) -> int | None:
    if not ref.startswith(PUSH_REF):
        return None
    try:
        return int(ref.removeprefix(PUSH_REF))
    except ValueError:
        return None


def still_wanted(*, session: Session, channel: str, external_id: str, ref: str) -> bool:
    """Whether a queued push may still go out: the person has not unsubscribed or stopped
    since it was planned (from everything, or from the topic it was chosen for)."""
    user = find_user(session=session, channel=channel, external_id=external_id)
    if user is None or user.id is None:
        return False
    topics = topics_of(session=session, user_id=user.id)
    if not topics:
        return False
    pid = push_id(ref)
    row = session.get(PushLog, pid) if pid is not None else None
    return row is None or not row.topic or row.topic in topics


def get_push(*, session: Session, push_id: int) -> PushLog | None:
    return session.get(PushLog, push_id)


# ---- project digests for experts (找项目, issue 18) ------------------------------------------
DIGEST_PREFIX = "projects:"  # push_log article id of a weekly digest: projects:2026-W49


class ProjectSubscription(SQLModel, table=True):
    """An expert who wants the weekly digest of open needs that fit their fields and regions."""

    __tablename__ = "project_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    created_at: datetime = Field(default_factory=utcnow)


def subscribe_projects(*, session: Session, user_id: int) -> bool:
    """True when newly subscribed, False when already."""
    if is_project_subscriber(session=session, user_id=user_id):
        return False
    session.add(ProjectSubscription(user_id=user_id))
    session.commit()
    return True


def unsubscribe_projects(*, session: Session, user_id: int) -> bool:
    row = session.exec(
        select(ProjectSubscription).where(ProjectSubscription.user_id == user_id)
    ).first()
    if row is None:
        return False
    session.delete(row)
    session.commit()
    return True


def is_project_subscriber(*, session: Session, user_id: int) -> bool:
    stmt = select(ProjectSubscription.id).where(ProjectSubscription.user_id == user_id)
    return session.exec(stmt).first() is not None


def project_subscriber_ids(*, session: Session) -> list[int]:
    stmt = select(ProjectSubscription.user_id).order_by(col(ProjectSubscription.user_id))
    return list(session.exec(stmt).all())


def digested(*, session: Session, key: str) -> set[int]:
    """People who already got the digest *key* (this week's)."""
    stmt = select(PushLog.user_id).where(PushLog.article_id == key)
    return set(session.exec(stmt).all())


def digest_key(at: datetime) -> str:
    """The push_log article id of the digest of *at*'s ISO week (one per person per week)."""
    year, week, _ = at.isocalendar()
    return f"{DIGEST_PREFIX}{year}-W{week:02d}"
