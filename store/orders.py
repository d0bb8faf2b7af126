"""Orders: posting a need, and each move of the state machine of store.lifecycle (accept,
resolve, rate ...) applied with conditional updates, an event per move. The tables are
store.order_tables, one move's UPDATE and event store.order_transition, reads store.order_reads.

Every move is a single ``UPDATE ... WHERE id = :id AND status IN (:allowed)`` so that racing
writers (experts tapping 接单 at once, two scheduler loops) cannot both succeed, on SQLite and
on PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from store.clock import as_utc, utcnow
from store.errors import InvalidInput, StoreError
from store.experts import ExpertProfile
from store.lifecycle import Action, InvalidTransition, NotPermitted, OrderStatus
from store.lifecycle import OrderStatus as S
from store.needs import Need, NeedCreate, validate_need
from store.notifications import OrderNotification
from store.order_tables import Order, OrderEvent, Rating
from store.order_transition import explain_refusal, find_order, record_event, transition
from store.rollups import tracking
from store.teams import Team
from store.users import Role, User


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
        record_event(session, order.id, requester.id, Action.POST, None, S.POSTED, "", now)
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


def mark_matched(
    *, session: Session, order_id: int, note: str = "", now: datetime | None = None
) -> Order:
    """Record that experts were notified (first round: match; later rounds: rematch)."""
    order = find_order(session, order_id)
    action = Action.REMATCH if order.status == S.MATCHED else Action.MATCH
    try:
        return transition(
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
    order = find_order(session, order_id)
    if order.requester_id == expert.id:
        raise NotPermitted(
            order_id, Action.ACCEPT, expert.id, "a requester cannot accept own need"
        )
    now = now or utcnow()
    return transition(
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
    return transition(
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
    order = transition(
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
    order = find_order(session, order_id)
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
    return transition(
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
    return transition(
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
    return transition(
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
    return transition(session, order_id, Action.EXPIRE, actor_id=None, now=now)


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
    order = find_order(session, order_id)
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
            explain_refusal(session, order_id, Action.CLOSE, requester.id, frozenset({S.RESOLVED}))
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
        record_event(
            session, order_id, requester.id, Action.CLOSE, S.RESOLVED, S.CLOSED, comment, now
        )
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
            transition(
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
