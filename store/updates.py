"""Updates a channel delivered, recorded once: a redelivered update (Telegram's retry,
WeChat's three tries of one MsgId) finds its row and is not handled a second time.

The row is claimed before the update is handled (``running``) and finished with what was
answered (``done``), so a retry of a finished update can be given the same answer, across
processes (the unique (channel, key) pair decides who handles it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import utcnow

RUNNING, DONE = "running", "done"


class HandledUpdate(SQLModel, table=True):
    __tablename__ = "handled_updates"
    __table_args__ = (UniqueConstraint("channel", "key", name="uq_handled_updates_channel_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    key: str = Field(max_length=128)
    status: str = Field(default=RUNNING, max_length=16)
    # what the channel was answered (e.g. a WeChat passive reply's text); "" for nothing
    result: str = ""
    created_at: datetime = Field(default_factory=utcnow, index=True)


def claim_update(*, session: Session, channel: str, key: str) -> bool:
    """Record that this update is being handled; False when it was seen before."""
    session.add(HandledUpdate(channel=channel, key=key[:128]))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def finish_update(*, session: Session, channel: str, key: str, result: str = "") -> None:
    """The update was handled and answered with *result*."""
    session.execute(
        update(HandledUpdate)
        .where(col(HandledUpdate.channel) == channel, col(HandledUpdate.key) == key[:128])
        .values(status=DONE, result=result)
    )
    session.commit()


def handled_update(*, session: Session, channel: str, key: str) -> HandledUpdate | None:
    """The record of an update seen before, or None."""
    stmt = select(HandledUpdate).where(
        HandledUpdate.channel == channel, HandledUpdate.key == key[:128]
    )
    return session.exec(stmt).first()


def prune_updates(*, session: Session, channel: str, before: datetime) -> int:
    """Forget the channel's updates recorded before *before* (no channel redelivers after
    a few minutes)."""
    result = session.execute(
        delete(HandledUpdate).where(
            col(HandledUpdate.channel) == channel, col(HandledUpdate.created_at) < before
        )
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
