"""`tianfu bench retrieval --scale N`: query latency and memory with N synthetic chunks."""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import latency_summary, peak_rss_mb
from knowledge.lexicons import default_lexicon, default_vocabulary
from retrieval.factory import open_index
from retrieval.index import Document
from retrieval.tokenizer import shared_tokenizer

_FILLER = [
    "的",
    "在",
    "后",
    "出现",
    "发生",
    "需要",
    "及时",
    "注意",
    "可以",
    "采用",
    "比较",
    "严重",
    "时期",
    "防治",
    "管理",
    "技术",
    "措施",
    "田间",
    "植株",
    "叶片",
    "根系",
    "果实",
]


def synthetic_docs(n: int, seed: int = 7) -> list[Document]:
    """N short documents mixing domain terms, deterministic for a seed."""
    rng = random.Random(seed)
    lex = default_lexicon()
    crops = sorted(lex.crop_alias)
    pests = sorted(lex.pest_alias)
    symptoms = sorted(lex.symptoms)
    practices = sorted(lex.practices)
    docs = []
    for i in range(n):
        words = (
            rng.sample(crops, 2)
            + rng.sample(pests, 2)
            + rng.sample(symptoms, 3)
            + rng.sample(practices, 3)
            + rng.sample(_FILLER, 6)
        )
        rng.shuffle(words)
        text = "，".join("".join(words[j : j + 3]) for j in range(0, len(words), 3)) + "。"
        docs.append(Document(f"s{i}", text, sha256=hashlib.sha1(text.encode()).hexdigest()))
    return docs


def run(n: int, queries: int = 500) -> dict[str, Any]:
    docs = synthetic_docs(n)
    rng = random.Random(11)
    probes = [rng.choice(docs).text[:24] for _ in range(queries)]
    with tempfile.TemporaryDirectory(prefix="tianfu-scale-") as tmp:
        started = time.perf_counter()
        index = open_index(
            "scale", data_dir=Path(tmp), tokenize=shared_tokenizer(default_vocabulary())
        )
        index.sync(docs)
        build = time.perf_counter() - started
        index.search(probes[0], k=10)  # warm caches
        ms = []
        for q in probes:
            t = time.perf_counter()
            index.search(q, k=10)
            ms.append((time.perf_counter() - t) * 1000)
    return {
        "scale_chunks": n,
        "queries": queries,
        **latency_summary(ms),
        "build_s": round(build, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
