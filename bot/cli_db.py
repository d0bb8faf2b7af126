"""`tianfu db backup FILE` and `tianfu db restore FILE`: SQLite through its online backup API
(safe while the assistant runs); PostgreSQL is backed up with its own tools."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import Settings

PG_GUIDANCE = """\
tianfu db {action}: the database is PostgreSQL; use its own tools, e.g.
  pg_dump --format=custom --file=tianfu.dump "$DATABASE_URL"      (backup)
  pg_restore --clean --if-exists --dbname="$DATABASE_URL" tianfu.dump   (restore)
(for a URL with +psycopg, drop the "+psycopg" part). Keep dumps encrypted and access-controlled:
they hold personal data."""


def _sqlite_path(settings: Settings, action: str) -> Path | None:
    url = make_url(settings.db_url)
    if url.get_backend_name() != "sqlite":
        print(PG_GUIDANCE.format(action=action), file=sys.stderr)
        return None
    return Path(url.database or "")


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    with target:
        source.backup(target)


def _counts(conn: sqlite3.Connection) -> str:
    counts = []
    for table in ("users", "needs", "orders", "order_events", "question_log"):
        (n,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - fixed names
        counts.append(f"{n} {table}")
    return ", ".join(counts)


def _check(path: Path) -> str:
    """ "" when *path* is a sound tianfu SQLite database, else why not."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                return "the file is damaged (quick_check failed)"
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not {"schema_version", "orders", "order_events"} <= names:
                return "the file is no tianfu database"
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"the file is no SQLite database ({exc})"
    return ""


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    db = _sqlite_path(settings, "backup")
    if db is None:
        return 2
    target = Path(args.file)
    if not db.exists():
        print(f"tianfu db backup: no database at {db}", file=sys.stderr)
        return 2
    if target.exists() and not args.force:
        print(f"tianfu db backup: {target} exists (use --force to replace it)", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(db)
    out = sqlite3.connect(tmp)
    try:
        _copy(source, out)
        counts = _counts(out)
    finally:
        out.close()
        source.close()
    tmp.replace(target)
    print(f"backup written to {target}: {counts}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    db = _sqlite_path(settings, "restore")
    if db is None:
        return 2
    source_path = Path(args.file)
    if not source_path.is_file():
        print(f"tianfu db restore: no such file: {source_path}", file=sys.stderr)
        return 2
    why = _check(source_path)
    if why:
        print(f"tianfu db restore: refused: {why}", file=sys.stderr)
        return 2
    db.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(db, timeout=30)
    try:
        _copy(source, target)  # page by page into the live file, under its own lock
        counts = _counts(target)
    finally:
        target.close()
        source.close()
    print(f"database {db} restored from {source_path}: {counts}")
    return 0


def register(db_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backup = db_sub.add_parser("backup", help="copy the SQLite database to FILE (online)")
    backup.add_argument("file", metavar="FILE")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(handler=cmd_backup)
    restore = db_sub.add_parser("restore", help="replace the SQLite database with FILE")
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(handler=cmd_restore)
