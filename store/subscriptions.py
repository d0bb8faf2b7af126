"""Subscriptions to 科普 topics (crops, categories or keywords), per user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, delete, select

from store.clock import utcnow
from store.validation import clean_text


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "topic", name="uq_subscription_user_topic"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    topic: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


def subscribe(*, session: Session, user_id: int, topics: list[str]) -> list[str]:
    """Add topics (duplicates ignored); return all topics of the user."""
    have = set(topics_of(session=session, user_id=user_id))
    for raw in topics:
        topic = clean_text(raw, field="topic", max_len=32)
        if topic not in have:
            session.add(Subscription(user_id=user_id, topic=topic))
            have.add(topic)
    session.commit()
    return topics_of(session=session, user_id=user_id)


def unsubscribe(*, session: Session, user_id: int, topics: list[str] | None = None) -> int:
    """Remove some topics, or all with ``topics=None``; return how many were removed."""
    stmt = delete(Subscription).where(col(Subscription.user_id) == user_id)
    if topics is not None:
        stmt = stmt.where(col(Subscription.topic).in_(topics))
    result = session.execute(stmt)
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def topics_of(*, session: Session, user_id: int) -> list[str]:
    stmt = (
        select(Subscription.topic)
        .where(Subscription.user_id == user_id)
        .order_by(col(Subscription.id))
    )
    return list(session.exec(stmt).all())


def subscriber_ids(*, session: Session, after: int = 0, limit: int = 1000) -> list[int]:
    """Ids of people with at least one subscription, above *after*, ascending (paging)."""
    stmt = (
        select(Subscription.user_id)
        .where(col(Subscription.user_id) > after)
        .distinct()
        .order_by(col(Subscription.user_id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def topics_by_user(*, session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    """Each person's topics, in the order they subscribed."""
    out: dict[int, list[str]] = {}
    stmt = (
        select(Subscription.user_id, Subscription.topic)
        .where(col(Subscription.user_id).in_(user_ids))
        .order_by(col(Subscription.id))
    )
    for uid, topic in session.exec(stmt).all():
        out.setdefault(uid, []).append(topic)
    return out
