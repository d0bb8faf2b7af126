"""`tianfu bench retrieval`: quality and latency of the product's retriever vs a BM25 baseline."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jieba
from rank_bm25 import BM25Okapi

from bench.measure import latency_summary, peak_rss_mb, ranking_metrics
from knowledge.lexicons import default_vocabulary
from retrieval.factory import open_index
from retrieval.index import Document
from retrieval.tokenizer import shared_tokenizer

if TYPE_CHECKING:
    from dialogs.llm.client import ChatModel


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def build_eval(
    data: Path, corpus: Path | None
) -> tuple[list[Document], list[tuple[str, str, str]]]:
    """Documents and (question id, question, gold doc id) triples, per the eval README."""
    rows = read_jsonl(data)
    docs: list[Document] = []
    queries: list[tuple[str, str, str]] = []
    if corpus is not None:
        for row in read_jsonl(corpus):
            text = row["text"]
            sha = hashlib.sha256(text.encode()).hexdigest()
            docs.append(Document(str(row["doc_id"]), text, title=row.get("title", ""), sha256=sha))
        for row in rows:
            q = (row.get("question") or "").strip()
            if q:
                queries.append((str(row["id"]), q, str(row["doc_id"])))
        return docs, queries
    answer_ids: dict[str, str] = {}
    for row in rows:
        q = (row.get("question") or "").strip()
        a = (row.get("answer") or "").strip()
        if not q or not a:
            continue
        if a not in answer_ids:
            answer_ids[a] = str(len(answer_ids))
            sha = hashlib.sha256(a.encode()).hexdigest()
            docs.append(Document(answer_ids[a], a, sha256=sha))
        queries.append((str(row["id"]), q, answer_ids[a]))
    return docs, queries


def _baseline(docs: list[Document], queries: list[tuple[str, str, str]]) -> dict[str, Any]:
    def tok(text: str) -> list[str]:
        return [t for t in jieba.lcut_for_search(text) if t.strip()]

    started = time.perf_counter()
    bm25 = BM25Okapi([tok(d.text) for d in docs])
    build = time.perf_counter() - started
    ids = [d.id for d in docs]
    rankings, ms = [], []
    for _, q, _ in queries:
        t = time.perf_counter()
        scores = bm25.get_scores(tok(q))
        top = sorted(range(len(ids)), key=lambda i: -scores[i])[:10]
        ms.append((time.perf_counter() - t) * 1000)
        rankings.append([ids[i] for i in top])
    return {
        **ranking_metrics(rankings, [g for _, _, g in queries]),
        **latency_summary(ms),
        "build_s": round(build, 2),
    }


def run(
    data: Path,
    corpus: Path | None = None,
    predictions: Path | None = None,
    weights: tuple[float, float] | None = None,
) -> dict[str, Any]:
    docs, queries = build_eval(data, corpus)
    with tempfile.TemporaryDirectory(prefix="tianfu-bench-") as tmp:
        started = time.perf_counter()
        index = open_index(
            "bench",
            data_dir=Path(tmp),
            weights=weights,
            tokenize=shared_tokenizer(default_vocabulary()),
        )
        index.sync(docs)
        build = time.perf_counter() - started
        rankings, ms = [], []
        for _, q, _ in queries:
            t = time.perf_counter()
            hits = index.search(q, k=10)
            ms.append((time.perf_counter() - t) * 1000)
            rankings.append([h.doc_id for h in hits])
    if predictions is not None:
        with predictions.open("w", encoding="utf-8") as fh:
            for (qid, _, _), ranked in zip(queries, rankings, strict=True):
                fh.write(json.dumps({"id": qid, "ranked": ranked}, ensure_ascii=False) + "\n")
    ours = {
        **ranking_metrics(rankings, [g for _, _, g in queries]),
        **latency_summary(ms),
        "build_s": round(build, 2),
    }
    base = _baseline(docs, queries)
    return {
        "data": data.name,
        "docs": len(docs),
        "questions": len(queries),
        "tianfu": ours,
        "baseline_bm25okapi": base,
        "mrr_ratio": round(ours["mrr@10"] / base["mrr@10"], 3) if base["mrr@10"] else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def run_llm(model: ChatModel, limit: int | None = None) -> dict[str, Any]:
    """Grounded answers over the bundled corpus: offline extract vs the LLM path.

    The queries are the articles' own typical questions (gold: that article). Against the
    fake server the model itself costs next to nothing, so ``llm_added`` is the pipeline's
    own overhead (prompt, client, HTTP, parsing, citation checks).
    """
    from dialogs.llm.client import CallLog
    from dialogs.llm.grounded import grounded_answer
    from knowledge import CORPUS_DIR
    from knowledge.ingest import ingest
    from knowledge.loader import article_files, load_articles
    from retrieval.answer import answer

    articles = load_articles(article_files(CORPUS_DIR)).articles
    queries = [(q, a.id) for a in articles for q in a.questions][:limit]
    tokenize = shared_tokenizer(default_vocabulary())
    model.calls = CallLog()
    offline_ms, added_ms = [], []
    answered = {"offline": 0, "llm": 0}
    cited_gold = {"offline": 0, "llm": 0}
    with tempfile.TemporaryDirectory(prefix="tianfu-bench-llm-") as tmp:
        index = open_index("bench_llm", data_dir=Path(tmp), tokenize=tokenize)
        ingest(index, progress=False)
        for question, gold in queries:
            t = time.perf_counter()
            offline = answer(index, question, tokenize)
            offline_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            with model.turn():
                written = grounded_answer(model, offline, locale="zh")
            added_ms.append((time.perf_counter() - t) * 1000)
            for name, result in (("offline", offline), ("llm", written)):
                answered[name] += result.answered
                cited_gold[name] += any(c.doc_id == gold for c in result.citations)
    n = len(queries) or 1
    return {
        "questions": len(queries),
        "offline": {
            "answered": round(answered["offline"] / n, 4),
            "cites_gold": round(cited_gold["offline"] / n, 4),
            **latency_summary(offline_ms),
        },
        "llm": {
            "answered": round(answered["llm"] / n, 4),
            "cites_gold": round(cited_gold["llm"] / n, 4),
        },
        "llm_added": latency_summary(added_ms),
        **model.calls.summary(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
