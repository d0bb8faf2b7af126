"""有用 / 没用 feedback on answers and pushes, per article and per question-log row, and the
knowledge gap: questions without a (useful) answer and articles people found unhelpful."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint, case, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from store import rollup_gaps
from store.clock import as_utc, utcnow
from store.errors import InvalidInput
from store.questions import QuestionLog
from store.users import User
from store.validation import Region


class FeedbackSource(StrEnum):
    ANSWER = "q"  # ref: a question_log id
    PUSH = "p"  # ref: a push_log id


class ArticleFeedback(SQLModel, table=True):
    __tablename__ = "article_feedback"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "ref_id", name="uq_feedback_user_source_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    article_id: str = Field(max_length=128, index=True)
    source: str = Field(max_length=1)
    ref_id: int
    useful: bool
    created_at: datetime = Field(default_factory=utcnow)


def record_feedback(
    *,
    session: Session,
    user_id: int,
    article_id: str,
    source: FeedbackSource,
    ref_id: int,
    useful: bool,
) -> ArticleFeedback:
    """Store one vote; a second vote on the same answer or push replaces the first.

    For answers the question-log row also keeps the vote (1 useful, -1 not useful).

    Raises:
        InvalidInput: the article id is empty.
    """
    if not article_id:
        raise InvalidInput("article_id", article_id, "must not be empty")
    row = session.exec(
        select(ArticleFeedback).where(
            ArticleFeedback.user_id == user_id,
            ArticleFeedback.source == source.value,
            ArticleFeedback.ref_id == ref_id,
        )
    ).first()
    if row is None:
        row = ArticleFeedback(
            user_id=user_id,
            article_id=article_id[:128],
            source=source.value,
            ref_id=ref_id,
            useful=useful,
        )
    else:
        row.useful, row.created_at = useful, utcnow()
    session.add(row)
    if source is FeedbackSource.ANSWER:
        _vote_on_question(session, ref_id, 1 if useful else -1)
    session.commit()
    session.refresh(row)
    return row


def _vote_on_question(session: Session, question_id: int, vote: int) -> None:
    """Keep the vote on the question-log row, and the knowledge-gap rollup with it (a 没用
    puts the question in the gap of unhelpful answers, a change of mind takes it out)."""
    before = next(iter(rollup_gaps.rows_where(session, col(QuestionLog.id) == question_id)), None)
    session.execute(
        update(QuestionLog).where(col(QuestionLog.id) == question_id).values(feedback=vote)
    )
    if before is None or not before.question or (before.feedback < 0) == (vote < 0):
        return
    b, kind = before, rollup_gaps.UNHELPFUL
    region = (b.province, b.city, b.county)
    fact = [rollup_gaps.GapFact(kind, region, b.created_at, b.question, b.top_hit)]
    if vote < 0:
        rollup_gaps.add(session, fact)
    else:
        rollup_gaps.remove(session, fact)


@dataclass(frozen=True, slots=True)
class ArticleVotes:
    article_id: str
    useful: int
    useless: int


def article_votes(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    region: Region | None = None,
) -> list[ArticleVotes]:
    """有用 and 没用 counts per article, most 没用 first."""
    useful = func.sum(case((col(ArticleFeedback.useful) == True, 1), else_=0))  # noqa: E712
    useless = func.sum(case((col(ArticleFeedback.useful) == False, 1), else_=0))  # noqa: E712
    stmt = select(ArticleFeedback.article_id, useful, useless).group_by(
        col(ArticleFeedback.article_id)
    )
    stmt = stmt.where(*_period(col(ArticleFeedback.created_at), since, until))
    if region:
        # votes count where the voter lives
        stmt = stmt.join(User, col(User.id) == col(ArticleFeedback.user_id)).where(
            *region.within(User)
        )
    rows = [ArticleVotes(a, int(u or 0), int(n or 0)) for a, u, n in session.exec(stmt).all()]
    return sorted(rows, key=lambda v: (-v.useless, v.useful, v.article_id))


def _logged_gaps(
    session: Session, since: datetime | None, until: datetime | None, region: Region | None
) -> list[GapRow]:
    """The question rows of the knowledge gap, read from the question log itself."""
    rows: list[GapRow] = []
    unanswered = col(QuestionLog.answered) == False  # noqa: E712 - SQL comparison
    unhelpful = col(QuestionLog.feedback) < 0
    for kind, cond in (("unanswered", unanswered), ("unhelpful", unhelpful)):
        stmt = (
            select(
                QuestionLog.question,
                func.count(),
                func.max(QuestionLog.created_at),
                func.max(QuestionLog.top_hit),
            )
            .where(cond, *_period(col(QuestionLog.created_at), since, until))
            .where(col(QuestionLog.question) != "")  # texts past retention or forgotten
            .where(*(region.within(QuestionLog) if region else ()))
            .group_by(col(QuestionLog.question))
        )
        for question, n, last, top in session.exec(stmt).all():
            offered = top if kind == "unhelpful" else ""
            rows.append(GapRow(kind, question, int(n), as_utc(last), article_id=offered))
    return rows


@dataclass(frozen=True, slots=True)
class GapRow:
    """One line of the knowledge gap.

    kind: "unanswered" (no answer found), "unhelpful" (an answer rated 没用) or "article"
    (an article rated 没用 more often than 有用). For questions *text* is the question and
    *article_id* the article that was offered, if any; for articles *text* is its title as
    last seen in the question log (or the id). *variants*: other wordings of the same question
    counted in this row (dialogs.gaps merges them; the store gives one row per wording).
    """

    kind: str
    text: str
    count: int
    last_at: datetime
    article_id: str = ""
    useful: int = 0
    useless: int = 0
    variants: tuple[str, ...] = ()


def _period(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    terms = []
    if since is not None:
        terms.append(column >= since)
    if until is not None:
        terms.append(column < until)
    return terms


def knowledge_gaps(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    region: Region | None = None,
    limit: int = 50,
    days: tuple[date, date] | None = None,
) -> list[GapRow]:
    """What the knowledge base cannot answer well, most frequent first.

    Repeated questions are counted together; an article appears when it got at least one
    没用 and more 没用 than 有用. *region* keeps questions asked there and votes of people
    living there (the dashboard's view); None is everywhere. *days*: the whole UTC days
    [first, after last) that [since, until) covers, when store.rollup_reads.usable_days
    found them complete: the questions are then ranked from the gap rollup
    (store.rollup_gaps), not from the question log.
    """
    if days is not None:
        rows = [
            GapRow(kind, text, n, as_utc(last), article_id=hit if kind == "unhelpful" else "")
            for kind, text, n, last, hit in rollup_gaps.top(
                session, region or Region(), days, limit
            )
        ]
    else:
        rows = _logged_gaps(session, since, until, region)
    votes = [
        v
        for v in article_votes(session=session, since=since, until=until, region=region)
        if v.useless > v.useful
    ]
    if votes:
        ids = [v.article_id for v in votes]
        titles = dict(
            session.exec(
                select(QuestionLog.top_hit, func.max(QuestionLog.top_title))
                .where(col(QuestionLog.top_hit).in_(ids))
                .group_by(col(QuestionLog.top_hit))
            ).all()
        )
        last_vote = dict(
            session.exec(
                select(ArticleFeedback.article_id, func.max(ArticleFeedback.created_at))
                .where(col(ArticleFeedback.article_id).in_(ids))
                .group_by(col(ArticleFeedback.article_id))
            ).all()
        )
        for v in votes:
            rows.append(
                GapRow(
                    "article",
                    titles.get(v.article_id) or v.article_id,
                    v.useless,
                    as_utc(last_vote[v.article_id]),
                    article_id=v.article_id,
                    useful=v.useful,
                    useless=v.useless,
                )
            )
    rows.sort(key=lambda r: (-r.count, -r.last_at.timestamp(), r.text))
    return rows[: max(0, limit)]
