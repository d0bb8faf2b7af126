"""`tianfu stats`, `tianfu dashboard` and `tianfu demo seed`: indicators for decision-makers."""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from pathlib import Path
from typing import Any

from bot.settings import Settings


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_table(header: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table that lines up Chinese (double-width) characters."""
    cells = [header, *([_cell(v) for v in row] for row in rows)]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        parts = []
        for i, text in enumerate(row):
            pad = " " * (widths[i] - _width(text))
            parts.append(text + pad if i == 0 else pad + text)
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """CSV in UTF-8 with a byte-order mark, so that Excel shows the Chinese correctly."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


def cmd_stats_check(args: argparse.Namespace, settings: Settings) -> int:
    """`tianfu stats check`: recount the indicator rollups from the records; every difference
    by table, region and day, repaired unless --dry-run. Exit 0: none; 1: differences."""
    from bot.app import open_database
    from store.db import make_session_factory
    from store.rollup_check import check

    engine, _ = open_database(settings)
    try:
        with make_session_factory(engine)() as session:
            found = check(session, repair=not args.dry_run)
    finally:
        engine.dispose()
    for diff in found:
        what = " ".join(str(k) for k in diff.key[4:])
        print(
            f"{diff.table}  {diff.region or '全国'}  {diff.day.isoformat()}  {what}  "
            f"stored {diff.stored}  recounted {diff.expected}"
        )
    if not found:
        print("indicator rollups agree with the records")
        return 0
    done = "reported (dry run)" if args.dry_run else "repaired"
    print(f"{len(found)} rollup rows differed from the records: {done}")
    return 1


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "check":
        return cmd_stats_check(args, settings)
    from bot.app import default_region, open_database
    from bot.web.dashboard import check_period
    from dialogs.nlu.regions import RegionLookupError, lookup
    from dialogs.stats import parse_date, table
    from store.db import make_session_factory
    from store.metrics import region_report

    try:
        region = lookup(args.region) if args.region else default_region(settings)
        since = parse_date(args.since) if args.since else None
        until = parse_date(args.until) if args.until else None
        check_period(since, until)
    except (RegionLookupError, ValueError) as exc:
        print(f"tianfu stats: {exc}", file=sys.stderr)
        return 2
    engine, _ = open_database(settings)
    try:
        with make_session_factory(engine)() as session:
            report = region_report(session=session, region=region, since=since, until=until)
    except ValueError as exc:
        print(f"tianfu stats: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    header, rows = table(report, settings.locale)
    print(
        f"{region.label or '全国'}  {report.since.date().isoformat()} .. "
        f"{report.until.date().isoformat()}"
    )
    print(format_table(header, rows))
    if args.csv:
        path = Path(args.csv)
        try:
            write_csv(path, header, rows)
        except OSError as exc:
            print(f"tianfu stats: cannot write {path}: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {len(rows)} rows to {path}")
    return 0


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from bot.web.server import serve_dashboard

    if settings.dashboard_token is None or not settings.dashboard_token.get_secret_value():
        print(
            "tianfu dashboard: DASHBOARD_TOKEN is not set, so every request would be refused; "
            "set it in .env first",
            file=sys.stderr,
        )
        return 2
    host = args.host or settings.dashboard_host
    port = args.port or settings.dashboard_port
    # the token itself is not printed: terminals get logged and shared
    print(f"dashboard: http://{host}:{port}/dashboard?token=<DASHBOARD_TOKEN>", flush=True)
    serve_dashboard(settings, host, port)
    return 0


def cmd_demo_seed(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_database
    from bot.demo import SIZES, DemoRefused, seed

    engine, _ = open_database(settings)
    try:
        report = seed(engine, SIZES[args.size], force=args.force)
    except DemoRefused as exc:
        print(f"tianfu demo seed: refused: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(
        f"demo data written in {report.seconds:.1f}s: {report.experts} experts, "
        f"{report.requesters} requesters, {report.needs} needs "
        f"({report.orders_accepted} accepted), {report.questions} questions "
        f"across Sichuan's 21 cities and prefectures over 12 weeks "
        f"(channel 'demo', names 演示…, phones 199-0000-xxxx); {report.enterprises} "
        f"enterprises, {report.teams} teams, {report.achievements} achievements "
        f"({report.dockings} 对接 completed)"
    )
    return 0


def register(sub: Any) -> None:
    stats = sub.add_parser("stats", help="regional indicators as a table or CSV")
    stats.add_argument(
        "action",
        nargs="?",
        choices=["check"],
        help="check: recount the indicator rollups from the records and repair differences",
    )
    stats.add_argument(
        "--dry-run", action="store_true", help="with check: report differences, repair nothing"
    )
    stats.add_argument("--region", help="province, city or county (default STATS_REGION)")
    stats.add_argument("--since", help="first day, YYYY-MM-DD (default: 12 weeks ago)")
    stats.add_argument("--until", help="day after the last, YYYY-MM-DD (default: now)")
    stats.add_argument("--csv", metavar="FILE", help="also write the table as CSV (UTF-8, BOM)")
    stats.set_defaults(handler=cmd_stats)

    dash = sub.add_parser(
        "dashboard", help="serve the indicator dashboard (needs DASHBOARD_TOKEN)"
    )
    dash.add_argument("--host", help="listen address (default DASHBOARD_HOST)")
    dash.add_argument("--port", type=int, help="port (default DASHBOARD_PORT)")
    dash.set_defaults(handler=cmd_dashboard)

    demo = sub.add_parser("demo", help="demo data")
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    seed_cmd = demo_sub.add_parser("seed", help="fill an empty database with synthetic activity")
    seed_cmd.add_argument("--size", choices=["small", "large"], default="small")
    seed_cmd.add_argument(
        "--force", action="store_true", help="add demo data even though real users exist"
    )
    seed_cmd.set_defaults(handler=cmd_demo_seed)
