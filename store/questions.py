"""The question log: every question asked, answered or not (the knowledge-gap list)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, insert
from sqlmodel import Field, Session, SQLModel

from store import phone, rollup_gaps
from store.clock import utcnow
from store.prepared import Prepared
from store.rollups import question_logged
from store.validation import clean_text


class QuestionLog(SQLModel, table=True):
    __tablename__ = "question_log"
    # the regional indicators count questions per region and period (store.metrics)
    __table_args__ = (
        Index("ix_question_log_region", "province", "city", "county", "created_at", "answered"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    question: str = Field(max_length=2000)
    answered: bool = Field(default=False, index=True)
    top_hit: str = Field(default="", max_length=128)
    top_title: str = Field(default="", max_length=256)
    score: float = 0.0
    province: str = Field(default="", max_length=32)
    city: str = Field(default="", max_length=32)
    county: str = Field(default="", max_length=32)
    feedback: int = 0  # 1 有用, -1 没用, 0 no vote (store.feedback)
    created_at: datetime = Field(default_factory=utcnow, index=True)


def _values(
    question: str,
    answered: bool,
    user_id: int | None,
    top_hit: str,
    top_title: str,
    score: float,
    region: tuple[str, str, str],
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "question": phone.mask(clean_text(question, field="question", max_len=2000)),
        "answered": answered,
        "top_hit": top_hit[:128],
        "top_title": top_title[:256],
        "score": float(score),
        "province": region[0],
        "city": region[1],
        "county": region[2],
    }


def log_question(
    *,
    session: Session,
    question: str,
    answered: bool,
    user_id: int | None = None,
    top_hit: str = "",
    top_title: str = "",
    score: float = 0.0,
    region: tuple[str, str, str] = ("", "", ""),
    commit: bool = True,
) -> QuestionLog:
    """Record one question and whether the knowledge base could answer it.

    Phones in the question are masked before it is stored: the gap list (``tianfu kb gaps``,
    the dashboard) shows questions to administrators, who must not see askers' numbers.
    *commit* False: only flushed (it gets its id), for a caller that commits its whole unit
    of work once (a conversation turn; :func:`add_question` is its lighter form).
    """
    question_id = add_question(
        session=session,
        question=question,
        answered=answered,
        user_id=user_id,
        top_hit=top_hit,
        top_title=top_title,
        score=score,
        region=region,
        commit=commit,
    )
    row = session.get(QuestionLog, question_id)
    assert row is not None  # just written in this session
    return row


_LOG = QuestionLog.__table__  # type: ignore[attr-defined]
_INSERT = Prepared(insert(_LOG).returning(_LOG.c.id))  # run on every question turn


def add_question(
    *,
    session: Session,
    question: str,
    answered: bool,
    user_id: int | None = None,
    top_hit: str = "",
    top_title: str = "",
    score: float = 0.0,
    region: tuple[str, str, str] = ("", "", ""),
    commit: bool = False,
) -> int:
    """:func:`log_question` as one INSERT and its rollup count, no ORM object made and
    flushed (a conversation turn logs its question this way); the new row's id. Not
    committed unless *commit*: a turn commits its whole unit of work once.

    Raises:
        ValueError: the question is empty.
    """
    values = _values(question, answered, user_id, top_hit, top_title, score, region)
    values |= {"feedback": 0, "created_at": utcnow()}
    inserted = _INSERT.first(session, values)
    assert inserted is not None  # RETURNING gives the new row
    where = (values["province"], values["city"], values["county"])
    question_logged(session, region=where, at=values["created_at"], answered=answered)
    if not answered and values["question"]:
        kind, at = rollup_gaps.UNANSWERED, values["created_at"]
        rollup_gaps.add(session, [rollup_gaps.GapFact(kind, where, at, values["question"])])
    if commit:
        session.commit()
    return int(inserted[0])


def get_question(*, session: Session, question_id: int) -> QuestionLog | None:
    """A logged question, or None (also for numbers no row can have)."""
    if not 1 <= question_id <= 2**63 - 1:
        return None
    return session.get(QuestionLog, question_id)
