"""The outbound message queue: persisted so that a restart resumes it and nothing is dropped
silently. Each row ends sent, failed (with the error) or blocked (the user blocked the bot)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Index, insert, update
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import utcnow


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

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


def enqueue_many(*, session: Session, messages: list[dict[str, Any]]) -> int:
    """Queue several messages in one transaction (keys as for :func:`enqueue`; one
    multi-row INSERT, so a push round of many thousands is queued in seconds)."""
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


def mark(*, session: Session, message_id: int, **values: Any) -> None:
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
    )
    session.commit()


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


def is_blocked(*, session: Session, channel: str, external_id: str) -> bool:
    stmt = select(BlockedChat.id).where(
        BlockedChat.channel == channel, BlockedChat.external_id == external_id
    )
    return session.exec(stmt).first() is not None
