"""Imported question-and-answer items (an extension station's archive, a hotline's log).

Each item is one question with its answer, from one named source; answers cite it like an
article, and a whole source can be taken out again. Personal data is masked before an item is
stored (``knowledge.qa`` does it on import).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Field, Session, SQLModel, col, delete, select

from store.clock import utcnow

MAX_QUESTION, MAX_ANSWER, MAX_SOURCE = 300, 3000, 64
DOC_PREFIX = "qa-"  # index ids of imported items start with this


def is_qa_doc(doc_id: str) -> bool:
    """Whether an index id is an imported Q&A item (its citation names the source)."""
    return doc_id.startswith(DOC_PREFIX)


class QAItem(SQLModel, table=True):
    __tablename__ = "qa_items"

    id: int | None = Field(default=None, primary_key=True)
    doc_id: str = Field(max_length=64, unique=True)  # its id in the knowledge index
    source: str = Field(max_length=MAX_SOURCE, index=True)
    question: str = Field(max_length=MAX_QUESTION)
    answer: str = Field(max_length=MAX_ANSWER * 2)
    norm: str = Field(default="", max_length=MAX_QUESTION)  # what near-duplicates compare
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def qa_items(*, session: Session, source: str | None = None) -> list[QAItem]:
    """Every item (of one *source*), oldest first."""
    query = select(QAItem).order_by(col(QAItem.id))
    if source is not None:
        query = query.where(QAItem.source == source)
    return list(session.exec(query).all())


def save_qa_items(*, session: Session, items: Sequence[QAItem]) -> list[QAItem]:
    """Insert new items and update changed ones (matched by doc_id), in one transaction."""
    saved: list[QAItem] = []
    for item in items:
        existing = session.exec(select(QAItem).where(QAItem.doc_id == item.doc_id)).first()
        if existing is None:
            session.add(item)
            saved.append(item)
            continue
        existing.question, existing.answer, existing.norm = item.question, item.answer, item.norm
        existing.updated_at = utcnow()
        session.add(existing)
        saved.append(existing)
    session.commit()
    for item in saved:
        session.refresh(item)
    return saved


def remove_qa_source(*, session: Session, source: str) -> list[str]:
    """Delete every item of *source*; the doc ids that went (for the index)."""
    ids = list(session.exec(select(QAItem.doc_id).where(QAItem.source == source)).all())
    session.exec(delete(QAItem).where(col(QAItem.source) == source))
    session.commit()
    return ids


def qa_sources(*, session: Session) -> list[tuple[str, int]]:
    """(source, number of items), by source name."""
    from sqlalchemy import func

    rows = session.exec(
        select(QAItem.source, func.count()).group_by(QAItem.source).order_by(QAItem.source)
    ).all()
    return [(str(s), int(n)) for s, n in rows]
