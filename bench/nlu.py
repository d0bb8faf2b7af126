"""`tianfu nlu` and `tianfu bench nlu`: run the offline understanding and score it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bench.measure import latency_summary

if TYPE_CHECKING:
    from dialogs.llm.client import ChatModel

FIELDS = ("intent", "crop", "category", "province", "city", "county", "phone", "budget")


def parse_lines(lines: Iterable[str], model: ChatModel | None = None) -> Iterator[dict[str, Any]]:
    """One {"id", "intent", "slots", "ms"} per JSONL input line; bad lines give an "error".

    With *model*, the model's validated slots are merged in (LLM mode's extraction).
    """
    from dialogs.llm.extraction import llm_understand
    from dialogs.nlu.intents import understand

    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = str(row.get("text", "")) if isinstance(row, dict) else ""
            row_id = row.get("id", n) if isinstance(row, dict) else n
        except json.JSONDecodeError as exc:
            yield {"id": n, "error": f"line {n}: invalid JSON ({exc.msg})"}
            continue
        started = time.perf_counter()
        parsed = understand(text)
        if model is not None:
            with model.turn():
                parsed = llm_understand(model, text, parsed)
        ms = (time.perf_counter() - started) * 1000
        yield {
            "id": row_id,
            "intent": parsed.intent.value,
            "slots": parsed.slots.as_public(),
            "ms": ms,
        }


def run_stream(stdin: TextIO, stdout: TextIO) -> int:
    for out in parse_lines(stdin):
        out.pop("ms", None)
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def score(data: Path, show_errors: bool = False, model: ChatModel | None = None) -> dict[str, Any]:
    rows = [
        json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    if model is not None:
        from dialogs.llm.client import CallLog

        model.calls = CallLog()  # figures per data file
    preds = list(parse_lines((json.dumps(r, ensure_ascii=False) for r in rows), model))
    correct = dict.fromkeys(FIELDS, 0)
    errors: list[dict[str, Any]] = []
    for row, pred in zip(rows, preds, strict=True):
        got = {"intent": pred["intent"], **pred["slots"]}
        for f in FIELDS:
            if got.get(f) == row.get(f):
                correct[f] += 1
            elif show_errors:
                errors.append(
                    {
                        "id": row["id"],
                        "field": f,
                        "gold": row.get(f),
                        "got": got.get(f),
                        "text": row["text"],
                    }
                )
    n = len(rows) or 1
    result: dict[str, Any] = {"data": data.name, "messages": len(rows)}
    result.update({f"{f}_acc": round(correct[f] / n, 4) for f in FIELDS})
    result.update(latency_summary([p["ms"] for p in preds if "ms" in p]))
    if model is not None:
        result.update(model.calls.summary())
    if show_errors:
        result["errors"] = errors
    return result
