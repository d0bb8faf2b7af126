"""The order lifecycle: every legal and illegal move, and the events written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from store import lifecycle
from store import orders as o
from store.clock import utcnow
from store.errors import NotFound
from store.experts import ExpertProfileCreate, get_expert_profile, upsert_expert_profile
from store.lifecycle import Action, InvalidTransition, NotPermitted, OrderStatus
from store.needs import Need
from store.order_reads import get_order, orders_of, timeline
from store.order_tables import Order, OrderEvent
from tests.factories import make_expert, make_user, post

S = OrderStatus


def drive_to(session: Session, status: OrderStatus):
    """Post a need and move its order to *status* along the legal path."""
    requester = make_user(session, "农户")
    expert = make_expert(session)
    order = post(session, requester).order
    path = {
        S.POSTED: [],
        S.MATCHED: ["match"],
        S.ACCEPTED: ["match", "accept"],
        S.RESOLVED: ["match", "accept", "resolve"],
        S.CLOSED: ["match", "accept", "resolve", "close"],
        S.EXPIRED: ["match", "expire"],
        S.CANCELLED: ["cancel"],
    }[status]
    for step in path:
        apply(session, step, order.id, requester, expert)
    assert get_order(session=session, order_id=order.id).status == status
    return order.id, requester, expert


def apply(session, step, order_id, requester, expert):
    if step in ("match", "rematch"):
        return o.mark_matched(session=session, order_id=order_id)
    if step == "accept":
        return o.accept(session=session, order_id=order_id, expert=expert)
    if step == "resolve":
        return o.resolve(session=session, order_id=order_id, expert=expert, note="已指导施用石灰")
    if step == "close":
        return o.close(session=session, order_id=order_id, requester=requester, score=5)
    if step == "expire":
        return o.expire(session=session, order_id=order_id)
    if step == "cancel":
        return o.cancel(session=session, order_id=order_id, requester=requester)
    if step == "reopen":
        return o.reopen(session=session, order_id=order_id, requester=requester, note="没解决")
    raise AssertionError(step)


def test_table_is_total_and_matches_design():
    assert lifecycle.next_status(Action.ACCEPT, S.MATCHED) == S.ACCEPTED
    legal = {(a, s) for a, (froms, _) in lifecycle.TRANSITIONS.items() for s in froms}
    assert (Action.CANCEL, S.ACCEPTED) in legal
    assert (Action.CANCEL, S.RESOLVED) not in legal
    assert (Action.EXPIRE, S.ACCEPTED) not in legal
    for action in lifecycle.TRANSITIONS:
        for status in S:
            if (action, status) in legal:
                lifecycle.next_status(action, status)
            else:
                with pytest.raises(InvalidTransition, match=f"cannot {action.value}"):
                    lifecycle.next_status(action, status)


ACTIONS = ["match", "accept", "resolve", "close", "expire", "cancel", "reopen"]


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("step", ACTIONS)
def test_every_move_on_the_database(session: Session, status: OrderStatus, step: str):
    order_id, requester, expert = drive_to(session, status)
    expert_for_step = expert  # for accept on an accepted order: the winner tapping again
    action = Action.REMATCH if (step == "match" and status == S.MATCHED) else Action(step)
    allowed, target = lifecycle.TRANSITIONS[action]
    before = len(timeline(session=session, order_id=order_id))
    if status in allowed:
        order = apply(session, step, order_id, requester, expert_for_step)
        assert order.status == target
        events = timeline(session=session, order_id=order_id)
        assert len(events) == before + 1
        last = events[-1]
        assert (last.action, last.from_status, last.to_status) == (
            action.value,
            status.value,
            target.value,
        )
        need = session.exec(select(Need).where(Need.id == order.need_id)).one()
        assert need.status == target.value
    elif step == "resolve" and get_order(session=session, order_id=order_id).expert_id is None:
        # nobody has taken it: the expert is no party to it and learns nothing of its state
        with pytest.raises(NotPermitted):
            apply(session, step, order_id, requester, expert_for_step)
    else:
        with pytest.raises(InvalidTransition) as err:
            apply(session, step, order_id, requester, expert_for_step)
        assert err.value.status == status
        assert str(order_id) in str(err.value) and status.value in str(err.value)
        assert len(timeline(session=session, order_id=order_id)) == before
        assert get_order(session=session, order_id=order_id).status == status


def test_full_story_writes_timeline_and_rating(session: Session):
    order_id, requester, expert = drive_to(session, S.CLOSED)
    events = timeline(session=session, order_id=order_id)
    assert [e.action for e in events] == ["post", "match", "accept", "resolve", "close"]
    assert [e.actor_id for e in events] == [requester.id, None, expert.id, expert.id, requester.id]
    assert events[3].note == "已指导施用石灰"
    order = get_order(session=session, order_id=order_id)
    assert order.expert_id == expert.id
    assert order.accepted_at and order.resolved_at and order.closed_at
    profile = get_expert_profile(session=session, user_id=expert.id)
    session.refresh(profile)
    assert (profile.rating_count, profile.rating_sum, profile.rating_avg) == (1, 5, 5.0)


def test_rating_must_be_1_to_5(session: Session):
    order_id, requester, _ = drive_to(session, S.RESOLVED)
    for bad in (0, 6, -1, 3.5, True):
        with pytest.raises(ValueError, match="1 to 5"):
            o.close(session=session, order_id=order_id, requester=requester, score=bad)
    assert get_order(session=session, order_id=order_id).status == S.RESOLVED


def test_rematch_counts_rounds(session: Session):
    order_id, _, _ = drive_to(session, S.MATCHED)
    order = o.mark_matched(session=session, order_id=order_id, note="扩大到全省")
    assert order.match_round == 2
    assert timeline(session=session, order_id=order_id)[-1].action == "rematch"


def test_auto_close_after_days_is_idempotent(session: Session):
    order_id, _, _ = drive_to(session, S.RESOLVED)
    fresh_id, _, _ = drive_to(session, S.RESOLVED)
    later = utcnow() + timedelta(days=8)
    # backdate only the first order's resolution
    order = session.get(Order, order_id)
    order.resolved_at = utcnow() - timedelta(days=10)
    session.add(order)
    session.commit()
    assert o.auto_close_due(session=session, days=7) == [order_id]
    assert o.auto_close_due(session=session, days=7) == []
    assert get_order(session=session, order_id=order_id).status == S.CLOSED
    assert get_order(session=session, order_id=fresh_id).status == S.RESOLVED
    assert o.auto_close_due(session=session, days=7, now=later) == [fresh_id]
    last = timeline(session=session, order_id=order_id)[-1]
    assert last.actor_id is None and "auto-closed" in last.note


def test_privacy_and_permission_refusals(session: Session):
    order_id, requester, expert = drive_to(session, S.MATCHED)
    # a requester cannot accept their own need, even as an expert
    upsert_expert_profile(
        session=session, user=requester, profile_in=ExpertProfileCreate(fields=["植保"])
    )
    session.refresh(requester)
    with pytest.raises(lifecycle.NotPermitted, match="own need"):
        o.accept(session=session, order_id=order_id, expert=requester)
    plain = make_user(session, "路人")
    with pytest.raises(lifecycle.NotPermitted, match="only registered experts"):
        o.accept(session=session, order_id=order_id, expert=plain)
    o.accept(session=session, order_id=order_id, expert=expert)
    other = make_expert(session, "另一位专家")
    with pytest.raises(lifecycle.NotPermitted, match="not a party"):
        o.resolve(session=session, order_id=order_id, expert=other)
    with pytest.raises(lifecycle.NotPermitted, match="not a party"):
        o.cancel(session=session, order_id=order_id, requester=plain)
    with pytest.raises(lifecycle.AlreadyTaken):
        o.accept(session=session, order_id=order_id, expert=other)
    assert get_order(session=session, order_id=order_id).expert_id == expert.id
    with pytest.raises(NotFound):
        o.accept(session=session, order_id=999999, expert=expert)


def test_orders_of_lists_both_sides(session: Session):
    order_id, requester, expert = drive_to(session, S.ACCEPTED)
    assert [x.id for x in orders_of(session=session, user_id=requester.id)] == [order_id]
    assert [x.id for x in orders_of(session=session, user_id=expert.id)] == [order_id]
    count = len(session.exec(select(OrderEvent)).all())
    assert count == 3


def test_a_reopened_order_goes_back_to_its_expert_and_can_be_resolved_again(session: Session):
    order_id, requester, expert = drive_to(session, S.RESOLVED)
    order = o.reopen(session=session, order_id=order_id, requester=requester, note="还是不行")
    assert (order.status, order.expert_id, order.resolved_at) == (S.ACCEPTED, expert.id, None)
    with pytest.raises(NotPermitted):  # only the requester says it is not solved
        o.reopen(session=session, order_id=order_id, requester=expert)
    o.resolve(session=session, order_id=order_id, expert=expert, note="补施了一次")
    assert o.close(session=session, order_id=order_id, requester=requester, score=4).status == (
        S.CLOSED
    )
    moves = [e.action for e in timeline(session=session, order_id=order_id)]
    assert moves[-4:] == ["resolve", "reopen", "resolve", "close"]


def test_the_requester_may_replace_an_expert_after_contacts_but_a_suspension_may_not(
    session: Session,
):
    order_id, requester, expert = drive_to(session, S.ACCEPTED)
    o.consent(session=session, order_id=order_id, requester=requester)
    with pytest.raises(NotPermitted):  # an administrator's release stops at exchanged phones
        o.release(session=session, order_id=order_id, expert_id=expert.id, actor_id=None)
    order = o.release(
        session=session,
        order_id=order_id,
        expert_id=expert.id,
        actor_id=requester.id,
        requester_only=True,
    )
    assert (order.status, order.expert_id, order.contacts_at) == (S.MATCHED, None, None)
