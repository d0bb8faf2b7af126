"""Orders, their event timeline and ratings: the state machine of store.lifecycle applied with
conditional updates, an event per move.

Every move is a single ``UPDATE ... WHERE id = :id AND status IN (:allowed)`` so that racing
writers (experts tapping 接单 at once, two scheduler loops) cannot both succeed, on SQLite and
on PostgreSQL alike.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import CheckConstraint, Column, Index, String, or_, update
from sqlmodel import Field, Session, SQLModel, col, func, select

from store.clock import as_utc, utcnow
from store.errors import InvalidInput, NotFound, StoreError
from store.experts import ExpertProfile
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
from store.needs import Need, NeedCreate, validate_need
from store.notifications import OrderNotification
from store.rollups import tracking
from store.teams import Team, TeamMember
from store.users import Role, User


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_updated", "status", "updated_at"),
        # who accepted what when: the expert supply rate without reading order rows
        Index("ix_orders_expert_accepted", "expert_id", "accepted_at"),
        Index("ix_orders_accepted", "accepted_at"),  # whether a rollup day is complete
        CheckConstraint(
            "status IN ('posted','matched','accepted','resolved','closed','expired','cancelled')",
            name="ck_orders_status",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="needs.id", unique=True)
    requester_id: int = Field(foreign_key="users.id", index=True)
    expert_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    status: OrderStatus = Field(
        default=OrderStatus.POSTED, sa_column=Column(String(16), nullable=False)
    )
    match_round: int = Field(default=0)
    resolution_note: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    # when the two parties were given each other's phone (None: they talk through us)
    contacts_at: datetime | None = None
    # the team the accepting expert took it for (rated as the team; members see it)
    # (no foreign key: added by a migration step; teams are dissolved, never deleted)
    team_id: int | None = Field(default=None, index=True)


class OrderEvent(SQLModel, table=True):
    __tablename__ = "order_events"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    note: str = Field(default="", max_length=2000)
    at: datetime = Field(default_factory=utcnow, index=True)


class Rating(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_ratings_score"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", unique=True)
    expert_id: int = Field(foreign_key="users.id", index=True)
    requester_id: int = Field(foreign_key="users.id")
    score: int
    comment: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class Posted:
    need: Need
    order: Order


def post_need(*, session: Session, requester: User, need_in: NeedCreate) -> Posted:
    """Validate and save a need and open its order (status posted), with the first event.

    Raises:
        InvalidInput: any bad field; nothing is written.
    """
    data = validate_need(need_in)
    if requester.id is None:
        raise InvalidInput("requester", requester, "user must be saved first")
    now = utcnow()
    need = Need(**data, requester_id=requester.id, status=S.POSTED.value, created_at=now)
    try:
        with tracking(session, requester.id):  # the indicator rollups, in this transaction
            session.add(need)
            session.flush()
        assert need.id is not None
        order = Order(need_id=need.id, requester_id=requester.id, created_at=now, updated_at=now)
        session.add(order)
        session.flush()
        assert order.id is not None
        _event(session, order.id, requester.id, Action.POST, None, S.POSTED, "", now)
        if not requester.has_role(Role.REQUESTER):
            requester.roles = sorted({*requester.roles, Role.REQUESTER.value})
            session.add(requester)
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.refresh(need)
    session.refresh(order)
    return Posted(need, order)


def _event(
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


def _find(session: Session, order_id: int) -> Order:
    if not 1 <= order_id <= MAX_ORDER_ID:
        raise NotFound("order", order_id)
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", order_id)
    return order


def _transition(
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
    current = _find(session, order_id)
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
    moves = _moves_rollups(action, need_values) or bool(holders)
    try:
        # the indicator rollups, in this transaction
        with tracking(session, current.requester_id, *holders) if moves else nullcontext():
            result = session.execute(stmt)
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                _explain_refusal(session, order_id, action, actor_id, allowed)
            session.execute(need_update)
        if from_status not in allowed and len(allowed) == 1:
            # The row moved between our read and the UPDATE; it can only have been this.
            from_status = next(iter(allowed))
        _event(session, order_id, actor_id, action, from_status, target, note, now)
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


def _moves_rollups(action: Action, need_values: dict[str, Any] | None) -> bool:
    """Whether a move can change an indicator rollup: it sets need columns the rollups read,
    or it may take the need into or out of the unmet statuses (not so matching, re-matching,
    expiring or consenting)."""
    allowed, target = TRANSITIONS[action]
    unmet = {s in UNMET_STATUSES for s in (*allowed, target)}
    return bool(need_values) or len(unmet) > 1


def _explain_refusal(
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


def mark_matched(
    *, session: Session, order_id: int, note: str = "", now: datetime | None = None
) -> Order:
    """Record that experts were notified (first round: match; later rounds: rematch)."""
    order = _find(session, order_id)
    action = Action.REMATCH if order.status == S.MATCHED else Action.MATCH
    try:
        return _transition(
            session,
            order_id,
            action,
            actor_id=None,
            note=note,
            now=now,
            values={"match_round": order.match_round + 1},
            # two scheduler loops must not both widen the same round
            where=(col(Order.match_round) == order.match_round,),
        )
    except NotPermitted:
        raise InvalidTransition(order_id, action, OrderStatus(order.status)) from None


def accept(
    *,
    session: Session,
    order_id: int,
    expert: User,
    now: datetime | None = None,
    share_contacts: bool = False,
    team_id: int | None = None,
) -> Order:
    """Give the order to *expert*; under concurrency exactly one caller wins.

    *share_contacts*: the parties get each other's phone now (CONTACT_EXCHANGE=on_accept)
    rather than when the requester agrees (:func:`consent`). *team_id*: the expert accepts
    on behalf of this team (they were notified as its member). Who may accept at all is
    store.trust.check_accept's to say, before this.

    Raises:
        AlreadyTaken: another expert won; InvalidTransition: closed, cancelled or expired;
        NotPermitted: the caller is not an expert or is the requester.
    """
    if not expert.has_role(Role.EXPERT):
        raise NotPermitted(order_id, Action.ACCEPT, expert.id, "only registered experts accept")
    order = _find(session, order_id)
    if order.requester_id == expert.id:
        raise NotPermitted(
            order_id, Action.ACCEPT, expert.id, "a requester cannot accept own need"
        )
    now = now or utcnow()
    return _transition(
        session,
        order_id,
        Action.ACCEPT,
        actor_id=expert.id,
        now=now,
        values={
            "expert_id": expert.id,
            "accepted_at": now,
            "contacts_at": now if share_contacts else None,
            "team_id": team_id,
        },
        # the need mirrors its order (store.needs.Need) for the indicators
        need_values={
            "accepted_at": now,
            "accept_seconds": round((now - as_utc(order.created_at)).total_seconds()),
        },
        where=(col(Order.requester_id) != expert.id,),
    )


def consent(
    *, session: Session, order_id: int, requester: User, now: datetime | None = None
) -> Order:
    """The requester agrees to exchange phones with the accepting expert (once).

    Raises:
        NotPermitted: not the requester, or the contacts were exchanged already;
        InvalidTransition: nobody holds the order.
    """
    now = now or utcnow()
    return _transition(
        session,
        order_id,
        Action.CONSENT,
        actor_id=requester.id,
        now=now,
        values={"contacts_at": now},
        where=(col(Order.requester_id) == requester.id, col(Order.contacts_at).is_(None)),
        party="requester_id",
    )


def release(
    *,
    session: Session,
    order_id: int,
    expert_id: int,
    actor_id: int | None,
    requester_only: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> Order:
    """Take the order back from *expert_id*: it is open again (matched) for other experts,
    and this expert is not offered it again; the next expert's contacts wait for consent.

    *requester_only*: only the requester may do this (换一位, also after contacts were
    exchanged: it is theirs to choose); otherwise an administrator's move (a suspension),
    only before contacts were exchanged.

    Raises:
        NotPermitted: not the requester, another expert holds it, or (a suspension)
        contacts were exchanged; InvalidTransition: the order is not accepted.
    """
    now = now or utcnow()
    where = [col(Order.expert_id) == expert_id]
    if requester_only:
        where.append(col(Order.requester_id) == actor_id)
    else:
        where.append(col(Order.contacts_at).is_(None))
    order = _transition(
        session,
        order_id,
        Action.RELEASE,
        actor_id=actor_id,
        note=note,
        now=now,
        values={"expert_id": None, "accepted_at": None, "team_id": None, "contacts_at": None},
        need_values={"accepted_at": None, "accept_seconds": None},
        where=tuple(where),
        party="requester_id" if requester_only else "",
    )
    row = session.exec(
        select(OrderNotification).where(
            OrderNotification.order_id == order_id, OrderNotification.expert_id == expert_id
        )
    ).first() or OrderNotification(order_id=order_id, expert_id=expert_id, reason="released")
    row.declined = True
    session.add(row)
    session.commit()
    return order


def add_message(
    *, session: Session, order_id: int, actor_id: int, text: str, now: datetime | None = None
) -> OrderEvent:
    """A message relayed between the parties, kept on the order's timeline (the caller masks
    what must not be seen)."""
    order = _find(session, order_id)
    status = OrderStatus(order.status)
    event = OrderEvent(
        order_id=order_id,
        actor_id=actor_id,
        action=Action.MESSAGE.value,
        from_status=status.value,
        to_status=status.value,
        note=text[:2000],
        at=now or utcnow(),
    )
    session.add(event)
    session.commit()
    return event


def resolve(
    *, session: Session, order_id: int, expert: User, note: str = "", now: datetime | None = None
) -> Order:
    """The accepting expert reports the order resolved, with an optional note."""
    now = now or utcnow()
    note = note.strip()[:2000]
    return _transition(
        session,
        order_id,
        Action.RESOLVE,
        actor_id=expert.id,
        note=note,
        now=now,
        values={"resolved_at": now, "resolution_note": note},
        need_values={"resolved_at": now},
        where=(col(Order.expert_id) == expert.id,),
        party="expert_id",
    )


def reopen(
    *,
    session: Session,
    order_id: int,
    requester: User,
    note: str = "",
    now: datetime | None = None,
) -> Order:
    """The requester says a resolved order is not solved: the expert who holds it goes on
    with it (accepted again), and it awaits their report and a rating once more.

    Raises:
        NotPermitted: not the requester; InvalidTransition: the order is not resolved.
    """
    return _transition(
        session,
        order_id,
        Action.REOPEN,
        actor_id=requester.id,
        note=note.strip()[:2000],
        now=now,
        values={"resolved_at": None, "resolution_note": ""},
        need_values={"resolved_at": None},
        where=(col(Order.requester_id) == requester.id,),
        party="requester_id",
    )


def cancel(
    *,
    session: Session,
    order_id: int,
    requester: User,
    note: str = "",
    now: datetime | None = None,
) -> Order:
    """The requester withdraws the need before it is resolved."""
    return _transition(
        session,
        order_id,
        Action.CANCEL,
        actor_id=requester.id,
        note=note,
        now=now,
        where=(col(Order.requester_id) == requester.id,),
        party="requester_id",
    )


def expire(*, session: Session, order_id: int, now: datetime | None = None) -> Order:
    """Nobody took the order in time, even after re-matching."""
    return _transition(session, order_id, Action.EXPIRE, actor_id=None, now=now)


def close(
    *,
    session: Session,
    order_id: int,
    requester: User,
    score: int,
    comment: str = "",
    now: datetime | None = None,
) -> Order:
    """The requester confirms a resolved order and rates the expert 1-5.

    The rating and the expert's aggregate are written in the same transaction as the move.
    """
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput("score", score, "a rating is a whole number from 1 to 5")
    order = _find(session, order_id)
    if order.requester_id != requester.id:
        raise NotPermitted(order_id, Action.CLOSE, requester.id, "only the requester rates")
    expert_id = order.expert_id
    now = now or utcnow()
    comment = comment.strip()[:1000]
    stmt = (
        update(Order)
        .where(col(Order.id) == order_id, col(Order.status) == S.RESOLVED.value)
        .where(col(Order.requester_id) == requester.id)
        .values(status=S.CLOSED.value, updated_at=now, closed_at=now)
    )
    try:
        if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            _explain_refusal(
                session, order_id, Action.CLOSE, requester.id, frozenset({S.RESOLVED})
            )
        with tracking(session, order.requester_id):  # the indicator rollups
            session.execute(
                update(Need)
                .where(col(Need.id) == order.need_id)
                .values(status=S.CLOSED.value, rating=score)
            )
        assert expert_id is not None
        session.add(
            Rating(
                order_id=order_id,
                expert_id=expert_id,
                requester_id=requester.id,
                score=score,
                comment=comment,
                created_at=now,
            )
        )
        session.execute(
            update(ExpertProfile)
            .where(col(ExpertProfile.user_id) == expert_id)
            .values(
                rating_count=ExpertProfile.rating_count + 1,
                rating_sum=ExpertProfile.rating_sum + score,
                updated_at=now,  # other processes' expert cards refresh on this
            )
        )
        if order.team_id is not None:  # a team's order: the team is rated too
            session.execute(
                update(Team)
                .where(col(Team.id) == order.team_id)
                .values(
                    rating_count=Team.rating_count + 1,
                    rating_sum=Team.rating_sum + score,
                    updated_at=now,
                )
            )
        _event(session, order_id, requester.id, Action.CLOSE, S.RESOLVED, S.CLOSED, comment, now)
        session.commit()
    except StoreError:
        raise
    except Exception:
        session.rollback()
        raise
    session.refresh(order)
    return order


def auto_close_due(*, session: Session, days: int, now: datetime | None = None) -> list[int]:
    """Close, without a rating, orders resolved more than *days* ago. Safe to run twice at once.

    Returns the ids this call closed.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    due = session.exec(
        select(Order.id).where(Order.status == S.RESOLVED, col(Order.resolved_at) < cutoff)
    ).all()
    closed: list[int] = []
    for order_id in due:
        assert order_id is not None
        try:
            _transition(
                session,
                order_id,
                Action.CLOSE,
                actor_id=None,
                note=f"auto-closed after {days} days",
                now=now,
                values={"closed_at": now},
            )
        except InvalidTransition:
            continue  # another loop closed it, or the requester rated meanwhile
        closed.append(order_id)
    return closed


def get_order(*, session: Session, order_id: int) -> Order:
    """The order, or NotFound (also for numbers no order can have)."""
    return _find(session, order_id)


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
