"""`tianfu kb ...`: ingest and hit-test the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.settings import Settings
from knowledge import CORPUS_DIR


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_knowledge_index
    from knowledge.ingest import ingest

    path = Path(args.path) if args.path else CORPUS_DIR
    if not path.exists():
        print(f"tianfu kb ingest: no such file or folder: {path}", file=sys.stderr)
        return 2
    # the bundled corpus, then the articles administrators added at run time
    paths = [path]
    if not args.path and settings.corpus_overlay.is_dir():
        paths.append(settings.corpus_overlay)
    index = open_knowledge_index(settings)
    failed = False
    for folder in paths:
        report = ingest(index, folder, remove_missing=not args.keep_missing)
        s = report.stats
        print(
            f"{report.loaded} articles loaded from {folder}: {s.added} added, "
            f"{s.updated} updated, {s.removed} removed, {s.unchanged} unchanged; "
            f"{s.chunks} chunks in {s.seconds:.1f}s"
        )
        for err in report.errors:
            print(f"  refused {err}", file=sys.stderr)
        failed = failed or bool(report.errors)
    return 1 if failed else 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_knowledge_index
    from retrieval.decision import THRESHOLD, evidence, probability

    index = open_knowledge_index(settings)
    if len(index) == 0:
        print("the knowledge base is empty: run `tianfu kb ingest` first", file=sys.stderr)
        return 1
    hits = index.search(args.query, k=args.k)
    # the probability that each hit, were it first, answers the question
    chance = [
        probability(evidence(args.query, hits[i:], index, index.tokenize))
        for i in range(len(hits))
    ]
    if args.json:
        rows = [
            {
                "rank": i,
                "id": h.doc_id,
                "title": h.title,
                "score": round(h.score, 5),
                "confidence": round(h.confidence, 3),
                "answers": round(p, 3),
                "signals": h.signals,
                "chunk": h.chunk_id,
                "text": h.text,
            }
            for i, (h, p) in enumerate(zip(hits, chance, strict=True), start=1)
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print("no hits")
        return 0
    print(f"{'#':>2}  {'score':>7}  {'conf':>5}  {'p':>5}  {'signals':<18}  title  [id]")
    for i, (h, p) in enumerate(zip(hits, chance, strict=True), start=1):
        signals = " ".join(f"{k}#{v}" for k, v in h.signals.items())
        mark = "" if p >= THRESHOLD else "  (would not answer)"
        print(
            f"{i:>2}  {h.score:7.4f}  {h.confidence:5.2f}  {p:5.2f}  {signals:<18}  "
            f"{h.title}  [{h.doc_id}]{mark}"
        )
    return 0


GAP_LABELS = {"unanswered": "no answer", "unhelpful": "rated 没用", "article": "poor article"}


def cmd_gaps(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from sqlmodel import Session

    from bot.app import open_database
    from dialogs.gaps import RAW_PER_GAP, grouped
    from store.clock import utcnow
    from store.feedback import knowledge_gaps

    if args.limit < 1 or (args.days is not None and args.days < 1):
        print("tianfu kb gaps: --limit and --days must be at least 1", file=sys.stderr)
        return 2
    since = utcnow() - timedelta(days=args.days) if args.days else None
    engine, _ = open_database(settings)
    with Session(engine) as session:
        raw = knowledge_gaps(session=session, since=since, limit=args.limit * RAW_PER_GAP)
    rows = grouped(raw, args.limit)
    if not rows:
        print("no gaps: every logged question was answered and no article is rated poorly")
        return 0
    print(f"{'count':>5}  {'last':<16}  {'kind':<12}  question or article")
    for row in rows:
        what = row.text
        if row.kind == "article":
            what = f"{row.text} [{row.article_id}] 有用 {row.useful} / 没用 {row.useless}"
        elif row.article_id:
            what = f"{row.text}  (answered with {row.article_id})"
        if row.variants:
            what += f"  also asked as: {'；'.join(row.variants)}"
        print(f"{row.count:>5}  {row.last_at:%Y-%m-%d %H:%M}  {GAP_LABELS[row.kind]:<12}  {what}")
    return 0


# ---- issue 19: imported Q&A ----------------------------------------------------------------
def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import Session

    from bot.app import open_database, open_knowledge_index, pesticide_guard
    from knowledge.qa import import_qa

    path = Path(args.file)
    if not path.is_file():
        print(f"tianfu kb import: no such file: {path}", file=sys.stderr)
        return 2
    engine, _ = open_database(settings)
    index = open_knowledge_index(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            report = import_qa(
                session=session,
                index=index,
                path=path,
                guard=pesticide_guard(),
                source=args.source or "",
            )
    except (ValueError, UnicodeDecodeError) as err:
        print(f"tianfu kb import: {err}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(
        f"{report.read} rows read from {path}: {report.added} added, {report.updated} updated, "
        f"{report.merged} merged as near-duplicates, {report.masked} with personal data masked, "
        f"{len(report.bad)} refused"
    )
    for bad in report.bad:
        print(f"  refused {path}:{bad.line}: {bad.reason}", file=sys.stderr)
    return 1 if report.bad else 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import Session

    from bot.app import open_database, open_knowledge_index
    from knowledge.qa import remove_source

    engine, _ = open_database(settings)
    try:
        with Session(engine) as session:
            n = remove_source(
                session=session, index=open_knowledge_index(settings), source=args.source
            )
    finally:
        engine.dispose()
    if not n:
        print(f"tianfu kb remove: no imported items from source {args.source!r}", file=sys.stderr)
        return 1
    print(f"{n} items from {args.source!r} removed")
    return 0


def cmd_coverage(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.coverage import coverage, render
    from knowledge.loader import article_files, load_articles
    from store.clock import utcnow

    folders = [Path(args.path)] if args.path else [CORPUS_DIR, settings.corpus_overlay]
    articles = []
    for folder in folders:
        if folder.exists():
            articles += load_articles(article_files(folder)).articles
    max_age = args.max_age_days or settings.kb_max_age_days
    cov = coverage(articles, today=utcnow().date(), max_age_days=max_age)
    for line in render(cov):
        print(line)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    kb = sub.add_parser("kb", help="knowledge base: ingest, search, gaps")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    ing = kb_sub.add_parser("ingest", help="load, validate, chunk and index articles")
    ing.add_argument("path", nargs="?", help="folder or file of articles (default: bundled)")
    ing.add_argument(
        "--keep-missing", action="store_true", help="add to the index; keep articles not in PATH"
    )
    ing.set_defaults(handler=cmd_ingest)
    se = kb_sub.add_parser("search", help="hit-test a question: scores, titles, signals")
    se.add_argument("query")
    se.add_argument("--k", type=int, default=5)
    se.add_argument("--json", action="store_true")
    se.set_defaults(handler=cmd_search)
    gp = kb_sub.add_parser(
        "gaps",
        help="questions without a useful answer and articles rated 没用, most frequent first",
    )
    gp.add_argument("--limit", type=int, default=50)
    gp.add_argument("--days", type=int, help="only the last N days")
    gp.set_defaults(handler=cmd_gaps)
    # issue 19: imported Q&A, the coverage map
    im = kb_sub.add_parser(
        "import", help="import question-and-answer rows (CSV or JSONL: question, answer, source)"
    )
    im.add_argument("file")
    im.add_argument("--source", help="source name for rows without a source column")
    im.set_defaults(handler=cmd_import)
    rm = kb_sub.add_parser("remove", help="remove every imported item of one source")
    rm.add_argument("--source", required=True)
    rm.set_defaults(handler=cmd_remove)
    cv = kb_sub.add_parser(
        "coverage", help="the coverage map: subjects x problem kinds, empty cells, stale articles"
    )
    cv.add_argument("path", nargs="?", help="folder of articles (default: bundled and added)")
    cv.add_argument(
        "--max-age-days", type=int, help="stale after this many days (KB_MAX_AGE_DAYS)"
    )
    cv.set_defaults(handler=cmd_coverage)
