"""`tianfu bench calibrate`: fit the answer/no-answer decision of retrieval.decision.

Each labelled question goes through the same retrieval as ``retrieval.answer.answer`` (search,
crop agreement) and becomes the evidence the decision reads. A question is a positive when it
is answerable and the best hit is its article (or one in ``also``); unanswerable questions and
answerable ones whose best hit is some other article are negatives (answering them is wrong).
Volume: questions of a third-party general-knowledge set (CMRC2018) serve as extra
unanswerable questions in training only; they are never scored.

Questions are read as the assistant searches them: normalised (traditional characters,
full-width digits, domain typos), so the evidence fitted is the evidence the product sees.
Only the features in ``retrieval.decision.FITTED`` enter the model; the others are measured
(printed with weight 0) until a refit with them beats it.

The tune figures are cross-validated (each tune question is scored by a model fitted without
it), so they are not measured on what was fitted; the weights printed at the end are fitted on
everything and go into ``retrieval/decision.py``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from bench import UNSEEN
from bench.answers import read_questions
from bench.retrieval import read_jsonl
from dialogs.nlu.normalise import normalise
from knowledge.ingest import ingest
from knowledge.lexicons import default_vocabulary
from retrieval.answer import retrieve
from retrieval.decision import FEATURES, FITTED, evidence
from retrieval.factory import open_index
from retrieval.index import HybridIndex
from retrieval.tokenizer import Tokenizer, shared_tokenizer

EVAL = Path("/work/shared/eval")  # third-party sets, read for measurement only
MIN_HONEST = 0.95
# Below this share of answerable questions answered right, a threshold that meets MIN_HONEST
# is no answer service at all (0.97 on the 413-article corpus: right 0.43). 0.75 while the
# model could do no better; the refit on five splits answers 0.80 right at a better honest
# rate (0.90) than the old model had at 0.75 (0.83), and a floor of 0.75 would spend all of
# that gain on refusing more (0.74: right 0.765, honest 0.92). 0.83 since the refit on six
# splits with the aspect feature: at 0.80 the gain went to refusing (threshold 0.77: right
# 0.803, honest 0.933), while every measured split refused more answerable questions than it
# answered unanswerable ones (sealed5: 17 missed, 1 false); 0.83 keeps the honest rate of
# before (0.922) and answers right 0.832.
MIN_RIGHT = 0.83
# Honest rates this close are one question apart: one unanswerable question of a split of 40
# moves the mean over eight splits by 0.003, and a threshold that buys it refuses several
# answerable ones (left out on eight splits: 0.73 answers 0.834 right at 0.922 honest, 0.67
# answers 0.853 at 0.919).
HONEST_TIE = 0.005
# the labelled splits calibrated on: every one already measured (the unseen one never)
SPENT = ("tune", "sealed", "sealed2", "sealed3", "sealed4", "sealed5", "sealed6", "sealed7")
THRESHOLDS = [round(0.01 * i, 2) for i in range(1, 100)]


def _vectors(
    index: HybridIndex, tokenize: Tokenizer, texts: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """Evidence vectors and the best hit's doc id for each question."""
    rows, tops = [], []
    for typed in texts:
        text = normalise(typed).text
        searched, hits = retrieve(index, text, tokenize, tokenize.crops_in(text))
        rows.append(evidence(searched, hits, index, tokenize).vector())
        tops.append(hits[0].doc_id if hits else "")
    return np.asarray(rows, dtype=float).reshape(len(rows), len(FEATURES)), tops


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=1000).fit(x, y)


def _at(
    threshold: float, prob: np.ndarray, y: np.ndarray, answerable: np.ndarray
) -> dict[str, float]:
    """Precision and recall of "answer" (and the bench's rates) at *threshold*."""
    said = prob >= threshold
    tp = int((said & (y == 1)).sum())
    unanswerable = ~answerable
    return {
        "threshold": threshold,
        "precision": round(tp / said.sum(), 4) if said.sum() else 1.0,
        "recall": round(tp / max(1, int((y == 1).sum())), 4),
        "right_rate": round(tp / max(1, int(answerable.sum())), 4),
        "honest_rate": round(float((~said & unanswerable).sum() / max(1, unanswerable.sum())), 4),
    }


