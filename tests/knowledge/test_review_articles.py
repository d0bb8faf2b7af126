"""The articles awaiting review load cleanly and would not shadow a bundled article."""

from __future__ import annotations

from pathlib import Path

from knowledge import CORPUS_DIR
from knowledge.loader import article_files, load_articles

REVIEW = Path(__file__).resolve().parents[2] / "knowledge" / "review"


def test_articles_awaiting_review_load_and_are_new() -> None:
    pending = load_articles(article_files(REVIEW))
    assert pending.errors == []
    assert len(pending.articles) >= 240
    bundled = {a.id for a in load_articles(article_files(CORPUS_DIR)).articles}
    assert not {a.id for a in pending.articles} & bundled
    titles = [a.title for a in pending.articles]
    assert len(titles) == len(set(titles))
