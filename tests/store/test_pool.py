"""PostgreSQL pool: a connection that sat idle is tested before use (a dead one replaced);
one given back a moment ago is used as it is, without a round trip."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from store.db import make_engine


def _pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(admin: Engine, pid: int) -> None:
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()


def test_an_idle_connection_that_died_is_replaced(pg_engine: Engine):
    engine = make_engine(
        pg_engine.url.render_as_string(hide_password=False), ping_idle_seconds=0.2
    )
    try:
        first = _pid(engine)
        _kill(pg_engine, first)  # a server restart, or a firewall dropping it
        time.sleep(0.4)
        assert _pid(engine) != first  # tested on checkout, replaced, no error for the caller
    finally:
        engine.dispose()


def test_a_connection_just_given_back_is_not_pinged(pg_engine: Engine):
    engine = make_engine(pg_engine.url.render_as_string(hide_password=False), ping_idle_seconds=60)
    try:
        first = _pid(engine)
        _kill(pg_engine, first)
        # no ping: the dead connection is handed out as it is and the query meets the error
        with pytest.raises(DBAPIError) as caught:
            _pid(engine)
        assert caught.value.connection_invalidated
        assert _pid(engine) != first  # the pool replaced it for the next checkout
    finally:
        engine.dispose()


def test_a_pinged_connection_can_still_take_an_isolation_level(pg_engine: Engine):
    engine = make_engine(
        pg_engine.url.render_as_string(hide_password=False), ping_idle_seconds=0.05
    )
    try:
        _pid(engine)
        time.sleep(0.2)  # idle: the next checkout pings it
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            level = conn.execute(text("SHOW transaction_isolation")).scalar_one()
        assert level == "repeatable read"
    finally:
        engine.dispose()
