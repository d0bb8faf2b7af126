"""The corpus is broad, dated and planned from a coverage map with its empty cells."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge import CORPUS_DIR
from knowledge.coverage import coverage, kind_of
from knowledge.loader import ArticleError, article_files, load_articles, parse_article
from tests.knowledge.test_pesticides import ARTICLE


def test_the_corpus_is_broad_and_every_article_is_dated() -> None:
    loaded = load_articles(article_files(CORPUS_DIR))
    assert loaded.errors == []
    assert len(loaded.articles) >= 400
    assert [a.id for a in loaded.articles if not a.updated] == []
    titles = [a.title for a in loaded.articles]
    assert len(titles) == len(set(titles))


def test_updated_must_be_a_real_date_not_in_the_future() -> None:
    text = ARTICLE.format(advice="发现虫口上升要及早防治，不要等到大量落叶再动手。")
    assert parse_article(text).updated == "2026-11-30"
    with pytest.raises(ArticleError, match="must be a date"):
        parse_article(text.replace("updated: 2026-11-30", "updated: 去年"))
    with pytest.raises(ArticleError, match="in the future"):
        parse_article(text.replace("updated: 2026-11-30", "updated: 2999-01-01"))


def test_the_map_counts_cells_and_flags_stale_articles() -> None:
    articles = load_articles(article_files(CORPUS_DIR)).articles
    cov = coverage(articles, today=date(2026, 12, 2), max_age_days=365)
    assert cov.cells[("水稻", "disease")] and cov.cells[("柑橘", "pest")]
    assert cov.citizen[("防灾减灾", "地震")]
    assert cov.stale == []
    later = coverage(articles, today=date(2028, 1, 1), max_age_days=365)
    assert len(later.stale) == len(articles)  # nothing is updated after 2026
    rice = {a.id: a for a in articles}["grain-rice-blast"]
    assert kind_of(rice, animal=False) == "disease"
