"""`tianfu bench` quality benchmarks: retrieval, understanding (nlu), whole conversations,
answers, and the answer/no-answer calibration; each prints its figures as one JSON line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
