"""`tianfu achievements import FILE --owner USER_ID`: register a file of achievements (CSV or
JSONL) for an expert; bad rows are reported by line number, the rest are kept."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import Session

    from bot.app import open_database
    from store.achievement_files import UnreadableFile, import_achievements
    from store.errors import InvalidInput
    from store.users import User

    path = Path(args.file)
    if not path.is_file():
        print(f"tianfu achievements import: no such file: {path}", file=sys.stderr)
        return 2
    engine, _ = open_database(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            owner = session.get(User, args.owner)
            if owner is None:
                print(f"tianfu achievements import: no user with id {args.owner}", file=sys.stderr)
                return 2
            try:
                report = import_achievements(
                    session=session, owner=owner, name=path.name, data=path.read_bytes()
                )
            except UnreadableFile as err:
                print(f"tianfu achievements import: {path}: {err}", file=sys.stderr)
                return 1
            except InvalidInput as err:
                print(
                    f"tianfu achievements import: user {args.owner} may not register "
                    f"achievements ({err.reason}); register them as an expert first",
                    file=sys.stderr,
                )
                return 1
    finally:
        engine.dispose()
    for row in report.added:
        print(f"added #{row.id} {row.title}")
    for bad in report.bad:
        print(f"{path}:{bad.line}: {bad.reason}", file=sys.stderr)
    print(f"{len(report.added)} achievements added, {len(report.bad)} rows refused")
    return 1 if report.bad and not report.added else 0


def register(sub: Any) -> None:
    ach = sub.add_parser("achievements", help="the achievements catalogue (科技成果)")
    ach_sub = ach.add_subparsers(dest="achievements_command", required=True)
    imp = ach_sub.add_parser(
        "import", help="register a CSV or JSONL file of achievements for an expert"
    )
    imp.add_argument("file", help="a .csv (with a header row) or .jsonl file")
    imp.add_argument("--owner", type=int, required=True, help="the expert's user id")
    imp.set_defaults(handler=cmd_import)
