"""Article validation: a malformed file names path, line and reason; the rest still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import CORPUS_DIR
from knowledge.loader import (
    MAX_FILE_BYTES,
    ArticleError,
    article_files,
    load_articles,
    parse_article,
)

GOOD = """---
id: {id}
title: 测试文章
tags: [测试]
crops: [水稻]
category: disease
audience: [farmer]
questions:
  - 这是第一个问题？
  - 这是第二个问题？
source: 本项目为测试编写
updated: 2026-11-01
---
{body}
"""
BODY = "稻田里的测试段落，用来检查加载器是否按规定读取文章内容。" * 8


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_bundled_corpus_is_valid_and_large_enough():
    result = load_articles(article_files(CORPUS_DIR))
    assert result.errors == []
    assert len(result.articles) >= 150
    for art in result.articles:
        assert 2 <= len(art.questions) <= 5 and art.source


def test_malformed_files_are_reported_and_others_load(tmp_path: Path):
    write(tmp_path, "good.md", GOOD.format(id="good", body=BODY))
    write(tmp_path, "nofront.md", "只有正文没有头部\n" + BODY)
    write(
        tmp_path,
        "badyaml.md",
        GOOD.format(id="badyaml", body=BODY).replace("tags: [测试]", "tags: [测试"),
    )
    write(
        tmp_path,
        "missing.md",
        GOOD.format(id="missing", body=BODY).replace("source: 本项目为测试编写\n", ""),
    )
    write(tmp_path, "short.md", GOOD.format(id="short", body="太短了"))
    write(
        tmp_path, "category.md", GOOD.format(id="category", body=BODY).replace("disease", "magic")
    )
    write(tmp_path, "gbk.md", GOOD.format(id="gbk", body=BODY).encode("gbk"))
    write(tmp_path, "huge.md", GOOD.format(id="huge", body=BODY) + "长" * MAX_FILE_BYTES)
    write(tmp_path, "zdup.md", GOOD.format(id="good", body=BODY))
    result = load_articles(article_files(tmp_path))
    assert [a.id for a in result.articles] == ["good"]
    errors = {Path(e.path).name: e for e in result.errors}
    assert set(errors) == {
        "nofront.md",
        "badyaml.md",
        "missing.md",
        "short.md",
        "category.md",
        "gbk.md",
        "huge.md",
        "zdup.md",
    }
    assert errors["nofront.md"].line == 1 and "front matter" in errors["nofront.md"].reason
    assert errors["badyaml.md"].line >= 3
    assert "missing 'source'" in errors["missing.md"].reason
    assert "body has 3 characters" in errors["short.md"].reason and errors["short.md"].line == 14
    assert "unknown category 'magic'" in errors["category.md"].reason
    assert "not UTF-8" in errors["gbk.md"].reason
    assert "1 MB" in errors["huge.md"].reason
    assert "duplicate id 'good'" in errors["zdup.md"].reason
    assert str(errors["short.md"]).startswith(str(tmp_path / "short.md") + ":14: ")


def test_parse_keeps_metadata():
    art = parse_article(
        GOOD.format(id="x-1", body=BODY).replace("crops: [水稻]", "crops: [水稻]\nmonths: [6, 7]")
    )
    assert art.crops == ("水稻",) and art.months == (6, 7) and art.updated == "2026-11-01"
    assert len(art.sha256) == 64


def test_regions_are_optional_place_names():
    art = parse_article(
        GOOD.format(id="x-2", body=BODY).replace(
            "crops: [水稻]", "crops: [水稻]\nregions: [四川省]"
        )
    )
    assert art.regions == ("四川省",)
    assert parse_article(GOOD.format(id="x-3", body=BODY)).regions == ()
    single = GOOD.format(id="x-4", body=BODY).replace(
        "crops: [水稻]", "crops: [水稻]\nregions: 重庆市"
    )
    assert parse_article(single).regions == ("重庆市",)  # one name may be written without [ ]
    too_long = GOOD.format(id="x-5", body=BODY).replace(
        "crops: [水稻]", "crops: [水稻]\nregions: [" + "很长的地名" * 8 + "]"
    )
    with pytest.raises(ArticleError, match="place names") as err:
        parse_article(too_long)
    assert err.value.line == 6
