"""Replies held for a waiting request (store.replies): the request or the sender delivers each
row, never both; of two requests for the same update only one takes the rows."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from store.clock import as_utc, utcnow
from store.outbox import OutboxMessage, due
from store.replies import held_replies, record_replies, release_replies, reply_ids, take_replies


def _record(session, update_id: str = "u1", seconds: float = 60.0) -> list[int]:  # type: ignore[no-untyped-def]
    ids = record_replies(
        session=session,
        channel="web",
        update_id=update_id,
        chat_id="sid-1",
        rows=[
            {"channel": "web", "external_id": "sid-1", "text": "您好"},
            {"channel": "web", "external_id": "sid-1", "text": "还有一句"},
        ],
        until=utcnow() + timedelta(seconds=seconds),
    )
    session.commit()
    return ids


def test_a_handled_update_names_its_held_replies_which_no_sender_sees(session) -> None:
    assert reply_ids(session=session, channel="web", update_id="u1") is None  # not handled yet
    ids = _record(session)
    assert reply_ids(session=session, channel="web", update_id="u1") == ids
    assert [r.text for r in held_replies(session=session, ids=ids)] == ["您好", "还有一句"]
    assert due(session=session, channel="web") == []  # held: the sender does not take them


def test_only_one_request_takes_the_rows(session) -> None:
    ids = _record(session)
    assert take_replies(session=session, ids=ids) is True
    assert take_replies(session=session, ids=ids) is False  # the retry finds them taken
    rows = session.exec(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"}


def test_after_the_deadline_the_sender_delivers_and_the_request_cannot_take(session) -> None:
    ids = _record(session, seconds=-1)  # the request stopped waiting
    assert held_replies(session=session, ids=ids) == []
    assert take_replies(session=session, ids=ids) is False
    assert [r.id for r in due(session=session, channel="web")] == ids


def test_a_cut_row_is_shortened_once_and_the_rest_released_at_once(session) -> None:
    ids = _record(session)
    cut = (ids[1], "还有一句", "一句")
    assert take_replies(session=session, ids=[ids[0]], cut=cut) is True
    assert take_replies(session=session, ids=[], cut=cut) is False  # its text changed
    assert release_replies(session=session, ids=[ids[1]]) == 1
    left = due(session=session, channel="web")
    assert [(r.id, r.text) for r in left] == [(ids[1], "一句")]
    assert as_utc(left[0].next_attempt_at) <= utcnow()
