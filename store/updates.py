"""Which channel updates were handled: one unique row per (channel, update id).

The row is written in the same transaction as the turn's outbox rows (its replies and its
messages for others), so an update redelivered after a crash - Telegram retrying a webhook,
or a Redis Stream entry claimed from a dead worker - finds its row and is a no-op: no second
reply, no second need. Rows older than the retention are pruned by the scheduler.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, delete
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import utcnow


class HandledUpdate(SQLModel, table=True):
    __tablename__ = "handled_updates"
    __table_args__ = (UniqueConstraint("channel", "update_id", name="uq_handled_update"),)

    id: int | None = Field(default=None, primary_key=True)  # the order updates were handled in
    channel: str = Field(max_length=32)
    update_id: str = Field(max_length=64)
    chat_id: str = Field(default="", max_length=64)
    handled_at: datetime = Field(default_factory=utcnow, index=True)


def was_handled(*, session: Session, channel: str, update_id: str) -> bool:
    stmt = select(HandledUpdate.id).where(
        HandledUpdate.channel == channel, HandledUpdate.update_id == update_id
    )
    return session.exec(stmt).first() is not None


def add_handled(*, session: Session, channel: str, update_id: str, chat_id: str = "") -> None:
    """Add the row to the caller's transaction (not committed here: the caller commits it with
    the turn's outbox rows; a second handling of the same update fails on the unique key)."""
    session.add(HandledUpdate(channel=channel, update_id=update_id, chat_id=chat_id))


def handled_order(*, session: Session, channel: str) -> list[tuple[str, str]]:
    """(chat id, update id) in the order the updates were handled (benchmarks check that one
    chat's updates were handled in the order they arrived)."""
    stmt = (
        select(HandledUpdate.chat_id, HandledUpdate.update_id)
        .where(HandledUpdate.channel == channel)
        .order_by(col(HandledUpdate.id))
    )
    return [(chat, update) for chat, update in session.exec(stmt).all()]


def prune_handled(*, session: Session, before: datetime) -> int:
    """Forget updates handled before *before* (no channel redelivers that late)."""
    result = session.execute(delete(HandledUpdate).where(col(HandledUpdate.handled_at) < before))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
