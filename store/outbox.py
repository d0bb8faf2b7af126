"""The outbound message queue: persisted so that a restart resumes it and nothing is dropped
silently. Each row ends sent, failed (with the error) or blocked (the user blocked the bot).

Any number of senders may deliver from it at once: :func:`claim` hands a sender whole chats
(every pending row of a chat, so one chat's messages leave in order from one sender) under a
lease (claimed_by, claimed_until). On PostgreSQL the chats' first rows are taken with
``FOR UPDATE SKIP LOCKED``, so two senders claiming at the same moment skip each other's
chats instead of waiting; SQLite runs the claim as one UPDATE under its single writer lock.
A sender that dies leaves its claims to expire; another then sends those rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, bindparam, insert, text, update
from sqlalchemy import select as core_select
from sqlmodel import Field, Session, SQLModel, col, func, select

from store.clock import utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
        # the claim looks up the first pending row of each chat
        Index("ix_outbox_chat_pending", "channel", "external_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=64)
    text: str
    buttons: list[list[dict[str, str]]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    kind: str = Field(default="notice", max_length=32)
    ref: str = Field(default="", max_length=64)
    # stored media ids (store.media) shown with the text; NULL for none (photos, issue 16)
    media: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # pending / sent / failed / blocked / dropped (no longer wanted, e.g. after /stop)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # which sender holds this row, and until when (claim); expired claims are free again
    claimed_by: str = Field(default="", max_length=64)
    claimed_until: datetime | None = None


class BlockedChat(SQLModel, table=True):
    """A chat that refused our messages (Telegram 403): nothing more is sent to it."""

    __tablename__ = "blocked_chats"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32, index=True)
    external_id: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow)


def enqueue(
    *,
    session: Session,
    channel: str,
    external_id: str,
    text: str,
    buttons: list[list[dict[str, str]]] | None = None,
    kind: str = "notice",
    ref: str = "",
    media: list[int] | None = None,
) -> OutboxMessage:
    row = OutboxMessage(
        channel=channel,
        external_id=external_id,
        text=text,
        buttons=buttons or [],
        kind=kind,
        ref=ref,
        media=list(media) if media else None,
    )
    if is_blocked(session=session, channel=channel, external_id=external_id):
        row.status, row.error = "blocked", "recipient blocked the bot earlier"
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def enqueue_many(*, session: Session, messages: list[dict[str, Any]], commit: bool = True) -> int:
    """Queue several messages in one transaction (keys as for :func:`enqueue`; one
    multi-row INSERT, so a push round of many thousands is queued in seconds).

    With ``commit=False`` the rows join the caller's transaction (a turn's replies are
    committed together with the record that the update was handled)."""
    if not messages:
        return 0
    blocked = {
        (channel, ext)
        for channel, ext in session.exec(
            select(BlockedChat.channel, BlockedChat.external_id)
        ).all()
    }
    now = utcnow()
    rows = []
    for msg in messages:
        row = {
            "buttons": [],
            "kind": "notice",
            "ref": "",
            "media": None,
            "status": "pending",
            "attempts": 0,
            "error": "",
            "created_at": now,
            "next_attempt_at": now,
            **msg,
        }
        if (row["channel"], row["external_id"]) in blocked:
            row["status"], row["error"] = "blocked", "recipient blocked the bot earlier"
        rows.append(row)
    session.execute(insert(OutboxMessage), rows)
    if commit:
        session.commit()
    return len(rows)


def drop_pending(
    *, session: Session, channel: str, external_id: str, kind: str, reason: str
) -> int:
    """Withdraw the pending messages of one kind for one person; return how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.channel) == channel,
            col(OutboxMessage.external_id) == external_id,
            col(OutboxMessage.kind) == kind,
            col(OutboxMessage.status) == "pending",
        )
        .values(status="dropped", error=reason[:500])
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due(
    *, session: Session, channel: str, now: datetime | None = None, limit: int = 100
) -> list[OutboxMessage]:
    now = now or utcnow()
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.status == "pending")
        .where(col(OutboxMessage.next_attempt_at) <= now)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def pending_for(
    *, session: Session, channel: str, external_ids: list[str], limit: int = 200
) -> list[OutboxMessage]:
    """Pending messages of one channel for these recipients, oldest first: what a channel
    that delivers only to people connected right now (the web chat's event streams) sends."""
    if not external_ids:
        return []
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.status == "pending")
        .where(col(OutboxMessage.external_id).in_(external_ids))
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


# The chats a sender may take: their first pending row is due and free (unclaimed, expired,
# or already this sender's). Whole chats are claimed so that one chat's rows keep their order.
_FREE_CHATS = """
SELECT h.external_id FROM outbox h
WHERE h.channel = :channel AND h.status = 'pending' AND h.next_attempt_at <= :now
  AND (h.claimed_until IS NULL OR h.claimed_until < :now OR h.claimed_by = :worker)
  AND h.id = (SELECT min(f.id) FROM outbox f WHERE f.channel = h.channel
              AND f.external_id = h.external_id AND f.status = 'pending'){more}
ORDER BY h.id LIMIT :limit
"""
_CLAIM = """
UPDATE outbox SET claimed_by = :worker, claimed_until = :until
WHERE channel = :channel AND status = 'pending' AND next_attempt_at <= :now
  AND external_id IN ({chats})
RETURNING {returning}
"""


