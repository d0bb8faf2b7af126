"""Hot statements run on the session's DBAPI cursor, compiled once per dialect.

Every turn runs the same few small statements (was this update handled, save the state,
record the update, log the question). Through ``Session.execute`` each costs about 100 µs of
SQLAlchemy's Python (a cache key, an execution context, a result object) around 15 µs of
SQLite (issue 17). A :class:`Prepared` statement is compiled once per dialect and set of
parameter names, and each call only converts the parameters with the dialect's own bind
processors and executes on the connection the session's transaction already uses: the same
SQL, the same values and the same transaction as ``session.execute`` would give.

The engine's ``before_cursor_execute`` listeners still hear every statement (SQL logging,
the benchmarks' statement counts), and a driver error is raised as SQLAlchemy's own
(``sqlalchemy.exc.IntegrityError`` for a unique key). A statement whose compiled form needs
SQLAlchemy at run time (Python-side column defaults, expanding IN lists) goes through
``session.execute`` as before. Rows are returned as the driver gives them (no result
processing), so hot reads here return only plain numbers.

The ORM session does not autoflush before these statements: they touch tables nothing in
a turn holds as pending ORM objects, and a turn's pending objects are flushed at its commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlmodel import Session


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: Sequence[str]  # the DBAPI's parameters in order (positional) or by name
    defaults: Mapping[str, Any]  # values the statement carries itself (LIMIT 1)
    processors: Mapping[str, Callable[[Any], Any]]
    positional: bool


class Prepared:
    """One Core statement, executed without SQLAlchemy's per-call work (module docstring).

    Args:
        statement: an INSERT, UPDATE, DELETE or SELECT with named bind parameters.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._forms: dict[tuple[str, frozenset[str]], _Compiled | None] = {}

    def execute(self, session: Session, params: Mapping[str, Any]) -> int:
        """Run it with *params* in the session's transaction; the rows it changed."""
        cursor = self._run(session, params)
        if cursor is None:
            result: Any = session.execute(self.statement, dict(params))
            return int(result.rowcount)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run it with *params*; its first row as the driver returns it, or None."""
        cursor = self._run(session, params)
        if cursor is None:
            found = session.execute(self.statement, dict(params)).first()
            return None if found is None else tuple(found)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else tuple(row)

    def _run(self, session: Session, params: Mapping[str, Any]) -> Any:
        """The DBAPI cursor it ran on, or None for a statement that needs SQLAlchemy."""
        conn = session.connection()
        form = self._form(conn.dialect, params)
        if form is None:
            return None
        values = {**form.defaults, **params}
        for name, process in form.processors.items():
            values[name] = process(values[name])
        args: Any = (
            tuple(values[n] for n in form.names)
            if form.positional
            else {n: values[n] for n in form.names}
        )
        fairy = conn.connection
        cursor = fairy.cursor()
        for listener in conn.dispatch.before_cursor_execute:
            listener(conn, cursor, form.sql, args, None, False)
        try:
            cursor.execute(form.sql, args)
        except Exception as error:
            cursor.close()
            raise _translated(conn, fairy, form.sql, args, error) from error
        return cursor

    def _form(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled | None:
        key = (dialect.name, frozenset(params))
        if key not in self._forms:
            self._forms[key] = _compile(self.statement, dialect, list(params))
        return self._forms[key]


def _compile(statement: Executable, dialect: Dialect, keys: list[str]) -> _Compiled | None:
    """The statement as the DBAPI runs it, or None when it needs SQLAlchemy at run time."""
    clause = cast(ClauseElement, statement)  # every Core statement is both
    compiled: Any = clause.compile(dialect=dialect, column_keys=keys)
    binds = compiled.bind_names  # BindParameter -> its name in the SQL
    needs_sqlalchemy = (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
        or any(b.callable is not None for b in binds)
    )
    if needs_sqlalchemy:
        return None
    defaults = {name: b.value for b, name in binds.items() if not b.required}
    positional = bool(compiled.positional)
    names = list(compiled.positiontup) if positional else list(dict.fromkeys(binds.values()))
    return _Compiled(
        sql=compiled.string,
        names=names,
        defaults=defaults,
        processors=dict(compiled._bind_processors),
        positional=positional,
    )


def _translated(conn: Connection, fairy: Any, sql: str, args: Any, error: Exception) -> Exception:
    """A driver error as SQLAlchemy raises it (IntegrityError, OperationalError ...); a lost
    connection is invalidated, as SQLAlchemy does, so that the pool replaces it."""
    dialect = conn.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    if not isinstance(error, dbapi_error):
        return error
    lost = dialect.is_disconnect(error, fairy, None)
    if lost:
        conn.invalidate(error)
    return exc.DBAPIError.instance(
        sql, args, error, dbapi_error, connection_invalidated=lost, dialect=dialect
    )
