"""What lets several processes share one database: outbox claims with a lease, the unique
handled-update row, and job leases; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store.clock import utcnow
from store.leases import lease_holder, release_lease, take_lease
from store.outbox import backlog, claim, enqueue_many, mark
from store.updates import add_handled, handled_order, prune_handled, was_handled


def _queue(session: Session, *chats_texts: tuple[str, str], channel: str = "telegram") -> None:
    enqueue_many(
        session=session,
        messages=[{"channel": channel, "external_id": c, "text": t} for c, t in chats_texts],
    )


def test_a_claimed_chat_is_nobody_elses_until_its_rows_are_done(session: Session):
    _queue(session, ("1", "a1"), ("2", "b1"), ("1", "a2"), ("3", "c1"))
    _queue(session, ("9", "web"), channel="web")
    first = claim(session=session, channel="telegram", worker="s1", limit=2)
    # whole chats, in queue order: chat 1's two rows and chat 2's row; never the web channel's
    assert [(r.external_id, r.text) for r in first] == [("1", "a1"), ("2", "b1"), ("1", "a2")]
    second = claim(session=session, channel="telegram", worker="s2", limit=10)
    assert [r.text for r in second] == ["c1"]
    _queue(session, ("1", "a3"))  # a new message for a chat s1 holds waits for s1
    assert [r.text for r in claim(session=session, channel="telegram", worker="s2")] == ["c1"]
    again = claim(session=session, channel="telegram", worker="s1", limit=10)
    assert [r.text for r in again] == ["a1", "b1", "a2", "a3"]  # s1 sees what it holds
    for row in again[:2]:
        mark(session=session, message_id=row.id or 0, status="sent")
    assert backlog(session=session, channel="telegram") == 3
    assert backlog(session=session) == 4


def test_a_dead_senders_claims_expire(session: Session):
    _queue(session, ("1", "a1"))
    now = utcnow()
    assert claim(session=session, channel="telegram", worker="dead", lease=30, now=now)
    later = now + timedelta(seconds=31)
    assert (
        claim(session=session, channel="telegram", worker="s2", now=now + timedelta(seconds=5))
        == []
    )
    rows = claim(session=session, channel="telegram", worker="s2", now=later)
    assert [r.claimed_by for r in rows] == ["s2"]


def test_senders_racing_never_claim_one_row_twice(file_engine: Engine):
    with Session(file_engine) as s:
        _queue(s, *((str(i % 40), f"m{i}") for i in range(400)))
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def sender(name: str) -> None:
        mine: list[int] = []
        try:
            with Session(file_engine, expire_on_commit=False) as s:
                while rows := claim(session=s, channel="telegram", worker=name, limit=3):
                    for row in rows:
                        mine.append(row.id or 0)
                        mark(session=s, message_id=row.id or 0, status="sent")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        got[name] = mine

    threads = [threading.Thread(target=sender, args=(f"s{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sent = [i for ids in got.values() for i in ids]
    assert sorted(sent) == list(range(1, 401))  # every row once, none twice


def test_an_update_is_handled_once(session: Session):
    assert not was_handled(session=session, channel="telegram", update_id="7")
    add_handled(session=session, channel="telegram", update_id="7", chat_id="42")
    session.commit()
    assert was_handled(session=session, channel="telegram", update_id="7")
    assert not was_handled(session=session, channel="web", update_id="7")
    with pytest.raises(IntegrityError):
        add_handled(session=session, channel="telegram", update_id="7", chat_id="42")
        session.commit()
    session.rollback()
    add_handled(session=session, channel="telegram", update_id="8", chat_id="42")
    session.commit()
    assert handled_order(session=session, channel="telegram") == [("42", "7"), ("42", "8")]
    assert prune_handled(session=session, before=utcnow() + timedelta(seconds=1)) == 2


def test_a_lease_has_one_holder_until_it_expires(session: Session):
    now = utcnow()
    assert take_lease(session=session, name="scheduler", holder="a", seconds=30, now=now)
    assert not take_lease(session=session, name="scheduler", holder="b", seconds=30, now=now)
    assert take_lease(session=session, name="scheduler", holder="a", seconds=30, now=now)
    assert lease_holder(session=session, name="scheduler", now=now) == "a"
    later = now + timedelta(seconds=31)
    assert take_lease(session=session, name="scheduler", holder="b", seconds=30, now=later)
    release_lease(session=session, name="scheduler", holder="b")
    assert lease_holder(session=session, name="scheduler") == ""
    assert take_lease(session=session, name="scheduler", holder="c", seconds=30)


def test_racing_processes_take_a_lease_once(file_engine: Engine):
    winners: list[str] = []

    def take(name: str) -> None:
        with Session(file_engine) as s:
            if take_lease(session=s, name="round", holder=name, seconds=60):
                winners.append(name)

    threads = [threading.Thread(target=take, args=(f"p{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_a_version_6_database_gets_the_claim_columns(engine: Engine):
    from store.db import SCHEMA_VERSION, init_db
    from tests.factories import downgrade

    downgrade(engine, 6)
    assert init_db(engine) == SCHEMA_VERSION
    with Session(engine) as s:
        _queue(s, ("1", "a1"))
        assert [r.claimed_by for r in claim(session=s, channel="telegram", worker="s1")] == ["s1"]
