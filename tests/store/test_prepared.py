"""Hot statements on the DBAPI cursor (store.prepared) store and read what SQLAlchemy would,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store.conversations import ConversationState, load_state, save_state, saved_state
from store.prepared import Prepared
from store.questions import QuestionLog, add_question
from store.rollup_check import check
from store.rollup_tables import QUESTION_DAYS, utc_day
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


def test_a_logged_question_counts_in_its_rollups_on_the_cursor(engine, session: Session):
    # the rollup upsert (a multi-row VALUES, which SQLAlchemy compiles on every call) runs
    # prepared: no statement of the turn's question goes through SQLAlchemy's execute
    through_sqlalchemy: list[str] = []

    def heard(_conn, clause, *_args) -> None:  # type: ignore[no-untyped-def]
        through_sqlalchemy.append(str(clause))

    event.listen(engine, "before_execute", heard)
    try:
        for answered in (True, False, True):
            add_question(
                session=session,
                question="稻瘟病怎么防治",
                answered=answered,
                region=("四川省", "宜宾市", "翠屏区"),
            )
    finally:
        event.remove(engine, "before_execute", heard)
    session.commit()
    assert not [s for s in through_sqlalchemy if "rollup_question_days" in s]
    days = QUESTION_DAYS.c
    rows = session.execute(
        select(days.level, days.county, days.day, days.questions, days.unanswered).order_by(
            days.level
        )
    ).all()
    today = utc_day(datetime.now(UTC))
    assert [tuple(r) for r in rows] == [
        (0, "", today, 3, 1),
        (1, "", today, 3, 1),
        (2, "", today, 3, 1),
        (3, "翠屏区", today, 3, 1),
    ]
    assert check(session) == []  # the same figures as a recount from the question log
