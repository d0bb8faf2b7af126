"""Chroma vector index: embedded PersistentClient by default, HttpClient with CHROMA_URL."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings

from retrieval.embeddings import ChromaEmbedding, Embedder

log = logging.getLogger(__name__)

# Chroma reads this before any client exists; the product never phones home.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def make_chroma_client(*, data_dir: Path, url: str = "") -> Any:
    """A Chroma client: HttpClient for *url*, else a PersistentClient under *data_dir*.

    Raises:
        ValueError: *url* is not http(s)://host[:port].
    """
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            msg = f"CHROMA_URL must look like http://host:port, got {url!r}"
            raise ValueError(msg)
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        return chromadb.HttpClient(
            host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
        )
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


@dataclass(frozen=True, slots=True)
class VectorHit:
    id: str
    similarity: float  # cosine similarity, 1 is identical
    metadata: dict[str, Any]


class VectorIndex:
    """One Chroma collection with an injected client and embedder (cosine space)."""

    def __init__(self, client: Any, name: str, embedder: Embedder) -> None:
        self.embedder = embedder
        self.collection = client.get_or_create_collection(
            name=name,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedder": embedder.name},
        )
        stored = (self.collection.metadata or {}).get("embedder")
        if stored and stored != embedder.name:
            log.warning(
                "collection %s was built with %s, now using %s: re-ingest with --rebuild",
                name,
                stored,
                embedder.name,
            )

    def count(self) -> int:
        return int(self.collection.count())

    def upsert(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
        batch: int = 1000,
    ) -> None:
        for start in range(0, len(ids), batch):
            chunk = slice(start, start + batch)
            # texts are not stored in Chroma: the index keeps them once, in its chunk store
            self.collection.upsert(
                ids=list(ids[chunk]),
                embeddings=self.embedder.embed(list(texts[chunk])),
                metadatas=list(metadatas[chunk]),
            )

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            self.collection.delete(ids=list(ids))

    def delete_where(self, where: dict[str, Any]) -> None:
        self.collection.delete(where=where)

    def ids_where(self, where: dict[str, Any]) -> list[str]:
        return list(self.collection.get(where=where, include=[])["ids"])

    def search(
        self, text: str, k: int = 10, where: dict[str, Any] | None = None
    ) -> list[VectorHit]:
        res = self.collection.query(
            query_embeddings=self.embedder.embed([text]),
            n_results=k,
            where=where,
            include=["metadatas", "distances"],
        )
        return [
            VectorHit(id_, 1.0 - float(dist), dict(meta or {}))
            for id_, dist, meta in zip(
                res["ids"][0], res["distances"][0], res["metadatas"][0], strict=True
            )
        ]


def chroma_embedding(embedder: Embedder) -> ChromaEmbedding:
    """The embedder wrapped for code that wants Chroma's own interface (e.g. langchain)."""
    return ChromaEmbedding(embedder)
