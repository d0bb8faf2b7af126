"""What the WeChat channel keeps per person and per account.

A WeChat Official Account may message a person through the customer-service API only for
48 hours after that person's last message, and only a few times (5) in that window. The
peer row records when they last wrote and how many messages went out since, the numbered
choices they were last offered ("回复 1 确认") and the order the last notice was about. The
access token row is shared by every process of the account (WeChat invalidates the old
token when anyone fetches a new one, so processes must not each fetch their own).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, delete, update
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import as_utc, utcnow
from store.outbox import OutboxMessage, claim

CHANNEL = "wechat"


class WechatPeer(SQLModel, table=True):
    __tablename__ = "wechat_peers"

    id: int | None = Field(default=None, primary_key=True)
    openid: str = Field(max_length=64, unique=True)
    last_in_at: datetime | None = None  # the person's last message (opens the window)
    sent_in_window: int = 0  # customer-service messages sent since then
    # the numbered choices offered since the person last wrote: [{"label", "action"}]
    choices: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    ref: str = Field(default="", max_length=64)  # what the last notice was about
    updated_at: datetime = Field(default_factory=utcnow)


class WechatToken(SQLModel, table=True):
    __tablename__ = "wechat_tokens"

    app_id: str = Field(primary_key=True, max_length=64)
    token: str = Field(max_length=512)
    expires_at: datetime


def _peer(session: Session, openid: str) -> WechatPeer | None:
    return session.exec(select(WechatPeer).where(WechatPeer.openid == openid)).first()


def peer(*, session: Session, openid: str) -> WechatPeer | None:
    """The person's delivery record, or None before they ever wrote."""
    return _peer(session, openid)


def note_inbound(
    *, session: Session, openid: str, at: datetime
) -> tuple[list[dict[str, str]], str]:
    """The person wrote at *at*: a new window opens. Returns the choices they had been
    offered and the ref of the last notice (both consumed: they answer this message only)."""
    row = _peer(session, openid)
    if row is None:
        row = WechatPeer(openid=openid)
    offered, ref = list(row.choices), row.ref
    row.last_in_at, row.sent_in_window, row.choices, row.ref = at, 0, [], ""
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return offered, ref


def window_left(
    *, session: Session, openid: str, now: datetime, window: timedelta, limit: int
) -> int:
    """How many customer-service messages may still go to the person now (0: wait for
    them to write)."""
    row = _peer(session, openid)
    if row is None or row.last_in_at is None or as_utc(row.last_in_at) + window <= now:
        return 0
    return max(0, limit - row.sent_in_window)


def offered(*, session: Session, openid: str) -> int:
    """How many choices are numbered already (the next message continues the numbering)."""
    row = _peer(session, openid)
    return len(row.choices) if row is not None else 0


def note_sent(
    *,
    session: Session,
    openid: str,
    messages: int,
    choices: list[dict[str, str]],
    ref: str = "",
) -> None:
    """*messages* customer-service messages went out (0 for a passive reply), offering
    *choices* after those already offered; *ref* is what they were about, if anything."""
    row = _peer(session, openid)
    if row is None:
        if not (messages or choices or ref):
            return  # nothing to remember (e.g. the goodbye of someone just forgotten)
        row = WechatPeer(openid=openid)
    row.sent_in_window += messages
    row.choices = [*row.choices, *choices]
    if ref:
        row.ref = ref
    row.updated_at = utcnow()
    session.add(row)
    session.commit()


def close_window(*, session: Session, openid: str, limit: int) -> None:
    """WeChat refused a message as out of the window: send nothing more until they write."""
    session.execute(
        update(WechatPeer).where(col(WechatPeer.openid) == openid).values(sent_in_window=limit)
    )
    session.commit()


# a chat whose person's window is open: they wrote within it, and it has messages left
_IN_WINDOW = (
    "EXISTS (SELECT 1 FROM wechat_peers p WHERE p.openid = h.external_id "
    "AND p.last_in_at > :window_opened AND p.sent_in_window < :window_messages)"
)


def claim_in_window(
    *,
    session: Session,
    worker: str,
    now: datetime,
    window: timedelta,
    limit_per_window: int,
    lease: float = 60.0,
    limit: int = 100,
) -> list[OutboxMessage]:
    """Claim, for sender *worker* under a lease (store.outbox.claim), the due WeChat messages
    of up to *limit* people whose window is open, oldest first: two senders never hold one
    person's messages at once. Messages to people outside their window wait, and do not hold
    up the others."""
    return claim(
        session=session,
        channel=CHANNEL,
        worker=worker,
        limit=limit,
        lease=lease,
        now=now,
        chats_where=_IN_WINDOW,
        chats_params={"window_opened": now - window, "window_messages": limit_per_window},
    )


def cached_token(*, session: Session, app_id: str, now: datetime, margin: timedelta) -> str:
    """The account's access token if it is valid for at least *margin* more; else ""."""
    row = session.get(WechatToken, app_id)
    if row is None or as_utc(row.expires_at) - margin <= now:
        return ""
    return row.token


def save_token(*, session: Session, app_id: str, token: str, expires_at: datetime) -> None:
    row = session.get(WechatToken, app_id) or WechatToken(
        app_id=app_id, token=token, expires_at=expires_at
    )
    row.token, row.expires_at = token, expires_at
    session.add(row)
    session.commit()


def drop_token(*, session: Session, app_id: str, token: str) -> None:
    """WeChat called *token* invalid: forget it (unless another process replaced it)."""
    session.execute(
        delete(WechatToken).where(
            col(WechatToken.app_id) == app_id, col(WechatToken.token) == token
        )
    )
    session.commit()


def export_peer(*, session: Session, openid: str) -> dict[str, Any] | None:
    """The person's WeChat delivery record for /mydata."""
    row = _peer(session, openid)
    if row is None:
        return None
    return {
        "last_message_at": row.last_in_at.isoformat() if row.last_in_at else None,
        "messages_since": row.sent_in_window,
        "choices": row.choices,
    }


def forget_peer(*, session: Session, openid: str) -> None:
    """Remove the person's WeChat delivery record (part of /delete_me; not committed)."""
    session.execute(delete(WechatPeer).where(col(WechatPeer.openid) == openid))
