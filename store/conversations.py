"""Conversation state: a small JSON record per (channel, user), saved after every turn."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
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
    stmt = select(ConversationState).where(
        ConversationState.channel == channel, ConversationState.external_id == external_id
    )
    row = session.exec(stmt).first()
    return dict(row.data) if row else {}


def save_state(*, session: Session, channel: str, external_id: str, data: dict[str, Any]) -> None:
    """Replace the saved state (an empty dict clears it)."""
    stmt = select(ConversationState).where(
        ConversationState.channel == channel, ConversationState.external_id == external_id
    )
    row = session.exec(stmt).first()
    if row is None:
        row = ConversationState(channel=channel, external_id=external_id)
    row.data = dict(data)
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
