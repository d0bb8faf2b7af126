"""Conversation state: a small JSON record per (channel, user), saved after every turn."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, insert, update
from sqlmodel import Field, Session, SQLModel, select

from store.clock import utcnow


class ConversationState(SQLModel, table=True):
    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_conv_channel_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


def load_state(*, session: Session, channel: str, external_id: str) -> dict[str, Any]:
    """The saved state, or an empty dict for a new conversation."""
    stmt = select(ConversationState.data).where(
        ConversationState.channel == channel, ConversationState.external_id == external_id
    )
    data = session.exec(stmt).first()
    return dict(data) if data else {}


def save_state(*, session: Session, channel: str, external_id: str, data: dict[str, Any]) -> None:
    """Replace the saved state (an empty dict clears it) and commit.

    One UPDATE (an INSERT the first time), not a read and a write: this runs every turn.
    """
    table = ConversationState.__table__  # type: ignore[attr-defined]
    values = {"data": dict(data), "updated_at": utcnow()}
    done = session.execute(
        update(table)
        .where(table.c.channel == channel, table.c.external_id == external_id)
        .values(**values)
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(table).values(channel=channel, external_id=external_id, **values))
    session.commit()
