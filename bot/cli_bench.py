"""`tianfu bench ...`: benchmarks that print their figures as one JSON line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.settings import Settings


def cmd_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    if args.scale:
        from bench import scale

        print(json.dumps(scale.run(args.scale, queries=args.queries), ensure_ascii=False))
        return 0
    if not args.data:
        print(
            "tianfu bench retrieval: --data FILE.jsonl is required (or --scale N)", file=sys.stderr
        )
        return 2
    from bench import retrieval

    for p in (args.data, args.corpus):
        if p is not None and not p.exists():
            print(f"tianfu bench retrieval: no such file: {p}", file=sys.stderr)
            return 2
    result = retrieval.run(args.data, args.corpus, args.predictions)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_nlu(args: argparse.Namespace, settings: Settings) -> int:
    from bench import nlu

    for path in args.data:
        if not path.exists():
            print(f"tianfu bench nlu: no such file: {path}", file=sys.stderr)
            return 2
    for path in args.data:
        result = nlu.score(path, show_errors=args.errors)
        errors = result.pop("errors", [])
        print(json.dumps(result, ensure_ascii=False))
        for e in errors:
            print(
                f"  {e['id']} {e['field']}: gold={e['gold']!r} got={e['got']!r}  {e['text']}",
                file=sys.stderr,
            )
    return 0


def cmd_matching(args: argparse.Namespace, settings: Settings) -> int:
    from bench import matching

    print(json.dumps(matching.run(args.experts, args.needs), ensure_ascii=False))
    return 0


def cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    from bench import bot as bot_bench

    print(json.dumps(bot_bench.run(args.updates), ensure_ascii=False))
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from bench import stats

    result = stats.run(args.needs, url=args.url or "")
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_push(args: argparse.Namespace, settings: Settings) -> int:
    from bench import push

    if args.users < 1:
        print("tianfu bench push: --users must be at least 1", file=sys.stderr)
        return 2
    print(json.dumps(push.run(args.users), ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="benchmarks (print JSON figures)")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="NAME", required=True)
    ret = bench_sub.add_parser("retrieval", help="retrieval quality vs BM25 baseline, or --scale")
    ret.add_argument("--data", type=Path, help="JSONL with question/answer (or doc_id) rows")
    ret.add_argument("--corpus", type=Path, help="JSONL corpus with doc_id and text")
    ret.add_argument("--predictions", type=Path, help="write {id, ranked} lines here")
    ret.add_argument("--scale", type=int, nargs="?", const=100_000, help="synthetic chunks")
    ret.add_argument("--queries", type=int, default=500, help="queries in --scale mode")
    ret.set_defaults(handler=cmd_retrieval)
    nlu = bench_sub.add_parser("nlu", help="per-field accuracy of the offline understanding")
    nlu.add_argument("--data", type=Path, nargs="+", required=True, help="labelled JSONL file(s)")
    nlu.add_argument("--errors", action="store_true", help="list every miss on stderr")
    nlu.set_defaults(handler=cmd_nlu)
    mat = bench_sub.add_parser("matching", help="expert matching latency, memory and quality")
    mat.add_argument("--experts", type=int, default=100_000)
    mat.add_argument("--needs", type=int, default=1000)
    mat.set_defaults(handler=cmd_matching)
    bb = bench_sub.add_parser("bot", help="updates/s and latency through the real Dispatcher")
    bb.add_argument("--updates", type=int, default=5000)
    bb.set_defaults(handler=cmd_bot)
    st = bench_sub.add_parser("stats", help="indicator views over a synthetic database")
    st.add_argument("--needs", type=int, default=1_000_000)
    st.add_argument(
        "--url", help="an empty, throwaway database URL (default: a temporary SQLite file)"
    )
    st.set_defaults(handler=cmd_stats)
    pu = bench_sub.add_parser("push", help="time and memory to plan one push round")
    pu.add_argument("--users", type=int, default=100_000)
    pu.set_defaults(handler=cmd_push)
