"""Conversation state: a small JSON record per (channel, user), saved after every turn."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, bindparam, insert, select, update
from sqlmodel import Field, Session, SQLModel

from store.clock import utcnow
from store.prepared import Prepared
from store.users import User


class ConversationState(SQLModel, table=True):
    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_conv_channel_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


# Core statements on the table (one column read, one UPDATE), no ORM object loaded and
# flushed; the writes, which run on every turn, on the DBAPI cursor (store.prepared).
_TABLE = ConversationState.__table__  # type: ignore[attr-defined]
_WHO = (
    _TABLE.c.channel == bindparam("b_channel"),
    _TABLE.c.external_id == bindparam("b_external_id"),
)
_LOAD = select(_TABLE.c.data).where(*_WHO)
_SAVE = Prepared(
    update(_TABLE).where(*_WHO).values(data=bindparam("data"), updated_at=bindparam("updated_at"))
)
_INSERT = Prepared(insert(_TABLE))
# the person writing from their home address and their saved state, in one statement: the
# two reads every turn starts with
_USERS = User.__table__  # type: ignore[attr-defined]
_USER_AND_STATE = (
    select(User, _TABLE.c.data)
    .outerjoin(
        _TABLE,
        (_TABLE.c.channel == _USERS.c.channel) & (_TABLE.c.external_id == _USERS.c.external_id),
    )
    .where(_USERS.c.channel == bindparam("b_channel"))
    .where(_USERS.c.external_id == bindparam("b_external_id"))
)


def load_state(*, session: Session, channel: str, external_id: str) -> dict[str, Any]:
    """The saved state, or an empty dict for a new conversation."""
    return saved_state(session=session, channel=channel, external_id=external_id) or {}


def saved_state(*, session: Session, channel: str, external_id: str) -> dict[str, Any] | None:
    """The saved state, or None when no state row exists (:func:`save_state` may then
    insert it at once)."""
    params = {"b_channel": channel, "b_external_id": external_id}
    row = session.execute(_LOAD, params).first()
    return None if row is None else dict(row[0] or {})


def user_and_state(
    *, session: Session, channel: str, external_id: str
) -> tuple[User | None, dict[str, Any] | None]:
    """The person whose home address is (*channel*, *external_id*) and their saved state
    (None when no state row exists), read in one statement; (None, None) when nobody has
    this home address (a new person, or a linked identity: :func:`store.users.
    get_or_create_user` resolves those)."""
    params = {"b_channel": channel, "b_external_id": external_id}
    row = session.execute(_USER_AND_STATE, params).first()
    if row is None:
        return None, None
    user, data = row
    return user, (dict(data) if data is not None else None)


def save_state(
    *,
    session: Session,
    channel: str,
    external_id: str,
    data: dict[str, Any],
    commit: bool = True,
    new: bool = False,
) -> None:
    """Replace the saved state (an empty dict clears it); commit unless *commit* is False
    (a transport's turn commits it once, with the rest of what the turn wrote).

    One UPDATE (an INSERT the first time), not a read and a write: this runs every turn.
    With *new* (this turn's read found no state row) the INSERT is tried at once.
    """
    values = {"data": dict(data), "updated_at": utcnow()}
    who = {"b_channel": channel, "b_external_id": external_id}
    if new or _SAVE.execute(session, {**who, **values}) == 0:
        _INSERT.execute(session, {"channel": channel, "external_id": external_id, **values})
    if commit:
        session.commit()