def claim(
    *,
    session: Session,
    channel: str,
    worker: str,
    limit: int = 100,
    lease: float = 60.0,
    now: datetime | None = None,
    chats_where: str = "",
    chats_params: dict[str, Any] | None = None,
    sent: list[int] | None = None,
) -> list[OutboxMessage]:
    """Claim the due rows of up to *limit* chats of *channel* for sender *worker* for *lease*
    seconds, and return them in order. Rows this sender already holds come back too.

    *chats_where*: a further SQL condition a chat must meet, on its first pending row ``h``
    (a channel's own rules, e.g. WeChat's window), with its *chats_params*.
    *sent*: rows this sender delivered since its last claim, recorded as sent (at *now*) in
    the same transaction, before claiming, so that they cannot come back.

    One transaction; on PostgreSQL the chats are locked (skipping chats another sender is
    claiming right now), claimed and returned by one statement. Every status change through
    :func:`mark` releases the claim.
    """
    now = now or utcnow()
    more = chats_params or {}
    params = {
        "channel": channel,
        "worker": worker[:64],
        "now": now,
        "until": now + timedelta(seconds=lease),
        "limit": limit,
        **more,
    }
    times = [bindparam(k, type_=DateTime) for k, v in more.items() if isinstance(v, datetime)]
    types = (bindparam("now", type_=DateTime), bindparam("until", type_=DateTime), *times)
    free = _FREE_CHATS.format(more=f"\n  AND ({chats_where})" if chats_where else "")
    if sent:
        _mark_sent(session, sent, now)
    columns = ", ".join(c.name for c in OutboxMessage.__table__.columns)  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        # the chats' first rows locked until the claim commits; chosen once (a CTE: a
        # subquery with LIMIT under IN may be evaluated again as the UPDATE goes)
        sql = f"WITH heads AS MATERIALIZED ({free} FOR UPDATE OF h SKIP LOCKED) " + _CLAIM.format(
            chats="SELECT external_id FROM heads", returning=columns
        )
    else:  # one statement under SQLite's writer lock: nobody claims in between
        sql = _CLAIM.format(chats=free, returning=columns)
    stmt = text(sql).bindparams(*types)
    rows = list(session.scalars(select(OutboxMessage).from_statement(stmt), params).all())
    for row in rows:
        session.expunge(row)  # loaded as claimed: not expired by the commit
    session.commit()
    return sorted(rows, key=lambda r: r.id or 0)


def release_claims(*, session: Session, channel: str, worker: str) -> int:
    """Free the pending rows *worker* still holds (a sender stopping cleanly)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.channel) == channel,
            col(OutboxMessage.claimed_by) == worker[:64],
            col(OutboxMessage.status) == "pending",
        )
        .values(claimed_until=None)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def backlog(*, session: Session, channel: str | None = None) -> int:
    """Pending rows (due or not), of one channel or all: the metrics' outbox backlog."""
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    if channel is not None:
        stmt = stmt.where(OutboxMessage.channel == channel)
    return int(session.exec(stmt).one())


def mark(*, session: Session, message_id: int, **values: Any) -> None:
    """Set *values* on one row and release its claim (a retried row is free for any sender
    once due)."""
    values.setdefault("claimed_until", None)
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
    )
    session.commit()


def mark_sent(*, session: Session, message_ids: list[int], at: datetime) -> int:
    """Record a sender's delivered rows as sent at *at* and release their claims: one UPDATE
    for a whole pass, not one per message. Returns the number of rows changed."""
    if not message_ids:
        return 0
    done = _mark_sent(session, message_ids, at)
    session.commit()
    return done


def _mark_sent(session: Session, message_ids: list[int], at: datetime) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids))
        .values(status="sent", sent_at=at, claimed_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retry_later(*, session: Session, row: OutboxMessage, error: str, max_attempts: int = 5) -> str:
    """Back off exponentially; give up (failed) after *max_attempts*. Returns the new status."""
    attempts = row.attempts + 1
    if attempts >= max_attempts:
        mark(
            session=session,
            message_id=row.id or 0,
            status="failed",
            attempts=attempts,
            error=error[:500],
        )
        return "failed"
    delay = timedelta(seconds=min(300, 2**attempts))
    mark(
        session=session,
        message_id=row.id or 0,
        attempts=attempts,
        error=error[:500],
        next_attempt_at=utcnow() + delay,
    )
    return "pending"


def block(*, session: Session, channel: str, external_id: str) -> None:
    if not is_blocked(session=session, channel=channel, external_id=external_id):
        session.add(BlockedChat(channel=channel, external_id=external_id))
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.channel) == channel,
            col(OutboxMessage.external_id) == external_id,
            col(OutboxMessage.status) == "pending",
        )
        .values(status="blocked", error="recipient blocked the bot")
    )
    session.commit()


def unblock(*, session: Session, channel: str, external_id: str) -> None:
    for row in session.exec(
        select(BlockedChat).where(
            BlockedChat.channel == channel, BlockedChat.external_id == external_id
        )
    ).all():
        session.delete(row)
    session.commit()


# built once: asked on every incoming message (a person who writes again has unblocked us)
_BLOCKED = BlockedChat.__table__  # type: ignore[attr-defined]
BLOCKED_ROW = (  # store.updates asks it together with its own question
    core_select(_BLOCKED.c.id)
    .where(
        _BLOCKED.c.channel == bindparam("b_channel"),
        _BLOCKED.c.external_id == bindparam("b_external_id"),
    )
    .limit(1)
)


def is_blocked(*, session: Session, channel: str, external_id: str) -> bool:
    params = {"b_channel": channel, "b_external_id": external_id}
    return session.execute(BLOCKED_ROW, params).first() is not None
