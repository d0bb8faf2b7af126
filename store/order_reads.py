"""Reading orders: one order, its timeline, a person's orders, open needs, ids by status and
party, and the experts' open load."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from store.lifecycle import UNMET_STATUSES, OrderStatus
from store.lifecycle import OrderStatus as S
from store.needs import Need
from store.notifications import OrderNotification
from store.order_tables import Order, OrderEvent
from store.order_transition import find_order
from store.teams import TeamMember


def get_order(*, session: Session, order_id: int) -> Order:
    """The order, or NotFound (also for numbers no order can have)."""
    return find_order(session, order_id)


def timeline(*, session: Session, order_id: int) -> list[OrderEvent]:
    """Events of an order, oldest first."""
    stmt = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(col(OrderEvent.id))
    return list(session.exec(stmt).all())


def orders_of(*, session: Session, user_id: int) -> list[Order]:
    """Orders where the user is requester or expert, newest first."""
    stmt = (
        select(Order)
        .where((Order.requester_id == user_id) | (Order.expert_id == user_id))
        .order_by(col(Order.id).desc())
    )
    return list(session.exec(stmt).all())


def orders_with_needs(
    *, session: Session, user_id: int, limit: int = 20
) -> list[tuple[Order, Need]]:
    """The user's orders (as requester, expert or member of the team that holds it) with
    their needs, newest first."""
    teams = select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    stmt = (
        select(Order, Need)
        .where(col(Need.id) == col(Order.need_id))
        .where(
            or_(
                col(Order.requester_id) == user_id,
                col(Order.expert_id) == user_id,
                col(Order.team_id).in_(teams),
            )
        )
        .order_by(col(Order.id).desc())
        .limit(limit)
    )
    return [(o, n) for o, n in session.exec(stmt).all()]


def open_needs(
    *, session: Session, exclude_requester: int, limit: int = 500
) -> list[tuple[Order, Need]]:
    """Needs nobody has taken yet (posted, matched, or expired but still takeable), newest
    first."""
    open_states = [s.value for s in UNMET_STATUSES]
    stmt = (
        select(Order, Need)
        .where(col(Need.id) == col(Order.need_id), col(Order.status).in_(open_states))
        .where(col(Need.requester_id) != exclude_requester)
        .order_by(col(Need.id).desc())
        .limit(limit)
    )
    return [(o, n) for o, n in session.exec(stmt).all()]


def order_ids(
    *,
    session: Session,
    statuses: tuple[OrderStatus, ...],
    requester_id: int | None = None,
    expert_id: int | None = None,
    notified_expert_id: int | None = None,
    updated_before: datetime | None = None,
) -> list[int]:
    """Ids of orders in *statuses* with the given parties, oldest first."""
    stmt = select(Order.id).where(col(Order.status).in_([s.value for s in statuses]))
    if requester_id is not None:
        stmt = stmt.where(Order.requester_id == requester_id)
    if expert_id is not None:
        stmt = stmt.where(Order.expert_id == expert_id)
    if notified_expert_id is not None:
        stmt = stmt.join(
            OrderNotification, col(OrderNotification.order_id) == col(Order.id)
        ).where(OrderNotification.expert_id == notified_expert_id)
    if updated_before is not None:
        stmt = stmt.where(col(Order.updated_at) < updated_before)
    return [i for i in session.exec(stmt.order_by(col(Order.id))).all() if i is not None]


def open_order_counts(*, session: Session) -> dict[int, int]:
    """Expert id -> orders they have accepted and not yet resolved."""
    stmt = (
        select(Order.expert_id, func.count())
        .where(Order.status == S.ACCEPTED)
        .group_by(col(Order.expert_id))
    )
    return {int(e): int(n) for e, n in session.exec(stmt).all() if e is not None}
