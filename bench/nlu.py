"""`tianfu nlu` and `tianfu bench nlu`: run the offline understanding and score it."""

from __future__ import annotations

import json
import statistics
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bench import SPLITS
from bench.measure import latency_summary, percentile

if TYPE_CHECKING:
    from dialogs.llm.client import ChatModel
    from dialogs.nlu.model import IntentModel

FIELDS = ("intent", "crop", "category", "province", "city", "county", "phone", "budget")
BLIND = Path(__file__).resolve().parent / "data" / "blind"

FOLDS = 5
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def split_path(split: str) -> Path:
    """The blind message set of *split* (tune: read and tuned on; sealed: measured once)."""
    if split not in SPLITS:
        msg = f"unknown split {split!r}; expected one of {', '.join(SPLITS)}"
        raise ValueError(msg)
    return BLIND / f"messages_{split}.jsonl"


def parse_lines(
    lines: Iterable[str],
    model: ChatModel | None = None,
    intent_models: Callable[[int], IntentModel | None] | None = None,
) -> Iterator[dict[str, Any]]:
    """One {"id", "intent", "slots", "ms"} per JSONL input line; bad lines give an "error".

    With *model*, the model's validated slots are merged in (LLM mode's extraction).
    *intent_models* gives the intent model for the n-th message (0-based; None: the bundled
    one), so that cross-validation never scores a message with a model trained on it.
    """
    from dialogs.llm.extraction import llm_understand
    from dialogs.nlu.intents import parse_message

    count = 0
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        intent_model = intent_models(count) if intent_models is not None else None
        count += 1
        try:
            row = json.loads(line)
            text = str(row.get("text", "")) if isinstance(row, dict) else ""
            row_id = row.get("id", n) if isinstance(row, dict) else n
        except json.JSONDecodeError as exc:
            yield {"id": n, "error": f"line {n}: invalid JSON ({exc.msg})"}
            continue
        started = time.perf_counter()
        parsed = parse_message(text, intent_model)  # timed: a real parse, never the memo
        if model is not None:
            with model.turn():
                parsed = llm_understand(model, text, parsed)
        ms = (time.perf_counter() - started) * 1000
        yield {
            "id": row_id,
            "intent": parsed.intent.value,
            "slots": parsed.slots.as_public(),
            "unsure": parsed.unsure,
            "ms": ms,
        }


def run_stream(stdin: TextIO, stdout: TextIO) -> int:
    for out in parse_lines(stdin):
        out.pop("ms", None)
        out.pop("unsure", None)
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


def score(data: Path, show_errors: bool = False, model: ChatModel | None = None) -> dict[str, Any]:
    """Accuracy per field, the intent confusion table and the latency of ``understand()``.

    Messages that are also training examples of the bundled intent model are classified by
    5-fold cross-validation: each fold by a model trained without that fold's texts.
    """
    from dialogs.nlu.model import default_model
    from knowledge.lexicons import default_lexicon

    rows = [
        json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    if model is not None:
        from dialogs.llm.client import CallLog

        model.calls = CallLog()  # figures per data file
    started = time.perf_counter()
    default_model()  # the first-use cost, measured apart from the per-message latency
    train_ms = (time.perf_counter() - started) * 1000
    folds = fold_models(rows)
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    pick = (lambda i: folds[1][folds[0][i]]) if folds is not None else None
    preds = list(parse_lines(lines, model, pick))
    lex = default_lexicon()

    def same(field: str, gold: Any, got: Any) -> bool:
        if field == "crop" and gold and got:
            return (lex.normalise_crop(gold) or gold) == (lex.normalise_crop(got) or got)
        return bool(gold == got)

    correct = dict.fromkeys(FIELDS, 0)
    errors: list[dict[str, Any]] = []
    confusion: dict[str, Counter[str]] = {}
    for row, pred in zip(rows, preds, strict=True):
        got = {"intent": pred["intent"], **pred["slots"]}
        confusion.setdefault(str(row.get("intent")), Counter())[pred["intent"]] += 1
        for f in FIELDS:
            if same(f, row.get(f), got.get(f)):
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
    result["intent_eval"] = f"{FOLDS}-fold cross-validation" if folds else "bundled model"
    result.update({f"{f}_acc": round(correct[f] / n, 4) for f in FIELDS})
    result["unsure"] = sum(1 for p in preds if p.get("unsure"))
    result["confusion"] = {gold: dict(c.most_common()) for gold, c in sorted(confusion.items())}
    if model is None:
        result.update(understand_latency([r["text"] for r in rows]))
    else:
        result.update(latency_summary([p["ms"] for p in preds if "ms" in p]))
    result["train_ms"] = round(train_ms, 1)
    if folds is not None:
        result["threshold_sweep"] = threshold_sweep(rows, folds)
    if model is not None:
        result.update(model.calls.summary())
    if show_errors:
        result["errors"] = errors
    return result


def understand_latency(texts: Sequence[str], rounds: int = 3) -> dict[str, float]:
    """p50 / p99 / mean of ``understand()`` (bundled model, warm) over *texts*: real parses,
    not its memo of texts met before."""
    from dialogs.nlu.intents import parse_message

    ms: list[float] = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            parse_message(text)
            ms.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else 0.0,
    }


def fold_of(row_id: object) -> int:
    return zlib.crc32(str(row_id).encode("utf-8")) % FOLDS


def fold_models(rows: Sequence[dict[str, Any]]) -> tuple[list[int], list[IntentModel]] | None:
    """(fold of each row, model per fold) when *rows* overlap the bundled training examples;
    each fold's model is trained on every example whose text is not in that fold."""
    from dialogs.nlu.model import IntentModel
    from dialogs.nlu.slots import extract
    from knowledge.intents import load_intent_examples

    examples = load_intent_examples()
    texts = {e.text.strip() for e in examples}
    if not any(str(r.get("text", "")).strip() in texts for r in rows):
        return None
    slots = [extract(e.text) for e in examples]
    fold = [fold_of(r.get("id", i)) for i, r in enumerate(rows)]
    models: list[IntentModel] = []
    for k in range(FOLDS):
        held_out = {
            str(r.get("text", "")).strip() for r, f in zip(rows, fold, strict=True) if f == k
        }
        keep = [i for i, e in enumerate(examples) if e.text.strip() not in held_out]
        models.append(
            IntentModel.train(
                [examples[i].text for i in keep],
                [examples[i].intent for i in keep],
                [slots[i] for i in keep],
            )
        )
    return fold, models


def threshold_sweep(
    rows: Sequence[dict[str, Any]], folds: tuple[list[int], list[IntentModel]]
) -> dict[str, dict[str, int]]:
    """For each candidate threshold, on cross-validated probabilities: how many messages the
    "expert or question?" clarification would ask about, how many of those the model had
    wrong (a wrong desk avoided), and how many it had right (a needless tap)."""
    from dialogs.nlu import intents
    from dialogs.nlu.slots import extract

    ranked = []
    for row, k in zip(rows, folds[0], strict=True):
        text = str(row.get("text", ""))
        if intents.rule_intent(text) is None:
            ranked.append((row.get("intent"), folds[1][k].rank(text, extract(text))))
    out: dict[str, dict[str, int]] = {}
    for tau in THRESHOLDS:
        torn = [(gold, r) for gold, r in ranked if intents.is_unsure(r, tau)]
        out[str(tau)] = {
            "asked": len(torn),
            "wrong_avoided": sum(1 for g, r in torn if g != r.top and g in intents.TORN),
            "needless": sum(1 for g, r in torn if g == r.top),
        }
    return out
