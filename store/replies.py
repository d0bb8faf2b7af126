"""Replies held for the request that is waiting for them (issue 17: HTTP channels via Redis).

With REDIS_URL a web chat or WeChat request is answered by a ``tianfu worker``: the worker
commits the turn's replies as outbox rows together with the update's handled row, whose
``result`` lists the rows' ids. The rows are *reserved* until a deadline the request chose
(``next_attempt_at``): until then no sender takes them (senders only take due rows), and the
waiting request may take them with one conditional UPDATE. After the deadline they are
ordinary due rows and the channel's sender delivers them. A row thus goes out exactly once:
through the request's answer, or through the sender, never both.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.clock import utcnow
from store.outbox import BlockedChat, OutboxMessage
from store.updates import DONE, HandledUpdate, handled_update


def record_replies(
    *,
    session: Session,
    channel: str,
    update_id: str,
    chat_id: str,
    rows: list[dict[str, Any]],
    until: datetime,
) -> list[int]:
    """Add the turn's reply rows (reserved until *until*) and the update's handled row that
    names them to the caller's transaction (not committed: the caller commits both with the
    turn's messages for others). Returns the rows' ids."""
    blocked = session.exec(
        select(BlockedChat.id).where(
            BlockedChat.channel == channel, BlockedChat.external_id == chat_id
        )
    ).first()
    now = utcnow()
    added = []
    for values in rows:
        row = OutboxMessage(
            **{"kind": "reply", **values},
            created_at=now,
            next_attempt_at=max(until, now),
        )
        if blocked is not None:
            row.status, row.error = "blocked", "recipient blocked the bot earlier"
        session.add(row)
        added.append(row)
    session.flush()
    ids = [row.id or 0 for row in added]
    session.add(
        HandledUpdate(
            channel=channel,
            update_id=update_id[:64],
            chat_id=chat_id[:64],
            status=DONE,
            result=json.dumps(ids),
        )
    )
    return ids


def reply_ids(*, session: Session, channel: str, update_id: str) -> list[int] | None:
    """The reply rows of a handled update (None: not handled yet)."""
    row = handled_update(session=session, channel=channel, update_id=update_id)
    if row is None or row.status != DONE:
        return None
    try:
        ids = json.loads(row.result or "[]")
    except ValueError:
        return []
    return [int(i) for i in ids] if isinstance(ids, list) else []


def held_replies(
    *, session: Session, ids: list[int], now: datetime | None = None
) -> list[OutboxMessage]:
    """The rows of *ids* still reserved for the waiting request, in order."""
    if not ids:
        return []
    stmt = (
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), OutboxMessage.status == "pending")
        .where(col(OutboxMessage.next_attempt_at) > (now or utcnow()))
        .where(OutboxMessage.attempts == 0)
        .order_by(col(OutboxMessage.id))
    )
    return list(session.exec(stmt).all())


def take_replies(
    *,
    session: Session,
    ids: list[int],
    cut: tuple[int, str, str] | None = None,
    now: datetime | None = None,
) -> bool:
    """Take the still-reserved rows of *ids* for the request's answer (marked sent), and with
    *cut* ``(row id, its text, the rest)`` shorten a row the answer ended inside - all or
    nothing, in one transaction of conditional UPDATEs: of two requests racing for the same
    rows (a WeChat retry) only one wins, and never a row a sender may hold (it is not due)."""
    now = now or utcnow()
    reserved = (
        col(OutboxMessage.status) == "pending",
        col(OutboxMessage.next_attempt_at) > now,
        col(OutboxMessage.attempts) == 0,
    )
    won = True
    if ids:
        result = session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids), *reserved)
            .values(status="sent", sent_at=now, claimed_until=None)
        )
        won = int(result.rowcount or 0) == len(set(ids))  # type: ignore[attr-defined]
    if won and cut is not None:
        row_id, before, rest = cut
        result = session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.text) == before, *reserved)
            .values(text=rest)
        )
        won = int(result.rowcount or 0) == 1  # type: ignore[attr-defined]
    if won:
        session.commit()
    else:
        session.rollback()
    return won


def release_replies(
    *,
    session: Session,
    ids: list[int],
    now: datetime | None = None,
    text: dict[int, str] | None = None,
) -> int:
    """Hand the still-reserved rows of *ids* to the sender at once (the request answered
    with part of them); *text* replaces a row's text (the rest of a reply cut short)."""
    if not ids:
        return 0
    now = now or utcnow()
    released = 0
    for row_id in ids:
        values: dict[str, Any] = {"next_attempt_at": now}
        if text and row_id in text:
            values["text"] = text[row_id]
        result = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == row_id,
                col(OutboxMessage.status) == "pending",
                col(OutboxMessage.next_attempt_at) > now,
            )
            .values(**values)
        )
        released += int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.commit()
    return released
