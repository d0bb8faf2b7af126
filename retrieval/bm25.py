"""BM25 lexical index over a sparse matrix: a query touches only its own terms' columns."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse


@dataclass(frozen=True, slots=True)
class LexicalHit:
    id: str
    score: float
    coverage: float  # share of the query's idf weight that this document contains


class BM25Index:
    """Okapi BM25 with precomputed per-(document, term) weights in a CSC matrix.

    Scoring a query sums a handful of sparse columns, so its cost grows with the postings
    of the query terms, not with a Python loop over documents.
    """

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self.vocab: dict[str, int] = {}
        self.idf = np.zeros(0, dtype=np.float32)
        self.matrix = sparse.csc_matrix((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    def build(self, ids: Sequence[str], docs: Sequence[Sequence[str]]) -> BM25Index:
        """Index tokenised documents (replaces any previous content)."""
        self.ids = list(ids)
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.zeros(len(docs), dtype=np.float32)
        for row, tokens in enumerate(docs):
            lengths[row] = len(tokens)
            for term, tf in Counter(tokens).items():
                rows.append(row)
                cols.append(vocab.setdefault(term, len(vocab)))
                tfs.append(tf)
        self.vocab = vocab
        n_docs, n_terms = len(docs), len(vocab)
        tf_arr = np.asarray(tfs, dtype=np.float32)
        row_arr = np.asarray(rows, dtype=np.int64)
        col_arr = np.asarray(cols, dtype=np.int64)
        df = np.bincount(col_arr, minlength=n_terms).astype(np.float32)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if n_docs else 1.0
        norm = self.k1 * (1 - self.b + self.b * lengths[row_arr] / max(avgdl, 1e-9))
        weights = self.idf[col_arr] * tf_arr * (self.k1 + 1) / (tf_arr + norm)
        shape = (n_docs, n_terms)
        self.matrix = sparse.csc_matrix((weights, (row_arr, col_arr)), shape=shape)
        self.matrix.sort_indices()
        return self

    def search(self, tokens: Sequence[str], k: int = 10) -> list[LexicalHit]:
        """The top *k* documents with a positive score, best first.

        Walks the postings of the query terms only (CSC columns), so the cost grows with how
        many documents contain those terms, not with the size of the corpus.
        """
        if not self.ids:
            return []
        counts = Counter(tokens)
        known = [(self.vocab[t], c) for t, c in counts.items() if t in self.vocab]
        if not known:
            return []
        m, n_docs = self.matrix, len(self.ids)
        cols = np.array([col for col, _ in known], dtype=np.int64)
        reps = np.array([rep for _, rep in known], dtype=np.float32)
        lo = m.indptr[cols]
        sizes = m.indptr[cols + 1] - lo
        # every query term's postings side by side, added in term order (np.add.at adds
        # repeated rows one by one): the float32 sums a loop over the terms would make, in
        # a few array operations instead of four per term
        at = np.arange(int(sizes.sum())) + np.repeat(lo - (np.cumsum(sizes) - sizes), sizes)
        rows = m.indices[at]
        weights = self.idf[cols] * reps
        scores = np.zeros(n_docs, dtype=np.float32)
        matched = np.zeros(n_docs, dtype=np.float32)
        np.add.at(scores, rows, m.data[at] * np.repeat(reps, sizes))
        np.add.at(matched, rows, np.repeat(weights, sizes))
        # Unknown query terms count as the rarest possible word: they lower coverage.
        max_idf = math.log1p((n_docs + 0.5) / 0.5)
        unknown = sum(counts.values()) - sum(c for _, c in known)
        total_idf = float(np.cumsum(weights)[-1]) + max_idf * unknown  # summed in term order
        top = np.argpartition(-scores, k)[:k] if k < scores.size else np.arange(scores.size)
        top = top[scores[top] > 0]
        top = top[np.argsort(-scores[top], kind="stable")]
        # as Python numbers at once, not one numpy scalar per hit and field
        ids, shares = self.ids, (matched[top] / total_idf).tolist()
        return [
            LexicalHit(ids[i], score, share)
            for i, score, share in zip(top.tolist(), scores[top].tolist(), shares, strict=True)
        ]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        sparse.save_npz(directory / "bm25_matrix.npz", self.matrix.tocsc())
        np.save(directory / "bm25_idf.npy", self.idf)
        meta = {"k1": self.k1, "b": self.b, "ids": self.ids, "vocab": self.vocab}
        tmp = directory / "bm25_meta.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        tmp.replace(directory / "bm25_meta.json")

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        meta = json.loads((directory / "bm25_meta.json").read_text(encoding="utf-8"))
        index = cls(k1=meta["k1"], b=meta["b"])
        index.ids, index.vocab = meta["ids"], meta["vocab"]
        index.matrix = sparse.load_npz(directory / "bm25_matrix.npz").tocsc()
        index.idf = np.load(directory / "bm25_idf.npy")
        return index

    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / "bm25_meta.json").exists()
