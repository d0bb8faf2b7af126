"""`tianfu bench ...`: benchmarks that print their figures as one JSON line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import SPLITS as BLIND_SPLITS
from bench import UNSEEN
from bot.settings import Settings


def _llm_unusable(args: argparse.Namespace, settings: Settings, command: str) -> bool:
    """True (after saying why) when --llm is asked for without an endpoint to use."""
    if args.llm and not args.fake_llm and not settings.llm_enabled:
        print(
            f"tianfu bench {command}: --llm needs OPENAI_API_KEY (and OPENAI_BASE_URL if not "
            "OpenAI's), or --fake-llm to measure the overhead against a local fake server",
            file=sys.stderr,
        )
        return True
    return False


@contextmanager
def _llm(args: argparse.Namespace, settings: Settings) -> Iterator[Any]:
    """The chat model when --llm is given, else None."""
    if not args.llm:
        yield None
        return
    from bench.llm import bench_model

    with bench_model(
        api_key=settings.openai_key,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        timeout=settings.llm_timeout,
        method=settings.llm_structured,
        fake=args.fake_llm,
    ) as model:
        yield model


def cmd_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    if _llm_unusable(args, settings, "retrieval"):
        return 2
    if args.llm:
        from bench import retrieval as retrieval_bench

        with _llm(args, settings) as model:
            result = retrieval_bench.run_llm(model, limit=args.queries if args.scale else None)
        print(json.dumps(result, ensure_ascii=False))
        return 0
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

    if bool(args.data) == bool(args.split):
        print(
            "tianfu bench nlu: give --data FILE.jsonl ... or --split tune|sealed", file=sys.stderr
        )
        return 2
    paths = args.data or [nlu.split_path(args.split)]
    for path in paths:
        if not path.exists():
            print(f"tianfu bench nlu: no such file: {path}", file=sys.stderr)
            return 2
    if _llm_unusable(args, settings, "nlu"):
        return 2
    with _llm(args, settings) as model:
        for path in paths:
            result = nlu.score(path, show_errors=args.errors, model=model)
            errors = result.pop("errors", [])
            print(_confusion_table(result["confusion"]), file=sys.stderr)
            print(json.dumps(result, ensure_ascii=False))
            for e in errors:
                print(
                    f"  {e['id']} {e['field']}: gold={e['gold']!r} got={e['got']!r}  {e['text']}",
                    file=sys.stderr,
                )
    return 0


def _confusion_table(confusion: dict[str, dict[str, int]]) -> str:
    """Gold intents down, predicted across, counts in the cells."""
    labels = sorted(set(confusion) | {p for row in confusion.values() for p in row})
    width = max(len(x) for x in [*labels, "gold/pred"]) + 1
    lines = ["gold/pred".ljust(width) + "".join(x[:5].rjust(6) for x in labels)]
    for gold in sorted(confusion):
        cells = "".join(str(confusion[gold].get(p, 0) or ".").rjust(6) for p in labels)
        lines.append(gold.ljust(width) + cells)
    return "\n".join(lines)


def cmd_matching(args: argparse.Namespace, settings: Settings) -> int:
    from bench import matching

    print(json.dumps(matching.run(args.experts, args.needs), ensure_ascii=False))
    return 0


def cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    print(json.dumps(asyncio.run(_bench_bot(args.updates)), ensure_ascii=False))
    return 0


async def _bench_bot(updates: int) -> dict[str, Any]:
    """The bot benchmark over the application's own services in a throwaway DATA_DIR."""
    import logging
    import tempfile

    from aiogram import Bot
    from sqlalchemy import event

    from bench import bot as bot_bench
    from bot.app import build_services, prepare_knowledge
    from bot.ops import freeze_heap
    from bot.settings import load_settings
    from bot.telegram.dispatcher import create_dispatcher
    from bot.telegram.recording import ChatDriver, RecordingSession

    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="tianfu-botbench-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp), database_url="", chroma_url="", telegram_bot_token="42:BENCH"
        )
        services = build_services(settings)
        prepare_knowledge(services)
        recorder = RecordingSession()
        bot = Bot("42:BENCH", session=recorder)
        driver = ChatDriver(create_dispatcher(settings, services), bot, recorder)

        async def send(user_id: int, text: str) -> None:
            await driver.send(driver.user(user_id, f"u{user_id}"), text)

        # SQL statements per turn (COMMITs included): what a turn costs the database
        ran = [0]

        def count(*_: Any) -> None:
            ran[0] += 1

        event.listen(services.engine, "before_cursor_execute", count)
        event.listen(services.engine, "commit", count)
        freeze_heap()  # as the serving processes do after start-up
        try:
            return await bot_bench.measure(updates, send, lambda: ran[0])
        finally:
            await bot.session.close()
            services.close()


