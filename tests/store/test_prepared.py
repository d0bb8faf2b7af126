"""Hot statements on the DBAPI cursor (store.prepared) store and read what SQLAlchemy would,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store.conversations import ConversationState, load_state, save_state, saved_state
from store.prepared import Prepared
from store.questions import QuestionLog, add_question
from store.updates import HandledUpdate, add_handled, handled_or_blocked


def test_a_saved_state_reads_back_whole(session: Session):
    state = {"form": {"slots": {"crop": "李", "phone": None}}, "v": 3, "list": [1, "二"]}
    assert saved_state(session=session, channel="telegram", external_id="1") is None
    save_state(session=session, channel="telegram", external_id="1", data=state, new=True)
    assert load_state(session=session, channel="telegram", external_id="1") == state
    changed = {**state, "v": 4}
    save_state(session=session, channel="telegram", external_id="1", data=changed)
    assert load_state(session=session, channel="telegram", external_id="1") == changed
    row = session.exec(select(ConversationState)).one()[0]
    assert isinstance(row.updated_at, datetime)  # a real timestamp, as the ORM writes it


def test_a_handled_update_is_seen_and_refused_twice(session: Session):
    assert handled_or_blocked(
        session=session, channel="telegram", update_id="9", external_id="5"
    ) == (False, False)
    add_handled(session=session, channel="telegram", update_id="9", chat_id="5")
    session.commit()
    assert handled_or_blocked(
        session=session, channel="telegram", update_id="9", external_id="5"
    ) == (True, False)
    with pytest.raises(IntegrityError):  # SQLAlchemy's error, as callers catch it
        add_handled(session=session, channel="telegram", update_id="9", chat_id="5")
    session.rollback()
    row = session.exec(select(HandledUpdate)).one()[0]
    assert row.handled_at.replace(tzinfo=UTC).year >= 2024


def test_a_logged_question_gets_its_own_id(session: Session):
    first = add_question(session=session, question="稻瘟病怎么防治", answered=True)
    second = add_question(session=session, question="量子计算机是什么", answered=False)
    session.commit()
    assert second == first + 1
    logged = session.get(QuestionLog, second)
    assert logged is not None and logged.question == "量子计算机是什么"


def test_a_statement_with_python_defaults_goes_through_sqlalchemy(session: Session):
    # HandledUpdate's status and result are left to their defaults: the compiled INSERT
    # needs SQLAlchemy to fill them, so it runs through session.execute
    table = HandledUpdate.__table__  # type: ignore[attr-defined]
    stmt = Prepared(insert(table))
    stmt.execute(session, {"channel": "web", "update_id": "1"})
    row = session.exec(select(HandledUpdate)).one()[0]
    assert (row.channel, row.update_id) == ("web", "1")
