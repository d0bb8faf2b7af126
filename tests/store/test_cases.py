"""The curation queue's records: one case per order, conditional moves, and the person's
right to see and delete them."""

from __future__ import annotations

from sqlmodel import Session

from store import orders as o
from store.cases import (
    CaseStatus,
    answer_offer,
    edit_draft,
    get_case,
    mark_published,
    offer_case,
    open_cases,
    reject_case,
    save_draft,
)
from store.privacy import export_person, forget_person
from tests.factories import make_expert, make_user, post


def resolved_case(session: Session, note: str = "刮除病皮后涂石硫合剂"):  # type: ignore[no-untyped-def]
    farmer, expert = make_user(session), make_expert(session)
    posted = post(session, farmer)
    order_id = posted.order.id or 0
    o.accept(session=session, order_id=order_id, expert=expert)
    case = offer_case(
        session=session,
        order_id=order_id,
        need_id=posted.need.id or 0,
        expert_id=expert.id or 0,
        note=note,
    )
    return farmer, expert, case


def test_moves_happen_once_and_only_from_the_right_state(session: Session) -> None:
    _, expert, case = resolved_case(session)
    again = offer_case(
        session=session,
        order_id=case.order_id,
        need_id=case.need_id,
        expert_id=expert.id or 0,
        note="另一个说明",
    )
    assert again.id == case.id and again.note == "刮除病皮后涂石硫合剂"
    assert not answer_offer(session=session, order_id=case.order_id, expert_id=999, share=True)
    assert answer_offer(session=session, order_id=case.order_id, expert_id=expert.id, share=True)
    assert not answer_offer(
        session=session, order_id=case.order_id, expert_id=expert.id, share=False
    )
    assert [c.id for c in open_cases(session=session)] == [case.id]
    cid = case.id or 0
    assert not edit_draft(session=session, case_id=cid, title="x")  # no draft yet
    assert not mark_published(session=session, case_id=cid, article_id="a", reviewer_id=1)
    assert save_draft(
        session=session,
        case_id=cid,
        title="李流胶",
        body="正文",
        crops=["李"],
        region="宜宾市",
        questions=["李子流胶咋办？", "流胶用啥药？"],
    )
    assert edit_draft(session=session, case_id=cid, title="李树流胶病")
    assert mark_published(session=session, case_id=cid, article_id="case-1", reviewer_id=1)
    assert not mark_published(session=session, case_id=cid, article_id="case-1", reviewer_id=1)
    assert not reject_case(session=session, case_id=cid, reviewer_id=1)
    done = get_case(session=session, case_id=cid)
    assert done.status == CaseStatus.PUBLISHED and done.title == "李树流胶病"
    assert open_cases(session=session) == []


def test_mydata_shows_cases_and_delete_me_removes_unpublished_ones(session: Session) -> None:
    farmer, expert, case = resolved_case(session)
    assert [
        c["note"] for c in export_person(session=session, user_id=expert.id)["knowledge_cases"]
    ] == ["刮除病皮后涂石硫合剂"]
    assert len(export_person(session=session, user_id=farmer.id)["knowledge_cases"]) == 1
    _, other, published = resolved_case(session, "开沟排水")
    pid = published.id or 0
    answer_offer(session=session, order_id=published.order_id, expert_id=other.id, share=True)
    save_draft(
        session=session, case_id=pid, title="t", body="b", crops=[], region="", questions=[]
    )
    mark_published(session=session, case_id=pid, article_id="case-2", reviewer_id=1)

    forget_person(session=session, user_id=expert.id or 0)
    forget_person(session=session, user_id=other.id or 0)
    session.expire_all()
    assert open_cases(session=session) == []
    kept = get_case(session=session, case_id=pid)
    assert kept.status == CaseStatus.PUBLISHED and kept.note == "" and kept.expert_id is None
    assert export_person(session=session, user_id=farmer.id)["knowledge_cases"] == []
