"""The trust records on both back-ends: consent and release as moves with their events, the
accept counts, the contact record, and schema step 6."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from store import orders as o
from store import trust
from store.lifecycle import Action, NotPermitted
from store.notifications import record_notified
from store.order_reads import get_order, timeline
from tests.factories import make_expert, make_user, post


def accepted(session: Session):  # type: ignore[no-untyped-def]
    requester, expert = make_user(session, "农户"), make_expert(session)
    order = post(session, requester).order
    o.mark_matched(session=session, order_id=order.id)
    o.accept(session=session, order_id=order.id, expert=expert)
    return order.id, requester, expert


def test_consent_then_no_release(session: Session) -> None:
    order_id, requester, expert = accepted(session)
    with pytest.raises(NotPermitted):
        o.consent(session=session, order_id=order_id, requester=expert)
    order = o.consent(session=session, order_id=order_id, requester=requester)
    assert order.status == "accepted" and order.contacts_at is not None
    with pytest.raises(NotPermitted):  # once only
        o.consent(session=session, order_id=order_id, requester=requester)
    with pytest.raises(NotPermitted):  # contacts exchanged: a suspension leaves the expert
        o.release(session=session, order_id=order_id, expert_id=expert.id, actor_id=None)
    last = timeline(session=session, order_id=order_id)[-1]
    assert (last.action, last.from_status, last.to_status) == ("consent", "accepted", "accepted")


def test_release_reopens_and_bars_the_expert(session: Session) -> None:
    order_id, requester, expert = accepted(session)
    order = o.release(
        session=session,
        order_id=order_id,
        expert_id=expert.id,
        actor_id=requester.id,
        requester_only=True,
    )
    assert (order.status, order.expert_id, order.accepted_at) == ("matched", None, None)
    last = timeline(session=session, order_id=order_id)[-1]
    assert (last.action, last.from_status, last.to_status) == (
        Action.RELEASE.value,
        "accepted",
        "matched",
    )
    with pytest.raises(trust.AcceptRefused) as refused:
        trust.check_accept(
            session=session,
            order_id=order_id,
            expert_id=expert.id,
            rules=trust.MarketRules(unverified_may_browse_accept=True),
            in_scope=True,
        )
    assert refused.value.reason is trust.Refusal.NOT_NOTIFIED


def test_accepts_are_counted_per_beijing_day(session: Session) -> None:
    expert = make_expert(session)
    ids = []
    for _ in range(2):
        order = post(session, make_user(session)).order
        record_notified(session=session, order_id=order.id, round_=1, matches=[(expert.id, 1, "")])
        ids.append(order.id)
    # 23:30 Beijing time on one day, then 00:30 the next
    late = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    o.accept(session=session, order_id=ids[0], expert=expert, now=late)
    assert trust.accepts_today(session=session, expert_id=expert.id, now=late) == 1
    next_day = late + timedelta(hours=1)
    assert trust.accepts_today(session=session, expert_id=expert.id, now=next_day) == 0
    assert trust.open_orders(session=session, expert_id=expert.id) == 1
    rules = trust.MarketRules(accepts_per_day=1, max_open_orders=5)
    with pytest.raises(trust.AcceptRefused) as refused:
        trust.check_accept(
            session=session,
            order_id=ids[1],
            expert_id=expert.id,
            rules=rules,
            in_scope=False,
            now=late + timedelta(minutes=10),
        )
    assert refused.value.reason is trust.Refusal.DAILY_LIMIT
    trust.check_accept(
        session=session,
        order_id=ids[1],
        expert_id=expert.id,
        rules=rules,
        in_scope=False,
        now=next_day,
    )


def test_contact_views_are_listed_for_a_person(session: Session) -> None:
    order_id, requester, expert = accepted(session)
    pairs = [(expert.id, requester.id), (requester.id, expert.id)]
    trust.record_contacts(session=session, order_id=order_id, pairs=pairs)
    trust.record_contacts(session=session, order_id=order_id, pairs=pairs)  # once each
    seen = trust.contact_views(session=session, user_id=requester.id)
    assert [(v.viewer_id, v.subject_id) for v in seen] == pairs
    assert trust.contact_views(session=session, user_id=make_user(session).id) == []


def test_step_6_marks_contacts_of_orders_accepted_before_it(session: Session) -> None:
    from store import db
    from tests.factories import downgrade, fresh_connections

    order_id, _, _ = accepted(session)
    engine = session.get_bind()
    session.close()
    downgrade(engine, 5)
    assert db.init_db(engine) == db.SCHEMA_VERSION
    fresh_connections(engine)
    with Session(engine) as fresh:
        order = get_order(session=fresh, order_id=order_id)
        assert order.contacts_at is not None and order.contacts_at == order.accepted_at
