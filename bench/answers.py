"""`tianfu bench answers`: labelled questions through the real assistant, scored on the reply.

An answer is right when the reply's "来源：《title》" names the labelled article (or one of the
articles in ``also``); an unanswerable question (``article: null``) is handled honestly when
the reply cites nothing. Each question is asked by a fresh person, and with ``sequential`` also
by one person one after another (follow-up memory, open forms and offers carry over).

The caller (bot.cli_bench_quality) builds the application and hands in how to ask one question, so
bench does not import the application.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from bench import SPLITS
from bench.retrieval import read_jsonl

__all__ = ["SPLITS", "misses", "questions_path", "read_jsonl", "read_questions", "run", "score"]

BLIND = Path(__file__).resolve().parent / "data" / "blind"
RELABELS = BLIND / "relabels.jsonl"

Ask = Callable[[str, str], str]  # (asker id, question) -> the reply text
_SOURCE = re.compile(r"来源：((?:《[^》]*》[；;、]?)+)")
_TITLE = re.compile(r"《([^》]*)》")


def questions_path(split: str) -> Path:
    """The labelled questions of *split* (tune or sealed)."""
    if split not in SPLITS:
        msg = f"unknown split {split!r}; expected one of {SPLITS}"
        raise ValueError(msg)
    return BLIND / f"questions_{split}.jsonl"


def read_questions(split: str) -> list[dict[str, Any]]:
    """The labelled questions of *split*, with the corrections of ``relabels.jsonl``: a
    question labelled unanswerable when it was written whose article the corpus gained
    afterwards is answerable now (answering it is right, refusing it a miss)."""
    rows = read_jsonl(questions_path(split))
    fixes = {
        r["id"]: r["article"]
        for r in (read_jsonl(RELABELS) if RELABELS.exists() else [])
        if r["split"] == split
    }
    return [{**row, "article": fixes[row["id"]]} if row["id"] in fixes else row for row in rows]


def cited_titles(reply: str) -> list[str]:
    """The titles a reply cites after 来源：, in order."""
    out: list[str] = []
    for m in _SOURCE.finditer(reply):
        out.extend(_TITLE.findall(m.group(1)))
    return out


def score(
    rows: Iterable[Mapping[str, Any]], replies: Iterable[str], titles: Mapping[str, str]
) -> dict[str, Any]:
    """Counts and rates for replies to labelled rows (in the same order)."""
    c = dict.fromkeys(
        ("answerable", "right", "wrong", "missed", "unanswerable", "honest_no", "false_answer"),
        0,
    )
    for row, reply in zip(rows, replies, strict=True):
        cited = cited_titles(reply)
        gold = [row.get("article"), *row.get("also", [])]
        gold_titles = {titles.get(g, "") for g in gold if g} - {""}
        if row.get("article"):
            c["answerable"] += 1
            if not cited:
                c["missed"] += 1
            elif cited[0] in gold_titles:
                c["right"] += 1
            else:
                c["wrong"] += 1
        else:
            c["unanswerable"] += 1
            c["false_answer" if cited else "honest_no"] += 1
    return {
        **c,
        "right_rate": round(c["right"] / c["answerable"], 4) if c["answerable"] else None,
        "honest_rate": round(c["honest_no"] / c["unanswerable"], 4) if c["unanswerable"] else None,
    }


def misses(
    rows: Iterable[Mapping[str, Any]], replies: Iterable[str], titles: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Each row the reply got wrong: a wrong article, no answer, or an answer where none is."""
    out: list[dict[str, Any]] = []
    for row, reply in zip(rows, replies, strict=True):
        cited = cited_titles(reply)
        gold = [titles.get(g, g) for g in [row.get("article"), *row.get("also", [])] if g]
        if gold and cited and cited[0] in gold:
            continue
        if not gold and not cited:
            continue
        kind = "false_answer" if not gold else ("wrong" if cited else "missed")
        out.append(
            {"id": row["id"], "kind": kind, "text": row["text"], "want": gold, "cited": cited[:1]}
        )
    return out


def run(
    rows: list[dict[str, Any]],
    ask: Ask,
    titles: Mapping[str, str],
    *,
    sequential: bool = False,
    errors: bool = False,
) -> dict[str, Any]:
    """Ask every row as a fresh person (and, with *sequential*, all as one person); with
    *errors*, list the misses of each."""
    fresh = [ask(f"fresh-{row['id']}", row["text"]) for row in rows]
    result: dict[str, Any] = {"questions": len(rows), **score(rows, fresh, titles)}
    if errors:
        result["errors"] = misses(rows, fresh, titles)
    if sequential:
        same = [ask("sequential-asker", row["text"]) for row in rows]
        result["sequential"] = score(rows, same, titles)
        if errors:
            result["sequential"]["errors"] = misses(rows, same, titles)
    return result
