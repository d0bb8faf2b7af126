"""One order move: a conditional ``UPDATE ... WHERE id = :id AND status IN (:allowed)`` and
its event in one transaction, and a refusal that says why when no row moved (not found,
illegal from its status, already taken, or not a party)."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import update
from sqlmodel import Session, col

from store.clock import utcnow
from store.errors import NotFound, StoreError
from store.lifecycle import (
    TRANSITIONS,
    UNMET_STATUSES,
    Action,
    AlreadyTaken,
    InvalidTransition,
    NotPermitted,
    OrderStatus,
)
from store.lifecycle import OrderStatus as S
from store.needs import Need
from store.order_tables import Order, OrderEvent
from store.rollups import tracking


def record_event(
    session: Session,
    order_id: int,
    actor_id: int | None,
    action: Action,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    note: str,
    at: datetime,
) -> None:
    session.add(
        OrderEvent(
            order_id=order_id,
            actor_id=actor_id,
            action=action.value,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value,
            note=note[:2000],
            at=at,
        )
    )


# ids are INTEGER columns: a larger number names no row (and must not reach the database)
MAX_ORDER_ID = 2**31 - 1


def find_order(session: Session, order_id: int) -> Order:
    if not 1 <= order_id <= MAX_ORDER_ID:
        raise NotFound("order", order_id)
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", order_id)
    return order


def transition(
    session: Session,
    order_id: int,
    action: Action,
    *,
    actor_id: int | None,
    note: str = "",
    now: datetime | None = None,
    values: dict[str, Any] | None = None,
    need_values: dict[str, Any] | None = None,
    where: tuple[Any, ...] = (),
    party: str = "",
) -> Order:
    """Apply *action* with one conditional UPDATE; write the event in the same transaction.

    Returns the order as it is after the move. When the UPDATE touches no row the order is
    read back to say why: not found, illegal from its status, or *where* excluded the actor.
    *party* ("requester_id" or "expert_id") names the column the actor must be in: anybody
    else is refused as not a party before anything about the order's state is told.
    """
    allowed, target = TRANSITIONS[action]
    now = now or utcnow()
    values = values or {}
    current = find_order(session, order_id)
    if party and getattr(current, party) != actor_id:
        raise NotPermitted(order_id, action, actor_id, "not a party to this order")
    from_status = OrderStatus(current.status)
    # an expert's accepted orders make the active-experts rollup: the holder before and after
    holders = (current.expert_id, values.get("expert_id")) if "accepted_at" in values else ()
    session.expire(current)
    stmt = (
        update(Order)
        .where(col(Order.id) == order_id, col(Order.status).in_([s.value for s in allowed]))
        .where(*where)
        .values(status=target.value, updated_at=now, **values)
    )
    need_update = (
        update(Need)
        .where(col(Need.id) == current.need_id)
        .values(status=target.value, **(need_values or {}))
    )
    moves = moves_rollups(action, need_values) or bool(holders)
    try:
        # the indicator rollups, in this transaction
        with tracking(session, current.requester_id, *holders) if moves else nullcontext():
            result = session.execute(stmt)
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                explain_refusal(session, order_id, action, actor_id, allowed)
            session.execute(need_update)
        if from_status not in allowed and len(allowed) == 1:
            # The row moved between our read and the UPDATE; it can only have been this.
            from_status = next(iter(allowed))
        record_event(session, order_id, actor_id, action, from_status, target, note, now)
        session.commit()
    except StoreError:
        raise
    except Exception:
        session.rollback()
        raise
    order = session.get(Order, order_id)
    assert order is not None
    session.refresh(order)
    return order


def moves_rollups(action: Action, need_values: dict[str, Any] | None) -> bool:
    """Whether a move can change an indicator rollup: it sets need columns the rollups read,
    or it may take the need into or out of the unmet statuses (not so matching, re-matching,
    expiring or consenting)."""
    allowed, target = TRANSITIONS[action]
    unmet = {s in UNMET_STATUSES for s in (*allowed, target)}
    return bool(need_values) or len(unmet) > 1


def explain_refusal(
    session: Session,
    order_id: int,
    action: Action,
    actor_id: int | None,
    allowed: frozenset[OrderStatus],
) -> NoReturn:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", order_id)
    session.refresh(order)
    status = OrderStatus(order.status)
    if status not in allowed:
        if action == Action.ACCEPT and status != S.CANCELLED and order.expert_id != actor_id:
            raise AlreadyTaken(order_id, action, status)
        raise InvalidTransition(order_id, action, status)
    raise NotPermitted(order_id, action, actor_id, "not a party to this order")