@dataclass(frozen=True, slots=True)
class Labelled:
    """Evidence of the labelled questions and of the extra unanswerable ones.

    Attributes:
        x: one evidence vector (all of FEATURES) per labelled question.
        y: 1 when answering it is right (answerable, and the best hit is its article).
        answerable: whether the question has an article at all.
        x_extra: the extra unanswerable questions' evidence (training only).
        split: the split each labelled question comes from.
    """

    x: np.ndarray
    y: np.ndarray
    answerable: np.ndarray
    x_extra: np.ndarray
    split: np.ndarray


def measure(
    splits: Sequence[str] = SPENT, *, extra_unanswerable: int = 400, eval_dir: Path = EVAL
) -> Labelled:
    """The evidence of the labelled questions of *splits* and of the extra negatives."""
    if UNSEEN in splits:
        msg = f"split {UNSEEN!r} is held out: calibrate never reads it"
        raise ValueError(msg)
    tokenize = shared_tokenizer(default_vocabulary())
    rows = [{**row, "split": split} for split in splits for row in read_questions(split)]
    cmrc = eval_dir / "cmrc2018.dev.jsonl"
    extra = [r["question"] for r in read_jsonl(cmrc)][:extra_unanswerable] if cmrc.exists() else []
    with tempfile.TemporaryDirectory(prefix="tianfu-calibrate-") as tmp:
        index = open_index("calibrate", data_dir=Path(tmp), tokenize=tokenize)
        ingest(index, progress=False)
        x, tops = _vectors(index, tokenize, [r["text"] for r in rows])
        x_extra, _ = _vectors(index, tokenize, extra)
    y = np.asarray(
        [
            int(bool(r.get("article")) and top in {r.get("article"), *r.get("also", [])})
            for r, top in zip(rows, tops, strict=True)
        ]
    )
    answerable = np.asarray([bool(r.get("article")) for r in rows])
    return Labelled(x, y, answerable, x_extra, np.asarray([r["split"] for r in rows]))


def run(
    *,
    splits: Sequence[str] = SPENT,
    extra_unanswerable: int = 400,
    c: float = 3.0,
    folds: int = 5,
    repeats: int = 10,
    eval_dir: Path = EVAL,
    features: Sequence[str] = FITTED,
    labelled: Labelled | None = None,
) -> dict[str, Any]:
    """The threshold table, the threshold chosen on it, and the weights fitted on all the
    labelled questions of *splits* (*labelled*: evidence measured already).

    With two splits or more the table is left-one-split-out: each split is scored by a model
    fitted on the others, as the next split written by new writers will be. Pooled k-fold
    cross-validation mixes every writer into training and promised more than new splits gave
    (sealed7: pooled CV right 0.837, left out 0.76, measured 0.70), so the threshold is
    chosen on how the decision carries over to writers it was not fitted on. One split falls
    back to k-fold (*folds* x *repeats*).
    """
    data = labelled or measure(splits, extra_unanswerable=extra_unanswerable, eval_dir=eval_dir)
    columns = [FEATURES.index(f) for f in features]
    x, x_extra = data.x[:, columns], data.x_extra[:, columns]
    y, answerable = data.y, data.answerable
    names = list(dict.fromkeys(data.split.tolist()))
    if len(names) >= 2:
        prob = _left_out(x, y, x_extra, data.split, c)
        groups = [data.split == name for name in names]
        table = [_grouped(t, prob, y, answerable, groups) for t in THRESHOLDS]
        how = f"leave one split out ({len(names)} splits)"
    else:
        runs = [
            [_at(t, p, y, answerable) for t in THRESHOLDS]
            for p in _cross_validated(x, y, x_extra, c, folds, repeats)
        ]
        table = [
            {
                **{k: round(float(np.mean([run[i][k] for run in runs])), 4) for k in runs[0][i]},
                "worst_honest": min(run[i]["honest_rate"] for run in runs),
            }
            for i in range(len(THRESHOLDS))
        ]
        groups, prob, how = [], np.zeros(0), f"{folds}-fold x {repeats}"
    chosen = _choose(table)
    final = _fit(np.vstack([x, x_extra]), np.concatenate([y, np.zeros(len(x_extra), int)]), c)
    per_split = {
        name: _at(chosen["threshold"], prob[g], y[g], answerable[g])
        for name, g in zip(names, groups, strict=False)
    }
    return {
        "splits": list(splits),
        "questions": len(y),
        "extra_unanswerable": len(x_extra),
        "positives": int(y.sum()),
        "weights": {
            f: round(float(final.coef_[0][features.index(f)]), 3) if f in features else 0.0
            for f in FEATURES
        },
        "bias": round(float(final.intercept_[0]), 3),
        "threshold": chosen["threshold"],
        "cv_at_threshold": chosen,
        "cv": how,
        "per_split": per_split,
        "cv_table": table,
    }