# --- `tianfu bench web`: the web chat through real HTTP (issue 16) ---
def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    print(json.dumps(asyncio.run(_bench_web(args.sessions, args.requests)), ensure_ascii=False))
    return 0


async def _bench_web(sessions: int, requests: int) -> dict[str, Any]:
    """`tianfu serve`'s application on a loopback port over a throwaway DATA_DIR, measured
    by concurrent HTTP sessions (rate limits lifted: one address plays everyone)."""
    import logging
    import tempfile

    from aiohttp import web

    from bench import web as web_bench
    from bot.app import build_services, prepare_knowledge
    from bot.settings import load_settings
    from bot.web.chat import add_chat
    from bot.web.serve import build_app

    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="tianfu-webbench-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp),
            database_url="",
            chroma_url="",
            openai_api_key=None,
            web_secret="bench-web-secret-0123456789",
            web_rate_session=100_000,
            web_rate_address=1_000_000,
        )
        services = build_services(settings)
        prepare_knowledge(services)
        runner = web.AppRunner(build_app(services, chosen=[add_chat]), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            return await web_bench.measure(base, sessions, requests)
        finally:
            await runner.cleanup()
            services.close()


def cmd_cluster(args: argparse.Namespace, settings: Settings) -> int:
    """`tianfu bench cluster` (issue 17): N workers, a worker killed, Redis restarted."""
    import asyncio
    import os

    from bench.cluster import measure

    url = args.database_url or os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print(
            "tianfu bench cluster: give a PostgreSQL server with --database-url or "
            'TEST_DATABASE_URL (eval "$(.ci/pg.sh start)")',
            file=sys.stderr,
        )
        return 2
    out = asyncio.run(
        measure(
            args.workers,
            args.updates,
            url,
            chaos=not args.no_chaos,
            single=not args.no_single,
            web=args.web,
        )
    )
    print(json.dumps(out, ensure_ascii=False))
    ok = not (out["lost"] or out["duplicated"] or out.get("web_lost") or out.get("web_duplicated"))
    return 0 if ok else 1


def cmd_conversations(args: argparse.Namespace, settings: Settings) -> int:
    """Blind multi-turn conversations through the assistant in a throwaway DATA_DIR."""
    import tempfile

    from bench import conversations

    path = conversations.conversations_path(args.split)
    if not path.exists():
        print(f"tianfu bench conversations: no such file: {path}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tianfu-convbench-") as tmp:
        services = _bench_services(Path(tmp))
        try:
            rows = conversations.load(args.split)[: args.limit or None]
            send, read, crop_name, title_of = _conversation_probes(services)
            result = conversations.run(rows, send, read, crop_name=crop_name, title_of=title_of)
        finally:
            services.close()
    failures = result.pop("failures")
    print(json.dumps(result, ensure_ascii=False))
    if args.errors:
        for f in failures:
            print(f"  {f['id']}: {', '.join(f['wrong'])}", file=sys.stderr)
    return 0


def _bench_services(data_dir: Path) -> Any:
    """The application's services over a fresh DATA_DIR with the bundled knowledge indexed."""
    from bot.app import build_services, prepare_knowledge
    from bot.settings import load_settings

    settings = load_settings(
        data_dir=data_dir, database_url="", chroma_url="", openai_api_key=None
    )
    services = build_services(settings)
    prepare_knowledge(services)
    return services


def _conversation_probes(services: Any) -> tuple[Any, Any, Any, Any]:
    """How the conversation benchmark talks to the assistant and reads the end state."""
    from bench.conversations import EndState
    from dialogs.state import ConversationState
    from dialogs.types import Incoming
    from knowledge.lexicons import default_lexicon
    from store.conversations import load_state
    from store.experts import get_expert_profile
    from store.order_reads import orders_with_needs
    from store.subscriptions import topics_of
    from store.users import find_user

    channel = "bench"

    def send(person: str, text: str) -> str:
        out = services.assistant.handle(Incoming(channel, person, text=text, display_name=""))
        return str(out.text)

    def read(person: str) -> EndState:
        with services.session_factory() as session:
            user = find_user(session=session, channel=channel, external_id=person)
            state = EndState()
            if user is None or user.id is None:
                return state
            for order, need in orders_with_needs(session=session, user_id=user.id, limit=50):
                state.needs.append(
                    {
                        "crop": need.crop,
                        "province": need.province,
                        "city": need.city,
                        "county": need.county,
                        "phone": need.contact_phone,
                        "budget": need.budget,
                        "status": str(order.status),
                    }
                )
            profile = get_expert_profile(session=session, user_id=user.id)
            if profile is not None:
                state.expert = {
                    "name": user.display_name,
                    "phone": user.phone,
                    "fields": list(profile.fields),
                    "counties": [
                        r.get("county") or r.get("city") for r in profile.service_regions
                    ],
                    "organisation": profile.organisation,
                    "title": profile.title,
                }
            state.topics = topics_of(session=session, user_id=user.id)
            data = load_state(session=session, channel=channel, external_id=person)
            state.in_form = ConversationState.from_json(data).form is not None
            return state

    lexicon = default_lexicon()
    titles = {
        doc: str(entry.get("metadata", {}).get("title", ""))
        for doc, entry in services.knowledge.manifest.items()
    }
    return (
        send,
        read,
        lambda name: lexicon.normalise_crop(name) or name,
        lambda doc: titles.get(doc, doc),
    )


def cmd_answers(args: argparse.Namespace, settings: Settings) -> int:
    from bench import answers

    if args.errors and args.split == UNSEEN:
        # the newest held-out split is measured once, never read question by question
        print(f"tianfu bench answers: no --errors with --split {args.split}", file=sys.stderr)
        return 2
    path = answers.questions_path(args.split)
    if not path.exists():
        print(f"tianfu bench answers: no such file: {path}", file=sys.stderr)
        return 2
    rows = answers.read_questions(args.split)[: args.limit]
    result = {"split": args.split, **_bench_answers(rows, args.sequential, args.errors)}
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _bench_answers(
    rows: list[dict[str, Any]], sequential: bool, errors: bool = False
) -> dict[str, Any]:
    """The answers benchmark over the application's own services in a throwaway DATA_DIR."""
    import tempfile

    from bench import answers
    from bot.app import build_services, prepare_knowledge
    from bot.settings import load_settings
    from dialogs.types import Incoming

    with tempfile.TemporaryDirectory(prefix="tianfu-answers-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp), database_url="", chroma_url="", openai_api_key=None
        )
        services = build_services(settings)
        try:
            prepare_knowledge(services)
            titles = {d: e["title"] for d, e in services.knowledge.manifest.items()}

            def ask(asker: str, text: str) -> str:
                incoming = Incoming("bench", asker, text, display_name=asker)
                return services.assistant.handle(incoming).text

            return answers.run(rows, ask, titles, sequential=sequential, errors=errors)
        finally:
            services.close()


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from bench import calibrate

    result = calibrate.run(
        extra_unanswerable=args.extra, c=args.c, folds=args.folds, eval_dir=args.eval_dir
    )
    table = result.pop("cv_table")
    for row in table:
        print(
            f"threshold {row['threshold']:.2f}  precision {row['precision']:.3f}  "
            f"recall {row['recall']:.3f}  right {row['right_rate']:.3f}  "
            f"honest {row['honest_rate']:.3f} (worst {row['worst_honest']:.3f})"
        )
    print(json.dumps(result, ensure_ascii=False))
    return 0


def demo_seed(engine: Any, needs: int) -> dict[str, int]:
    """Synthetic Sichuan activity with *needs* needs (the stats benchmark's population)."""
    from bot.demo import Size, seed

    size = Size(
        experts=max(50, needs // 50),
        requesters=max(200, needs // 3),
        needs=needs,
        questions=max(100, needs // 5),
    )
    # order events are not read by the indicators and are left out
    report = seed(engine, size, force=True, events=False)
    return {
        "needs": report.needs,
        "experts": report.experts,
        "requesters": report.requesters,
        "questions": report.questions,
    }


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from bench import stats

    if args.backend == "postgresql":
        from bench.scale import pg_seed

        url = args.url or os.environ.get("TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            print(
                "tianfu bench stats: --backend postgresql needs a throwaway PostgreSQL database: "
                'set TEST_DATABASE_URL (eval "$(.ci/pg.sh start)") or pass --url; '
                "every table in it is dropped",
                file=sys.stderr,
            )
            return 2
        result = stats.run(args.needs, seed=pg_seed, url=url, fresh=True)
    else:
        result = stats.run(args.needs, seed=demo_seed, url=args.url or "")
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
