"""`tianfu kb ingest`: load, validate, chunk and index a folder of articles, incrementally."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge import CORPUS_DIR
from knowledge.loader import (
    Article,
    ArticleError,
    LoadError,
    LoadResult,
    article_files,
    decode_article,
    load_articles,
    parse_article,
)
from knowledge.pesticides import article_error, default_guard
from retrieval.index import Document, HybridIndex, IndexStats
from retrieval.safety import PesticideGuard

log = logging.getLogger(__name__)


def article_document(article: Article) -> Document:
    """The indexable form of an article; its metadata travels with every hit."""
    return Document(
        id=article.id,
        text=article.body,
        title=article.title,
        questions=article.questions + article.tags,
        sha256=article.sha256,
        metadata={
            "title": article.title,
            "category": article.category,
            "crops": list(article.crops),
            "audience": list(article.audience),
            "months": list(article.months),
            "regions": list(article.regions),
            "tags": list(article.tags),
            "source": article.source,
            "questions": list(article.questions),
            "path": article.path,
        },
    )


@dataclass(slots=True)
class IngestReport:
    stats: IndexStats
    errors: list[LoadError] = field(default_factory=list)
    loaded: int = 0


def ingest(
    index: HybridIndex,
    path: Path = CORPUS_DIR,
    *,
    remove_missing: bool = True,
    progress: bool | None = None,
    guard: PesticideGuard | None = None,
) -> IngestReport:
    """Bring *index* in line with the articles under *path*.

    Malformed files are reported and skipped; a file that previously loaded but is now
    malformed keeps its old indexed version rather than vanishing. An article that
    recommends a banned pesticide for its crops (*guard*, default the bundled list) is
    refused like a malformed one.
    """
    result = safe(load_articles(article_files(path)), guard or default_guard())
    docs = [article_document(a) for a in result.articles]
    # A file that is there but broken keeps its last good version in the index, and
    # articles that came from another folder are not this folder's to remove.
    root = str(path.resolve())
    broken = {Path(e.path).stem for e in result.errors}
    foreign = {
        doc_id
        for doc_id, entry in index.manifest.items()
        if not str(entry.get("metadata", {}).get("path", "")).startswith(root)
    }
    keep = frozenset(broken | foreign)
    bar = _progress_bar(progress)
    tick: Callable[[int], None] | None = bar.update if bar is not None else None
    try:
        stats = index.sync(docs, remove_missing=remove_missing, keep=keep, progress=tick)
    finally:
        if bar is not None:
            bar.close()
    for err in result.errors:
        log.warning("skipped %s", err)
    return IngestReport(stats=stats, errors=result.errors, loaded=len(docs))


def safe(result: LoadResult, guard: PesticideGuard) -> LoadResult:
    """*result* with the articles recommending a banned product moved to its errors."""
    kept: list[Article] = []
    for article in result.articles:
        error = article_error(article, guard)
        if error is None:
            kept.append(article)
        else:
            result.errors.append(error)
    result.articles = kept
    return result


def _progress_bar(enabled: bool | None) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(unit="chunk", desc="indexing", file=sys.stderr, leave=False)


@lru_cache(maxsize=1)
def bundled_articles() -> tuple[Article, ...]:
    """Every article shipped in the bundled corpus (read once)."""
    return tuple(load_articles(article_files(CORPUS_DIR)).articles)


def bundled_titles() -> dict[str, str]:
    """Id -> title of every article shipped in the bundled corpus."""
    return {a.id: a.title for a in bundled_articles()}


def bundled_tags() -> frozenset[str]:
    """The tags of every bundled article: the words articles are about (中暑, 心肺复苏,
    杀虫灯), for spelling them right where people type them wrong."""
    return frozenset(t for a in bundled_articles() for t in a.tags)


@lru_cache(maxsize=1)
def bundled_topic_text() -> str:
    """The titles and tags of the bundled articles as one text: what a keyword topic of a
    subscription must occur in to be something the assistant can push (read once)."""
    articles = load_articles(article_files(CORPUS_DIR)).articles
    return "\n".join(" ".join((a.title, *a.tags)) for a in articles)


def add_article(
    index: HybridIndex, raw: bytes, *, overlay: Path, guard: PesticideGuard | None = None
) -> Article:
    """Validate one article file (an administrator's upload), save it under *overlay* as
    ``<id>.md`` and index it at once; the rest of the index is untouched.

    An article of the same id that came from *overlay* is replaced. The id of a bundled
    article, or of any other indexed article from elsewhere, is refused: an upload cannot
    silently shadow it. Refusals name the article (id and title), never a server path.
    An article recommending a pesticide banned for its crops is refused (*guard*, default the
    bundled list).

    Raises:
        ArticleError: with the line and the reason, before anything is written.
    """
    text = decode_article(raw)
    article = parse_article(text, path="<upload>")
    unsafe = article_error(article, guard or default_guard())
    if unsafe is not None:
        at = text.find(unsafe.reason.rpartition(": ")[2][:20])
        line = text[:at].count("\n") + 1 if at >= 0 else 0
        raise ArticleError(line, unsafe.reason)
    target = (overlay / f"{article.id}.md").resolve()
    bundled = bundled_titles().get(article.id)
    meta = index.manifest.get(article.id, {}).get("metadata", {})
    owner = str(meta.get("path", ""))
    if bundled is not None or (owner and Path(owner).resolve() != target):
        title = bundled or str(meta.get("title", "")) or article.id
        kind = "a bundled article" if bundled is not None else "another article"
        msg = f"id {article.id!r} is already used by {kind}, 《{title}》; choose another id"
        raise ArticleError(2, msg)
    overlay.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".md.tmp")
    tmp.write_bytes(raw)
    tmp.replace(target)
    article = replace(article, path=str(target))
    index.sync([article_document(article)], remove_missing=False)
    log.info("article %s added from an upload", article.id)
    return article
