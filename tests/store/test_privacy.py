"""A person's data: exported whole, deleted for good, old question texts cleared."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import JSON, String, Text, select
from sqlmodel import Session, SQLModel

from store import orders as o
from store.clock import utcnow
from store.conversations import save_state
from store.feedback import FeedbackSource, knowledge_gaps, record_feedback
from store.interests import note_interests
from store.metrics import region_report
from store.notifications import record_notified
from store.order_reads import orders_with_needs
from store.outbox import enqueue
from store.privacy import clear_old_questions, export_person, forget_person, is_forgotten
from store.questions import QuestionLog, log_question
from store.subscriptions import subscribe
from store.updates import add_handled, handled_order
from store.users import User, update_user
from store.validation import Region
from tests.factories import make_expert, make_user, need_in

NAME = "王建国"
PHONE = "13912345678"
EXPERT_NAME = "李秀英"


def _scenario(session: Session) -> tuple[User, User]:
    farmer = make_user(session, NAME)
    farmer = update_user(session=session, user=farmer, phone=PHONE)
    expert = make_expert(session, EXPERT_NAME)
    posted = o.post_need(
        session=session,
        requester=farmer,
        need_in=need_in(text=f"我是{NAME}，李子流胶，电话{PHONE}", contact_phone=PHONE),
    )
    order_id = posted.order.id or 0
    record_notified(
        session=session, order_id=order_id, round_=1, matches=[(expert.id or 0, 0.9, "果树栽培")]
    )
    o.mark_matched(session=session, order_id=order_id)
    o.accept(session=session, order_id=order_id, expert=expert)
    o.resolve(session=session, order_id=order_id, expert=expert, note=f"已指导{NAME}刮除病斑")
    o.close(session=session, order_id=order_id, requester=farmer, score=5, comment=f"{NAME}满意")
    o.post_need(session=session, requester=farmer, need_in=need_in(crop="柑橘"))
    row = log_question(
        session=session,
        question=f"{NAME}问：稻瘟病怎么治",
        answered=True,
        user_id=farmer.id,
        top_hit="grain-rice-blast",
        region=("四川省", "宜宾市", "翠屏区"),
    )
    log_question(session=session, question="火星能种土豆吗", answered=False, user_id=farmer.id)
    record_feedback(
        session=session,
        user_id=farmer.id or 0,
        article_id="grain-rice-blast",
        source=FeedbackSource.ANSWER,
        ref_id=row.id or 0,
        useful=False,
    )
    subscribe(session=session, user_id=farmer.id or 0, topics=["柑橘"])
    note_interests(session=session, user_id=farmer.id or 0, crops=["李"], categories=["soil"])
    save_state(
        session=session,
        channel=farmer.channel,
        external_id=farmer.external_id,
        data={"v": 2, "form": {"name": "need", "slots": {"name": NAME, "phone": PHONE}}},
    )
    enqueue(session=session, channel=farmer.channel, external_id=farmer.external_id, text="你好")
    enqueue(
        session=session,
        channel=expert.channel,
        external_id=expert.external_id,
        text=f"需求方 {NAME} 的电话 {PHONE}",
    )
    return farmer, expert


def test_export_holds_everything_about_the_person(session: Session):
    farmer, expert = _scenario(session)
    data = export_person(session=session, user_id=farmer.id or 0)
    assert data["user"]["display_name"] == NAME and data["user"]["phone"] == PHONE
    assert len(data["needs"]) == 2 and len(data["orders_as_requester"]) == 2
    assert data["orders_as_expert"] == [] and data["expert_profile"] is None
    assert [q["question"] for q in data["questions"]][0].startswith(NAME)
    assert data["feedback"][0]["useful"] is False
    assert data["subscriptions"][0]["topic"] == "柑橘"
    assert {i["value"] for i in data["interests"]} >= {"李", "soil"}
    assert data["conversation_state"]["form"]["slots"]["name"] == NAME
    json.dumps(data, ensure_ascii=False)  # a JSON document as it is
    as_expert = export_person(session=session, user_id=expert.id or 0)
    assert len(as_expert["orders_as_expert"]) == 1
    assert as_expert["expert_profile"]["organisation"] == "示例农技站"
    assert as_expert["ratings"][0]["score"] == 5
    assert [n["reason"] for n in as_expert["notified_of_orders"]] == ["果树栽培"]


NOW = utcnow()


def _report(session: Session) -> str:
    now = NOW
    report = region_report(
        session=session,
        region=Region("四川省", "宜宾市"),
        since=now - timedelta(days=30),
        until=now + timedelta(days=1),
    )
    # the indicators, not the gap list (questions' texts are gone by design)
    return repr((report.total, report.children, report.unmet_categories, report.weekly))


def _text_values(session: Session) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text and JSON column of every table."""
    out = []
    for table in SQLModel.metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        if not cols:
            continue
        for row in session.execute(select(*cols)).all():
            for column, value in zip(cols, row, strict=True):
                if value is not None:
                    text = (
                        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    )
                    out.append((table.name, column.name, text))
    return out


