"""A hybrid document index: chunks in BM25 (persisted npz) and Chroma, kept in step.

Documents are added, replaced and removed by id; a manifest of content hashes lets ingestion
skip what has not changed. Queries fuse both signals with weighted reciprocal-rank fusion.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.bm25 import BM25Index
from retrieval.fusion import rrf
from retrieval.tokenizer import Tokenize
from retrieval.vector import VectorIndex

log = logging.getLogger(__name__)

CHUNK_CHARS = 360
_PARA = re.compile(r"\n\s*\n")
_SENT_END = re.compile(r"(?<=[。！？；!?;])")


@dataclass(frozen=True, slots=True)
class Document:
    """Something to index: an article, an answer text, an expert profile."""

    id: str
    text: str
    title: str = ""
    questions: tuple[str, ...] = ()
    sha256: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    id: str
    doc_id: str
    ord: int
    text: str  # what is shown and extracted from
    index_text: str  # what is indexed: text with title (and questions for ord 0)


@dataclass(frozen=True, slots=True)
class Hit:
    doc_id: str
    chunk_id: str
    title: str
    text: str
    score: float  # fused RRF score, only meaningful for ordering
    confidence: float  # 0..1: how well the document covers the query
    signals: dict[str, int]  # signal name -> 1-based rank of this document's best chunk
    metadata: dict[str, Any]


def split_text(text: str, limit: int = CHUNK_CHARS) -> list[str]:
    """Split on paragraphs, then sentences, into pieces of at most about *limit* characters."""
    pieces: list[str] = []
    for para in _PARA.split(text.strip()):
        para = para.strip()
        if not para:
            continue
        if len(para) <= limit:
            pieces.append(para)
            continue
        current = ""
        for sent in _SENT_END.split(para):
            if current and len(current) + len(sent) > limit:
                pieces.append(current)
                current = ""
            current += sent
        if current:
            pieces.append(current)
    chunks: list[str] = []
    for piece in pieces:  # merge short neighbours so a chunk carries enough context
        if chunks and len(chunks[-1]) + len(piece) + 1 <= limit:
            chunks[-1] = f"{chunks[-1]}\n{piece}"
        else:
            chunks.append(piece)
    return chunks or [text.strip()]


def doc_text(doc: Document) -> str:
    """What BM25 indexes for a document: title, typical questions, text."""
    return "\n".join(x for x in (doc.title, "\n".join(doc.questions), doc.text) if x)


def make_chunks(doc: Document, limit: int = CHUNK_CHARS) -> list[Chunk]:
    head = doc.title
    out = []
    for i, piece in enumerate(split_text(doc.text, limit)):
        extra = "\n".join(doc.questions) if i == 0 and doc.questions else ""
        index_text = "\n".join(x for x in (head, extra, piece) if x)
        out.append(Chunk(f"{doc.id}#{i}", doc.id, i, piece, index_text))
    return out


@dataclass(slots=True)
class IndexStats:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    seconds: float = 0.0


class HybridIndex:
    """BM25 + vector index over chunks, persisted under *directory*.

    Args:
        directory: where the BM25 files, the chunk store and the manifest live.
        vectors: the Chroma-backed vector index (client and embedder injected).
        tokenize: the tokenizer used for BM25 (documents and queries alike).
    """

    def __init__(
        self,
        directory: Path,
        vectors: VectorIndex,
        tokenize: Tokenize,
        *,
        weights: tuple[float, float] = (1.0, 1.0),
        depth: int = 50,
    ) -> None:
        self.directory = directory
        self.vectors = vectors
        self.tokenize = tokenize
        self.weights = weights
        self.depth = depth
        self.bm25 = BM25Index()
        self.manifest: dict[str, dict[str, Any]] = {}
        self.chunks: dict[str, dict[str, Any]] = {}
        self._load()

    # ---- persistence -------------------------------------------------------------------
    def _load(self) -> None:
        store = self.directory / "chunks.json"
        if store.exists():
            data = json.loads(store.read_text(encoding="utf-8"))
            self.manifest, self.chunks = data["manifest"], data["chunks"]
        if BM25Index.exists(self.directory):
            self.bm25 = BM25Index.load(self.directory)

    def _load_tokens(self) -> dict[str, list[str]]:
        # Tokens are needed only to rebuild the BM25 matrix, so they stay on disk otherwise.
        path = self.directory / "tokens.json"
        if not path.exists():
            return {}
        tokens: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
        return tokens

    def _save(self, tokens: dict[str, list[str]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, payload in (
            ("chunks.json", {"manifest": self.manifest, "chunks": self.chunks}),
            ("tokens.json", tokens),
        ):
            tmp = self.directory / f"{name}.tmp"
            tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.directory / name)
        self.bm25.save(self.directory)

    # ---- writing -----------------------------------------------------------------------
    def sync(
        self,
        docs: Iterable[Document],
        *,
        remove_missing: bool = True,
        keep: frozenset[str] = frozenset(),
        progress: Callable[[int], None] | None = None,
    ) -> IndexStats:
        """Make the index hold exactly *docs* (or add them, with ``remove_missing=False``).

        Unchanged documents (same sha256) are neither re-tokenised nor re-embedded; ids in
        *keep* stay indexed even when they are not among *docs*.
        """
        started = time.perf_counter()
        stats = IndexStats()
        wanted: dict[str, Document] = {}
        for doc in docs:
            wanted[doc.id] = doc
        changed = [
            d
            for d in wanted.values()
            if not d.sha256 or self.manifest.get(d.id, {}).get("sha") != d.sha256
        ]
        stats.unchanged = len(wanted) - len(changed)
        # metadata may gain fields without the text changing: refresh it without re-indexing
        refreshed = False
        changed_ids = {d.id for d in changed}
        for doc in wanted.values():
            entry = self.manifest.get(doc.id)
            if entry and doc.id not in changed_ids and entry.get("metadata") != doc.metadata:
                entry["metadata"] = doc.metadata
                refreshed = True
        gone = (
            [i for i in self.manifest if i not in wanted and i not in keep]
            if remove_missing
            else []
        )
        if not changed and not gone and BM25Index.exists(self.directory):
            if refreshed:
                self._save(self._load_tokens())
            stats.chunks = len(self.chunks)
            stats.seconds = time.perf_counter() - started
            return stats
        tokens = self._load_tokens()
        for doc_id in gone:
            self._drop(doc_id, tokens)
            stats.removed += 1
        batch: list[Chunk] = []
        metas: list[dict[str, Any]] = []
        for doc in changed:
            if doc.id in self.manifest:
                self._drop(doc.id, tokens)
                stats.updated += 1
            else:
                stats.added += 1
            chunks = make_chunks(doc)
            tokens[doc.id] = self.tokenize(doc_text(doc))
            self.manifest[doc.id] = {
                "sha": doc.sha256,
                "title": doc.title,
                "chunks": [c.id for c in chunks],
                "metadata": doc.metadata,
            }
            for c in chunks:
                self.chunks[c.id] = {"doc_id": doc.id, "ord": c.ord, "text": c.text}
                batch.append(c)
                metas.append({"doc_id": doc.id, "ord": c.ord, **_filterable(doc.metadata)})
            if len(batch) >= 1000:
                self.vectors.upsert([c.id for c in batch], [c.index_text for c in batch], metas)
                if progress:
                    progress(len(batch))
                batch, metas = [], []
        if batch:
            self.vectors.upsert([c.id for c in batch], [c.index_text for c in batch], metas)
            if progress:
                progress(len(batch))
        ids = list(self.manifest)
        for doc_id in ids:
            if doc_id not in tokens:  # an index written by an older version
                entry = self.manifest[doc_id]
                body = "\n".join(self.chunks[c]["text"] for c in entry["chunks"])
                tokens[doc_id] = self.tokenize(f"{entry['title']}\n{body}")
        self.bm25.build(ids, [tokens[i] for i in ids])
        self._save(tokens)
        stats.chunks = len(self.chunks)
        stats.seconds = time.perf_counter() - started
        return stats

    def remove(self, ids: Iterable[str]) -> int:
        """Take the documents *ids* out of the index; how many were there."""
        drop = set(ids) & set(self.manifest)
        if not drop:
            return 0
        return self.sync([], keep=frozenset(set(self.manifest) - drop)).removed

    def _drop(self, doc_id: str, tokens: dict[str, list[str]]) -> None:
        entry = self.manifest.pop(doc_id, None)
        if not entry:
            return
        self.vectors.delete(entry["chunks"])
        tokens.pop(doc_id, None)
        for cid in entry["chunks"]:
            self.chunks.pop(cid, None)

    # ---- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.manifest)

    def doc_ids(self) -> list[str]:
        return list(self.manifest)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Documents for *query*, best first, each with its best chunk and a confidence.

        BM25 ranks whole documents (a chunk boundary must not split the evidence); the
        vector index ranks chunks, and a document's best chunk stands for it.
        """
        tokens = self.tokenize(query)
        # a signal with no vote in the fusion is not worth a round trip to Chroma; alone,
        # BM25's first k are the fusion's first k (rank fusion keeps a single list's order)
        use_vector = self.weights[1] > 0 and bool(query.strip())
        depth = self.depth if use_vector else k
        lexical = self.bm25.search(tokens, depth) if tokens else []
        vector = self.vectors.search(query, self.depth) if use_vector else []
        best_chunk: dict[str, str] = {}
        similarity: dict[str, float] = {}
        vec_docs: list[str] = []
        for vh in vector:
            chunk = self.chunks.get(vh.id)
            if chunk is None:
                continue
            doc_id = chunk["doc_id"]
            if doc_id not in best_chunk:
                best_chunk[doc_id] = vh.id
                similarity[doc_id] = vh.similarity
                vec_docs.append(doc_id)
        lex_docs = [h.id for h in lexical]
        coverage = {h.id: h.coverage for h in lexical}
        fused = rrf([lex_docs, vec_docs], self.weights)
        lex_rank = {d: i for i, d in enumerate(lex_docs, start=1)}
        vec_rank = {d: i for i, d in enumerate(vec_docs, start=1)}
        hits: list[Hit] = []
        for doc_id, score in fused[:k]:
            entry = self.manifest.get(doc_id)
            if entry is None:
                continue
            chunk_id = best_chunk.get(doc_id) or self._best_chunk(entry["chunks"], tokens)
            signals = {}
            if doc_id in lex_rank:
                signals["bm25"] = lex_rank[doc_id]
            if doc_id in vec_rank:
                signals["vector"] = vec_rank[doc_id]
            conf = max(coverage.get(doc_id, 0.0), _calibrate(similarity.get(doc_id, 0.0)))
            hits.append(
                Hit(
                    doc_id,
                    chunk_id,
                    entry["title"],
                    self.chunks[chunk_id]["text"],
                    score,
                    conf,
                    signals,
                    entry["metadata"],
                )
            )
        return hits

    def relevance(self, query: str, k: int = 300) -> dict[str, float]:
        """Graded relevance in 0..1 per document: BM25 relative to the best hit, blended with
        the vector similarity in proportion to the fusion weights (for re-ranking by other
        signals, where rank positions alone would hide ties)."""
        tokens = self.tokenize(query)
        lexical = self.bm25.search(tokens, k) if tokens else []
        w_lex, w_vec = self.weights
        out: dict[str, float] = {}
        if lexical:
            top = lexical[0].score or 1.0
            for h in lexical:
                out[h.id] = w_lex * h.score / top
        if w_vec > 0 and query.strip():
            for vh in self.vectors.search(query, k):
                chunk = self.chunks.get(vh.id)
                if chunk is not None:
                    doc = chunk["doc_id"]
                    out[doc] = out.get(doc, 0.0) + w_vec * _calibrate(vh.similarity)
        total = (w_lex + w_vec) or 1.0
        return {d: v / total for d, v in out.items() if v > 0}

    def _best_chunk(self, chunk_ids: list[str], tokens: list[str]) -> str:
        wanted = {t for t in tokens if len(t) >= 2}
        return max(
            chunk_ids,
            key=lambda c: sum(1 for t in wanted if t in self.chunks[c]["text"]),
        )

    def chunk_texts(self, doc_id: str) -> list[str]:
        return [self.chunks[c]["text"] for c in self.manifest.get(doc_id, {}).get("chunks", [])]


def _calibrate(similarity: float) -> float:
    """Map the local embedding's cosine similarity onto the 0..1 confidence scale."""
    return max(0.0, min(1.0, (similarity - 0.15) / 0.5))


FILTERABLE = ("category", "crops", "audience", "province", "city", "county")


def _filterable(meta: dict[str, Any]) -> dict[str, Any]:
    """The metadata worth filtering on in Chroma (scalars: lists are joined with '|').

    Titles, sources and questions stay in the manifest; copying them into every vector
    row would only cost memory.
    """
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if key not in FILTERABLE:
            continue
        if isinstance(value, list | tuple):
            out[key] = "|".join(str(v) for v in value)
        elif isinstance(value, str | int | float | bool):
            out[key] = value
    return out


def doc_ranking(hits: Sequence[Hit]) -> list[str]:
    return [h.doc_id for h in hits]
