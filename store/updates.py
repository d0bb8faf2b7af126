"""Which channel updates were handled: one unique row per (channel, update id).

The row is written in the same transaction as the turn's outbox rows (its replies and its
messages for others), so an update redelivered after a crash - Telegram retrying a webhook,
or a Redis Stream entry claimed from a dead worker - finds its row and is a no-op: no second
reply, no second need. Rows older than the retention are pruned by the scheduler.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, bindparam, delete, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import utcnow
from store.outbox import BLOCKED_ROW
from store.prepared import Prepared

RUNNING, DONE = "running", "done"


class HandledUpdate(SQLModel, table=True):
    __tablename__ = "handled_updates"
    __table_args__ = (UniqueConstraint("channel", "update_id", name="uq_handled_update"),)

    id: int | None = Field(default=None, primary_key=True)  # the order updates were handled in
    channel: str = Field(max_length=32)
    update_id: str = Field(max_length=64)
    chat_id: str = Field(default="", max_length=64)
    handled_at: datetime = Field(default_factory=utcnow, index=True)
    # (issue 16) a channel that answers in the request (WeChat's passive reply) claims the row
    # first (running), then records the answer (done) so that a retry is given the same one
    status: str = Field(default=DONE, max_length=16)
    result: str = ""


# Built once and run on the DBAPI cursor (store.prepared): both run on every update.
_TABLE = HandledUpdate.__table__  # type: ignore[attr-defined]
_WAS_HANDLED = (
    core_select(_TABLE.c.id)
    .where(_TABLE.c.channel == bindparam("b_channel"), _TABLE.c.update_id == bindparam("b_id"))
    .limit(1)
)
_ADD_HANDLED = Prepared(insert(_TABLE))
# the two questions a channel asks of every update before its turn, in one statement
_HANDLED_BLOCKED = Prepared(
    core_select(_WAS_HANDLED.exists().label("handled"), BLOCKED_ROW.exists().label("blocked"))
)


def was_handled(*, session: Session, channel: str, update_id: str) -> bool:
    params = {"b_channel": channel, "b_id": update_id}
    return session.execute(_WAS_HANDLED, params).first() is not None


def handled_or_blocked(
    *, session: Session, channel: str, update_id: str, external_id: str
) -> tuple[bool, bool]:
    """Whether the update was handled before (:func:`was_handled`) and whether the person
    who sent it had blocked us (:func:`store.outbox.is_blocked`), read at once."""
    params = {"b_channel": channel, "b_id": update_id, "b_external_id": external_id}
    row = _HANDLED_BLOCKED.first(session, params)
    assert row is not None  # a SELECT of two EXISTS always has its row
    handled, blocked = row
    return bool(handled), bool(blocked)


def add_handled(*, session: Session, channel: str, update_id: str, chat_id: str = "") -> None:
    """Add the row to the caller's transaction (not committed here: the caller commits it with
    the turn's outbox rows).

    Raises:
        IntegrityError: the update was handled meanwhile (the unique key).
    """
    row = {"channel": channel, "update_id": update_id, "chat_id": chat_id}
    _ADD_HANDLED.execute(session, {**row, "handled_at": utcnow(), "status": DONE, "result": ""})


def handled_order(*, session: Session, channel: str) -> list[tuple[str, str]]:
    """(chat id, update id) in the order the updates were handled (benchmarks check that one
    chat's updates were handled in the order they arrived)."""
    stmt = (
        select(HandledUpdate.chat_id, HandledUpdate.update_id)
        .where(HandledUpdate.channel == channel)
        .order_by(col(HandledUpdate.id))
    )
    return [(chat, update) for chat, update in session.exec(stmt).all()]


def prune_handled(*, session: Session, before: datetime, channel: str | None = None) -> int:
    """Forget updates handled before *before* (no channel redelivers that late), of one
    channel or all."""
    stmt = delete(HandledUpdate).where(col(HandledUpdate.handled_at) < before)
    if channel is not None:
        stmt = stmt.where(col(HandledUpdate.channel) == channel)
    result = session.execute(stmt)
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---- answered in the request (issue 16: WeChat) ----------------------------------------------
def claim_update(*, session: Session, channel: str, update_id: str, chat_id: str = "") -> bool:
    """Record (committed) that this update is being handled; False when it was seen before
    (by this process or another)."""
    session.add(
        HandledUpdate(
            channel=channel, update_id=update_id[:64], chat_id=chat_id[:64], status=RUNNING
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def finish_update(*, session: Session, channel: str, update_id: str, result: str = "") -> None:
    """The claimed update was handled and answered with *result*."""
    session.execute(
        update(HandledUpdate)
        .where(
            col(HandledUpdate.channel) == channel,
            col(HandledUpdate.update_id) == update_id[:64],
        )
        .values(status=DONE, result=result)
    )
    session.commit()


def handled_update(*, session: Session, channel: str, update_id: str) -> HandledUpdate | None:
    """The record of an update seen before, or None."""
    stmt = select(HandledUpdate).where(
        HandledUpdate.channel == channel, HandledUpdate.update_id == update_id[:64]
    )
    return session.exec(stmt).first()


def forget_chat_updates(*, session: Session, channel: str, chat_id: str) -> None:
    """Remove one person's update records with the answers kept for retries (/delete_me;
    not committed)."""
    session.execute(
        delete(HandledUpdate).where(
            col(HandledUpdate.channel) == channel, col(HandledUpdate.chat_id) == chat_id
        )
    )
