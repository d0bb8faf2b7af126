"""Build indexes from settings-like values (callers pass plain values; no settings import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrieval.embeddings import Embedder, LocalHashEmbedder, make_embedder
from retrieval.index import HybridIndex
from retrieval.tokenizer import Tokenize, shared_tokenizer
from retrieval.vector import VectorIndex, make_chroma_client

KNOWLEDGE = "knowledge"


def default_weights(embedder: Embedder) -> tuple[float, float]:
    """(lexical, vector) fusion weights.

    The offline hashed embedding re-encodes the same surface overlap as BM25 and lowered
    MRR@10 at every weight we measured (agri_qa: 0.653 at 0.0, 0.638 at 0.1, 0.606 at 0.5), so
    it only breaks ties and rescues queries BM25 finds nothing for; a semantic model
    (openai, st:) gets an equal vote.
    """
    if isinstance(embedder, LocalHashEmbedder):
        return (1.0, 0.0)
    return (1.0, 1.0)


def open_index(
    name: str,
    *,
    data_dir: Path,
    client: Any | None = None,
    chroma_url: str = "",
    embedder: Embedder | None = None,
    tokenize: Tokenize | None = None,
    embeddings: str = "local",
    api_key: str = "",
    base_url: str = "",
    weights: tuple[float, float] | None = None,
) -> HybridIndex:
    """The hybrid index *name* under ``data_dir/index/name`` with its Chroma collection.

    Without *tokenize*, the process's shared tokenizer (which the wiring gave its vocabulary).
    """
    tokenize = tokenize or shared_tokenizer()
    if embedder is None:
        # The hashed embedding uses characters only: words are BM25's job, and skipping a
        # second jieba pass halves the cost of indexing.
        embedder = make_embedder(embeddings, api_key=api_key, base_url=base_url)
    if weights is None:
        weights = default_weights(embedder)
    if client is None:
        client = make_chroma_client(data_dir=data_dir, url=chroma_url)
    vectors = VectorIndex(client, f"tianfu_{name}", embedder)
    return HybridIndex(data_dir / "index" / name, vectors, tokenize, weights=weights)
