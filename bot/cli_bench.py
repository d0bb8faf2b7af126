"""`tianfu bench ...`: benchmarks that print their figures as one JSON line."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import SPLITS as BLIND_SPLITS
from bench import UNSEEN
from bot.cli_bench_load import cmd_bot, cmd_cluster, cmd_matching, cmd_push, cmd_stats, cmd_web
from bot.cli_bench_quality import (
    cmd_answers,
    cmd_calibrate,
    cmd_conversations,
    cmd_nlu,
    cmd_retrieval,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="benchmarks (print JSON figures)")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="NAME", required=True)
    ret = bench_sub.add_parser("retrieval", help="retrieval quality vs BM25 baseline, or --scale")
    ret.add_argument("--data", type=Path, help="JSONL with question/answer (or doc_id) rows")
    ret.add_argument("--corpus", type=Path, help="JSONL corpus with doc_id and text")
    ret.add_argument("--predictions", type=Path, help="write {id, ranked} lines here")
    ret.add_argument("--scale", type=int, nargs="?", const=100_000, help="synthetic chunks")
    ret.add_argument("--queries", type=int, default=500, help="queries in --scale mode")
    _llm_flags(ret, "grounded answers over the bundled corpus through the LLM")
    ret.set_defaults(handler=cmd_retrieval)
    conv = bench_sub.add_parser(
        "conversations", help="blind multi-turn conversations reaching their expected end state"
    )
    conv.add_argument("--split", choices=BLIND_SPLITS, default="tune")
    conv.add_argument("--limit", type=int, default=0, help="only the first N conversations")
    conv.add_argument("--errors", action="store_true", help="list what each failure got wrong")
    conv.set_defaults(handler=cmd_conversations)
    nlu = bench_sub.add_parser("nlu", help="per-field accuracy of the offline understanding")
    nlu.add_argument("--data", type=Path, nargs="+", help="labelled JSONL file(s)")
    nlu.add_argument(
        "--split",
        choices=BLIND_SPLITS,
        help="the blind messages bench/data/blind/messages_SPLIT.jsonl (sealed: once, at the end)",
    )
    nlu.add_argument("--errors", action="store_true", help="list every miss on stderr")
    _llm_flags(nlu, "merge the LLM's validated slots (LLM mode's extraction)")
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
    st.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="postgresql: generate the needs inside TEST_DATABASE_URL (or --url; its tables "
        "are dropped first)",
    )
    st.set_defaults(handler=cmd_stats)
    ans = bench_sub.add_parser(
        "answers", help="labelled questions through the assistant: right and honest answers"
    )
    ans.add_argument("--split", choices=BLIND_SPLITS, default="tune")
    ans.add_argument("--sequential", action="store_true", help="also all asked by one person")
    ans.add_argument("--limit", type=int, default=None, help="only the first N questions")
    ans.add_argument(
        "--errors", action="store_true", help=f"list each miss (not with --split {UNSEEN})"
    )
    ans.set_defaults(handler=cmd_answers)
    cal = bench_sub.add_parser(
        "calibrate", help="fit the answer/no-answer decision; cross-validated threshold table"
    )
    cal.add_argument("--extra", type=int, default=400, help="extra unanswerable (CMRC2018)")
    cal.add_argument("--c", type=float, default=3.0, help="inverse regularisation strength")
    cal.add_argument("--folds", type=int, default=5)
    cal.add_argument("--eval-dir", type=Path, default=Path("/work/shared/eval"))
    cal.set_defaults(handler=cmd_calibrate)
    wb = bench_sub.add_parser("web", help="POST /api/chat requests/s and p99 over loopback HTTP")
    wb.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions")
    wb.add_argument("--requests", type=int, default=2000, help="requests in all")
    wb.set_defaults(handler=cmd_web)
    cl = bench_sub.add_parser(
        "cluster", help="N workers on Redis and PostgreSQL; one killed, Redis restarted"
    )
    cl.add_argument("--workers", type=int, default=2)
    cl.add_argument("--updates", type=int, default=600)
    cl.add_argument("--database-url", help="a PostgreSQL server (default TEST_DATABASE_URL)")
    cl.add_argument("--no-chaos", action="store_true", help="kill nothing, restart nothing")
    cl.add_argument("--no-single", action="store_true", help="skip the one-process run")
    cl.add_argument(
        "--web", type=int, default=0, help="web chat requests to mix in (through `tianfu serve`)"
    )
    cl.set_defaults(handler=cmd_cluster)
    pu = bench_sub.add_parser("push", help="time and memory to plan one push round")
    pu.add_argument("--users", type=int, default=100_000)
    pu.set_defaults(handler=cmd_push)


def _llm_flags(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--llm", action="store_true", help=f"{what} (OPENAI_* settings)")
    parser.add_argument(
        "--fake-llm",
        action="store_true",
        help="with --llm: a local fake server instead of the endpoint (measures overhead)",
    )
