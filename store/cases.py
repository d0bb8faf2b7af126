"""Expert solutions on their way into the knowledge base (the curation queue).

When an expert resolves an order with a note they are asked whether the solution may be
shared; a shared one waits here for an administrator, who drafts an article from it, edits,
publishes or rejects it. Every move is one conditional UPDATE, so two administrators pressing
发布 at once publish once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, update
from sqlmodel import Field, Session, SQLModel, col, select

from store.clock import utcnow
from store.errors import NotFound


class CaseStatus(StrEnum):
    ASKED = "asked"  # the expert was asked whether it may be shared
    DECLINED = "declined"  # the expert said no
    QUEUED = "queued"  # shared, waiting for an administrator
    DRAFTED = "drafted"  # an article draft exists
    PUBLISHED = "published"
    REJECTED = "rejected"


OPEN = (CaseStatus.QUEUED, CaseStatus.DRAFTED)


class KnowledgeCase(SQLModel, table=True):
    __tablename__ = "knowledge_cases"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", unique=True)
    need_id: int = Field(foreign_key="needs.id", index=True)
    expert_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    status: CaseStatus = Field(default=CaseStatus.ASKED, sa_type=String(16), index=True)
    note: str = Field(default="", max_length=2000)  # the expert's solution, phones masked
    title: str = Field(default="", max_length=120)
    body: str = Field(default="", max_length=4000)
    crops: str = Field(default="", max_length=200)  # comma-separated
    region: str = Field(default="", max_length=64)
    questions: str = Field(default="", max_length=1000)  # one per line
    article_id: str = Field(default="", max_length=80)
    reviewer_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def offer_case(
    *, session: Session, order_id: int, need_id: int, expert_id: int, note: str
) -> KnowledgeCase:
    """Record that the expert is asked about sharing this order's solution (once per order)."""
    existing = session.exec(
        select(KnowledgeCase).where(KnowledgeCase.order_id == order_id)
    ).first()
    if existing is not None:
        return existing
    case = KnowledgeCase(order_id=order_id, need_id=need_id, expert_id=expert_id, note=note)
    session.add(case)
    session.commit()
    session.refresh(case)
    return case


def _move(
    session: Session,
    where: list[object],
    sources: tuple[CaseStatus, ...],
    values: dict[str, object],
) -> bool:
    result = session.execute(
        update(KnowledgeCase)
        .where(*where, col(KnowledgeCase.status).in_([s.value for s in sources]))  # type: ignore[arg-type]
        .values(**values, updated_at=utcnow())
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def answer_offer(*, session: Session, order_id: int, expert_id: int, share: bool) -> bool:
    """The expert's answer: queued for the administrators, or declined. False when there is
    nothing to answer (not their case, or answered already)."""
    status = CaseStatus.QUEUED if share else CaseStatus.DECLINED
    return _move(
        session,
        [KnowledgeCase.order_id == order_id, KnowledgeCase.expert_id == expert_id],
        (CaseStatus.ASKED,),
        {"status": status.value},
    )


def get_case(*, session: Session, case_id: int) -> KnowledgeCase:
    case = session.get(KnowledgeCase, case_id)
    if case is None:
        raise NotFound("case", case_id)
    session.refresh(case)
    return case


def open_cases(*, session: Session, limit: int = 20) -> list[KnowledgeCase]:
    """Shared solutions waiting for an administrator, oldest first."""
    query = (
        select(KnowledgeCase)
        .where(col(KnowledgeCase.status).in_([s.value for s in OPEN]))
        .order_by(col(KnowledgeCase.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def save_draft(
    *,
    session: Session,
    case_id: int,
    title: str,
    body: str,
    crops: list[str],
    region: str,
    questions: list[str],
) -> bool:
    """Store an article draft for an open case (replacing an earlier draft)."""
    return _move(
        session,
        [KnowledgeCase.id == case_id],
        OPEN,
        {
            "status": CaseStatus.DRAFTED.value,
            "title": title[:120],
            "body": body[:4000],
            "crops": ",".join(crops)[:200],
            "region": region[:64],
            "questions": "\n".join(questions)[:1000],
        },
    )


def edit_draft(
    *, session: Session, case_id: int, title: str | None = None, body: str | None = None
) -> bool:
    """Change a draft's title or body."""
    values: dict[str, object] = {}
    if title is not None:
        values["title"] = title[:120]
    if body is not None:
        values["body"] = body[:4000]
    return _move(session, [KnowledgeCase.id == case_id], (CaseStatus.DRAFTED,), values)


def mark_published(*, session: Session, case_id: int, article_id: str, reviewer_id: int) -> bool:
    """The draft is now the article *article_id*; False when someone else got there first."""
    return _move(
        session,
        [KnowledgeCase.id == case_id],
        (CaseStatus.DRAFTED,),
        {
            "status": CaseStatus.PUBLISHED.value,
            "article_id": article_id,
            "reviewer_id": reviewer_id,
        },
    )


def reject_case(*, session: Session, case_id: int, reviewer_id: int) -> bool:
    return _move(
        session,
        [KnowledgeCase.id == case_id],
        OPEN,
        {"status": CaseStatus.REJECTED.value, "reviewer_id": reviewer_id},
    )
