"""Conversation state: a small JSON record per (channel, user), saved after every turn."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, bindparam, insert, select, update
from sqlmodel import Field, Session, SQLModel

from store.clock import utcnow


class ConversationState(SQLModel, table=True):
    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_conv_channel_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


# Core statements on the table (one column read, one UPDATE), no ORM object loaded and
# flushed: both run on every turn; the read is built once.
_TABLE = ConversationState.__table__  # type: ignore[attr-defined]
_WHO = (
    _TABLE.c.channel == bindparam("b_channel"),
    _TABLE.c.external_id == bindparam("b_external_id"),
)
_LOAD = select(_TABLE.c.data).where(*_WHO)
_SAVE = (
    update(_TABLE).where(*_WHO).values(data=bindparam("data"), updated_at=bindparam("updated_at"))
)
_INSERT = insert(_TABLE)


def load_state(*, session: Session, channel: str, external_id: str) -> dict[str, Any]:
    """The saved state, or an empty dict for a new conversation."""
    params = {"b_channel": channel, "b_external_id": external_id}
    data = session.execute(_LOAD, params).scalar()
    return dict(data) if data else {}


def save_state(
    *,
    session: Session,
    channel: str,
    external_id: str,
    data: dict[str, Any],
    commit: bool = True,
) -> None:
    """Replace the saved state (an empty dict clears it); commit unless *commit* is False
    (a transport's turn commits it once, with the rest of what the turn wrote).

    One UPDATE (an INSERT the first time), not a read and a write: this runs every turn.
    """
    values = {"data": dict(data), "updated_at": utcnow()}
    done = session.execute(_SAVE, {"b_channel": channel, "b_external_id": external_id, **values})
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(_INSERT, {"channel": channel, "external_id": external_id, **values})
    if commit:
        session.commit()