def _left_out(
    x: np.ndarray, y: np.ndarray, x_extra: np.ndarray, split: np.ndarray, c: float
) -> np.ndarray:
    """Each question's probability from a model fitted on the other splits (the extra
    negatives always train)."""
    prob = np.zeros(len(y))
    y_extra = np.zeros(len(x_extra), dtype=int)
    for name in dict.fromkeys(split.tolist()):
        test = split == name
        model = _fit(np.vstack([x[~test], x_extra]), np.concatenate([y[~test], y_extra]), c)
        prob[test] = model.predict_proba(x[test])[:, 1]
    return prob


def _cross_validated(
    x: np.ndarray, y: np.ndarray, x_extra: np.ndarray, c: float, folds: int, repeats: int
) -> list[np.ndarray]:
    """Cross-validated probabilities, one array per shuffle (one split of a few dozen
    unanswerable questions moves the honest rate by points per question)."""
    y_extra = np.zeros(len(x_extra), dtype=int)
    out = []
    for seed in range(repeats):
        prob = np.zeros(len(y))
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
            model = _fit(np.vstack([x[train], x_extra]), np.concatenate([y[train], y_extra]), c)
            prob[test] = model.predict_proba(x[test])[:, 1]
        out.append(prob)
    return out


def _grouped(
    threshold: float,
    prob: np.ndarray,
    y: np.ndarray,
    answerable: np.ndarray,
    groups: Sequence[np.ndarray],
) -> dict[str, float]:
    """The rates at *threshold* averaged over the left-out splits (each split weighs the
    same: a writer is the unit that carries over or not), the worst split's honest rate."""
    each = [_at(threshold, prob[g], y[g], answerable[g]) for g in groups]
    return {
        **{k: round(float(np.mean([e[k] for e in each])), 4) for k in each[0]},
        "worst_honest": min(e["honest_rate"] for e in each),
    }


def _choose(table: Sequence[dict[str, float]]) -> dict[str, float]:
    """The threshold answering most right among those keeping MIN_HONEST on average while
    answering MIN_RIGHT right; when none does, the one answering most right among those
    within HONEST_TIE of the best honest rate of the thresholds answering MIN_RIGHT right."""
    useful = [r for r in table if r["right_rate"] >= MIN_RIGHT] or list(table[:1])
    ok = [r for r in useful if r["honest_rate"] >= MIN_HONEST]
    if not ok:
        best = max(r["honest_rate"] for r in useful)
        ok = [r for r in useful if r["honest_rate"] >= best - HONEST_TIE]
    return max(ok, key=lambda r: (r["right_rate"], -r["threshold"]))
