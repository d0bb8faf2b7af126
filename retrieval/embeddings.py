"""Embedding functions for the vector index, chosen by the EMBEDDINGS setting.

- ``local`` (default): offline and deterministic. Signed feature hashing of character
  1-3-grams and of the domain tokenizer's words into a fixed-size, L2-normalised vector.
  No model weights, no download; the same text always gives the same vector.
- ``openai``: any OpenAI-compatible ``/v1/embeddings`` endpoint (OPENAI_BASE_URL).
- ``st:<path>``: a sentence-transformers model directory on disk (optional extra).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

_CJK_OR_WORD = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+")


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _bucket(feature: str, dim: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dim, 1.0 if (value >> 63) & 1 else -1.0


class LocalHashEmbedder:
    """Deterministic hashed n-gram embedding (works offline, costs no memory for a model)."""

    def __init__(self, dim: int = 512, tokenize: Callable[[str], list[str]] | None = None) -> None:
        self.dim = dim
        self.tokenize = tokenize
        self.name = f"local-hash-{dim}"
        self._cache: dict[str, tuple[int, float]] = {}

    def _features(self, text: str) -> dict[str, float]:
        chars = _CJK_OR_WORD.findall(text.lower())
        feats: dict[str, float] = {}
        for n, weight in ((1, 0.25), (2, 1.0), (3, 0.6)):
            for i in range(len(chars) - n + 1):
                key = f"{n}:" + "".join(chars[i : i + n])
                feats[key] = feats.get(key, 0.0) + weight
        if self.tokenize is not None:
            for word in self.tokenize(text):
                if len(word) >= 2:
                    key = f"w:{word}"
                    feats[key] = feats.get(key, 0.0) + 1.2
        return feats

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        cache = self._cache
        for row, text in enumerate(texts):
            vec = out[row]
            for feat, count in self._features(text).items():
                slot = cache.get(feat)
                if slot is None:
                    slot = _bucket(feat, self.dim)
                    if len(cache) < 300_000:
                        cache[feat] = slot
                # sublinear term frequency keeps long documents from being dominated by repeats
                vec[slot[0]] += slot[1] * (1.0 + math.log(count) if count > 1 else count)
            norm = float(np.linalg.norm(vec))
            if norm > 0:
                vec /= norm
        return out


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible server."""

    def __init__(self, *, api_key: str, base_url: str | None, model: str, batch: int = 64) -> None:
        from openai import OpenAI

        self.client = OpenAI(api_key=api_key, base_url=base_url or None, timeout=30, max_retries=2)
        self.model = model
        self.batch = batch
        self.name = f"openai-{model}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch):
            chunk = list(texts[start : start + self.batch])
            resp = self.client.embeddings.create(model=self.model, input=chunk)
            rows.extend(item.embedding for item in sorted(resp.data, key=lambda d: d.index))
        arr = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        return arr / np.where(norms == 0, 1, norms)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local directory (never downloaded)."""

    def __init__(self, path: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - optional extra
            msg = "EMBEDDINGS=st:... needs the optional extra: pip install 'tianfu[st]'"
            raise RuntimeError(msg) from exc
        self.model: Any = SentenceTransformer(path, local_files_only=True)
        self.name = f"st-{path.rstrip('/').rsplit('/', 1)[-1]}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.model.encode(list(texts), normalize_embeddings=True, batch_size=32)
        return np.asarray(vecs, dtype=np.float32)


class ChromaEmbedding(EmbeddingFunction[Documents]):
    """Adapts an :class:`Embedder` to Chroma's embedding-function interface."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's signature
        return list(self.embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "tianfu"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self.embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:  # pragma: no cover
        msg = "tianfu embeddings are injected, not rebuilt from Chroma's config"
        raise NotImplementedError(msg)

    def is_legacy(self) -> bool:
        return False


def make_embedder(
    spec: str,
    *,
    tokenize: Callable[[str], list[str]] | None = None,
    api_key: str = "",
    base_url: str = "",
    model: str = "text-embedding-3-small",
) -> Embedder:
    """Build the embedder named by the EMBEDDINGS setting.

    Raises:
        ValueError: for an unknown spec or ``openai`` without an API key.
    """
    if spec == "local":
        return LocalHashEmbedder(tokenize=tokenize)
    if spec == "openai":
        if not api_key:
            msg = "EMBEDDINGS=openai needs OPENAI_API_KEY"
            raise ValueError(msg)
        return OpenAIEmbedder(api_key=api_key, base_url=base_url, model=model)
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    msg = f"unknown EMBEDDINGS value {spec!r}"
    raise ValueError(msg)