def test_forgetting_keeps_the_indicators_and_nothing_that_names_the_person(session: Session):
    farmer, expert = _scenario(session)
    before = _report(session)
    assert any(NAME in v for _, _, v in _text_values(session))
    channel = farmer.channel
    add_handled(session=session, channel=channel, update_id="31", chat_id=farmer.external_id)
    session.commit()

    done = forget_person(session=session, user_id=farmer.id or 0)
    # the handled update stays (a late redelivery does nothing), no longer linked to the chat
    assert handled_order(session=session, channel=channel) == [("", "31")]

    assert done.needs == 2 and done.subscriptions == 1 and done.feedback == 1
    assert _report(session) == before
    leaks = [(t, c) for t, c, v in _text_values(session) if NAME in v or PHONE in v]
    assert leaks == []
    session.refresh(farmer)
    assert is_forgotten(farmer) and farmer.display_name == "" and farmer.phone is None
    # orders keep region, crop, category, times, status and rating
    mine = orders_with_needs(session=session, user_id=farmer.id or 0)
    closed = [(order, need) for order, need in mine if order.status == "closed"]
    assert len(closed) == 1
    order, need = closed[0]
    assert need.crop == "李" and need.county == "翠屏区" and need.rating == 5
    assert order.accepted_at is not None and order.resolved_at is not None
    assert need.text == "" and need.contact_phone == ""
    # the need nobody had taken is withdrawn from matching, still unmet
    assert sorted(order.status for order, _ in mine) == ["closed", "expired"]
    # the expert is untouched
    session.refresh(expert)
    assert expert.display_name == EXPERT_NAME
    assert forget_person(session=session, user_id=farmer.id or 0).needs == 0  # idempotent


def test_forgetting_an_expert_keeps_the_supply_rate(session: Session):
    farmer, expert = _scenario(session)
    before = _report(session)
    forget_person(session=session, user_id=expert.id or 0)
    assert _report(session) == before
    leaks = [(t, c) for t, c, v in _text_values(session) if EXPERT_NAME in v]
    assert leaks == []
    data = export_person(session=session, user_id=expert.id or 0)
    assert data["expert_profile"]["organisation"] == "" and not data["expert_profile"]["fields"]


def test_old_question_texts_are_cleared_keeping_the_aggregates(session: Session):
    old = log_question(session=session, question="老问题 火星能种土豆吗", answered=False)
    new = log_question(session=session, question="新问题 月球能种土豆吗", answered=False)
    session.execute(
        QuestionLog.__table__.update()  # type: ignore[attr-defined]
        .where(QuestionLog.__table__.c.id == old.id)  # type: ignore[attr-defined]
        .values(created_at=utcnow() - timedelta(days=200))
    )
    session.commit()
    assert clear_old_questions(session=session, before=utcnow() - timedelta(days=180)) == 1
    assert clear_old_questions(session=session, before=utcnow() - timedelta(days=180)) == 0
    session.refresh(old)
    session.refresh(new)
    assert old.question == "" and old.answered is False and old.created_at is not None
    assert new.question.startswith("新问题")
    # a cleared question is no gap line of its own
    assert [g.text for g in knowledge_gaps(session=session)] == [new.question]


def test_forgetting_clears_the_marketplace_records_about_the_person(session: Session):
    from store.trust import ContactView, ExpertReview, Report, Suspension

    farmer, expert = _scenario(session)
    order_id = orders_with_needs(session=session, user_id=farmer.id or 0)[0][0].id or 0
    session.add(ContactView(order_id=order_id, viewer_id=expert.id, subject_id=farmer.id))
    session.add(
        Report(
            order_id=order_id,
            reporter_id=farmer.id,
            reported_id=expert.id,
            reason=f"{NAME}说专家没来",
        )
    )
    session.add(ExpertReview(expert_id=expert.id, decision="verified", reason="植保站核实"))
    session.add(Suspension(user_id=farmer.id, reason=f"{NAME}骚扰专家"))
    session.commit()
    forget_person(session=session, user_id=farmer.id or 0)
    assert session.execute(select(ContactView)).all() == []
    assert [r.reason for (r,) in session.execute(select(Report)).all()] == [""]
    assert [s.reason for (s,) in session.execute(select(Suspension)).all()] == [""]
    assert [r.reason for (r,) in session.execute(select(ExpertReview)).all()] == ["植保站核实"]
