"""`tianfu db backup` and `tianfu db restore`: a round trip keeps every order and event."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from bot.demo import Size, seed
from store.db import init_db, make_engine


def _snapshot(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    engine = make_engine(url)
    with Session(engine) as s:
        orders = list(s.execute(text("SELECT * FROM orders ORDER BY id")).all())
        events = list(s.execute(text("SELECT * FROM order_events ORDER BY id")).all())
    engine.dispose()
    return [tuple(r) for r in orders], [tuple(r) for r in events]


def test_backup_and_restore_round_trip(tianfu, tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "var" / "tianfu.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    init_db(engine)
    seed(engine, Size(experts=10, requesters=40, needs=80, questions=30, weeks=4))
    engine.dispose()
    before = _snapshot(url)
    assert before[0] and before[1]

    backup = tmp_path / "backups" / "tianfu-backup.db"
    out = tianfu("db", "backup", str(backup), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "80 needs" in out.stdout and backup.exists()
    again = tianfu("db", "backup", str(backup), cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr

    # the live database changes (and loses orders) after the backup
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM order_events WHERE id % 2 = 0"))
        conn.execute(text("UPDATE orders SET status = 'cancelled'"))
    engine.dispose()
    assert _snapshot(url) != before

    out = tianfu("db", "restore", str(backup), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "restored" in out.stdout
    assert _snapshot(url) == before


def test_restore_refuses_what_is_no_tianfu_database(tianfu, tmp_path: Path):  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    out = tianfu("db", "restore", str(junk), cwd=tmp_path)
    assert out.returncode == 2 and "refused" in out.stderr
    assert tianfu("db", "restore", str(tmp_path / "none.db"), cwd=tmp_path).returncode == 2


def test_postgresql_gets_guidance(tianfu, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = "postgresql+psycopg://tianfu@127.0.0.1:1/tianfu"
    for action in ("backup", "restore"):
        out = tianfu("db", action, str(tmp_path / "x.dump"), cwd=tmp_path, database_url=url)
        assert out.returncode == 2
        assert "pg_dump" in out.stderr and "pg_restore" in out.stderr
