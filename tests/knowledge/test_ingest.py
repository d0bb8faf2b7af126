"""Incremental ingest: unchanged files are not re-embedded; removed files leave the index."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from knowledge import CORPUS_DIR
from knowledge.ingest import ingest
from retrieval.embeddings import LocalHashEmbedder
from retrieval.factory import open_index
from tests.retrieval.conftest import ephemeral_client


class CountingEmbedder(LocalHashEmbedder):
    def __init__(self) -> None:
        super().__init__(dim=64)
        self.name = "counting"
        self.embedded: list[str] = []

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return super().embed(texts)


def copy_some(dst: Path, names: list[str]) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(CORPUS_DIR / f"{name}.md", dst / f"{name}.md")


def test_incremental_ingest(tmp_path: Path):
    folder = tmp_path / "articles"
    copy_some(folder, ["grain-rice-blast", "hort-plum-gummosis", "sci-rainbow"])
    client = ephemeral_client()
    emb = CountingEmbedder()

    def index():
        return open_index("inc", data_dir=tmp_path / "data", client=client, embedder=emb)

    first = ingest(index(), folder, progress=False)
    assert (first.stats.added, first.stats.unchanged) == (3, 0)
    n_first = len(emb.embedded)
    assert n_first > 0

    emb.embedded.clear()
    again = ingest(index(), folder, progress=False)  # a fresh process would reload the same way
    assert (again.stats.added, again.stats.updated, again.stats.unchanged) == (0, 0, 3)
    assert emb.embedded == []  # nothing re-embedded

    text = (folder / "sci-rainbow.md").read_text(encoding="utf-8")
    (folder / "sci-rainbow.md").write_text(
        text + "\n补充：雨后傍晚看东边更容易见到彩虹。\n", encoding="utf-8"
    )
    (folder / "hort-plum-gummosis.md").unlink()
    changed = ingest(index(), folder, progress=False)
    assert (changed.stats.updated, changed.stats.removed, changed.stats.unchanged) == (1, 1, 1)
    assert all("彩虹" in t for t in emb.embedded)  # only the changed article's chunks
    idx = index()
    assert sorted(idx.doc_ids()) == ["grain-rice-blast", "sci-rainbow"]
    assert idx.vectors.count() == len(idx.chunks)
    assert all(h.doc_id != "hort-plum-gummosis" for h in idx.search("李树流胶", k=5))


def test_broken_file_keeps_last_good_version(tmp_path: Path):
    folder = tmp_path / "articles"
    copy_some(folder, ["grain-rice-blast", "sci-rainbow"])
    client = ephemeral_client()
    idx = open_index("brk", data_dir=tmp_path / "d", client=client, embedder=CountingEmbedder())
    ingest(idx, folder, progress=False)
    (folder / "sci-rainbow.md").write_text("---\nid: sci-rainbow\n", encoding="utf-8")
    report = ingest(idx, folder, progress=False)
    assert [Path(e.path).name for e in report.errors] == ["sci-rainbow.md"]
    assert "sci-rainbow" in idx.doc_ids()


def test_another_folder_does_not_remove_bundled_articles(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    copy_some(a, ["grain-rice-blast"])
    copy_some(b, ["sci-rainbow"])
    idx = open_index(
        "two", data_dir=tmp_path / "d", client=ephemeral_client(), embedder=CountingEmbedder()
    )
    ingest(idx, a, progress=False)
    ingest(idx, b, progress=False)
    assert sorted(idx.doc_ids()) == ["grain-rice-blast", "sci-rainbow"]
    assert np.isclose(1.0, 1.0)


def test_added_article_is_searchable_at_once(tmp_path: Path):
    folder = tmp_path / "articles"
    copy_some(folder, ["grain-rice-blast"])
    idx = open_index(
        "new", data_dir=tmp_path / "d", client=ephemeral_client(), embedder=CountingEmbedder()
    )
    ingest(idx, folder, progress=False)
    copy_some(folder, ["animal-bee-varroa-mite"])
    ingest(idx, folder, progress=False)
    assert idx.search("蜂螨怎么防治", k=1)[0].doc_id == "animal-bee-varroa-mite"


def test_new_metadata_reaches_the_manifest_without_re_embedding(tmp_path: Path):
    folder = tmp_path / "articles"
    copy_some(folder, ["soil-purple-soil"])
    emb = CountingEmbedder()
    idx = open_index("meta", data_dir=tmp_path / "d", client=ephemeral_client(), embedder=emb)
    ingest(idx, folder, progress=False)
    # an index written before articles carried regions and tags
    del idx.manifest["soil-purple-soil"]["metadata"]["regions"]
    emb.embedded.clear()
    again = ingest(idx, folder, progress=False)
    assert again.stats.unchanged == 1 and emb.embedded == []
    meta = idx.manifest["soil-purple-soil"]["metadata"]
    assert meta["regions"] == ["四川省", "重庆市"] and "紫色土" in meta["tags"]


def test_uploaded_article_is_validated_saved_and_searchable(tmp_path: Path):
    from knowledge.ingest import add_article
    from knowledge.loader import ArticleError

    idx = open_index(
        "up", data_dir=tmp_path / "d", client=ephemeral_client(), embedder=CountingEmbedder()
    )
    ingest(idx, CORPUS_DIR / "grain-rice-blast.md", progress=False)
    overlay = tmp_path / "overlay"
    bundled = (CORPUS_DIR / "animal-bee-varroa-mite.md").read_bytes()
    raw = bundled.replace(b"id: animal-bee-varroa-mite", b"id: local-bee-varroa-mite", 1)
    article = add_article(idx, raw, overlay=overlay)
    assert (overlay / "local-bee-varroa-mite.md").read_bytes() == raw
    assert idx.search("蜂螨怎么防治", k=1)[0].doc_id == article.id == "local-bee-varroa-mite"
    assert "grain-rice-blast" in idx.doc_ids()  # the rest is untouched
    # sending it again with a change replaces the earlier upload
    add_article(idx, raw + "\n补充：越冬前最后一次治螨要在断子期。\n".encode(), overlay=overlay)
    assert "断子期" in (overlay / "local-bee-varroa-mite.md").read_text(encoding="utf-8")
    assert any("越冬前" in t for t in idx.chunk_texts("local-bee-varroa-mite"))
    # a bundled article's id is refused, indexed or not, naming the article, not a path
    for shadow in (CORPUS_DIR / "grain-rice-blast.md", CORPUS_DIR / "animal-bee-varroa-mite.md"):
        try:
            add_article(idx, shadow.read_bytes(), overlay=overlay)
        except ArticleError as exc:
            assert "already used by a bundled article" in exc.reason and exc.line == 2
            assert f"'{shadow.stem}'" in exc.reason and "《" in exc.reason
            assert "/" not in exc.reason and str(CORPUS_DIR) not in str(exc)
        else:
            raise AssertionError("an upload must not shadow a bundled article")
    assert not (overlay / "grain-rice-blast.md").exists()
    try:
        add_article(idx, b"---\nid: x\n", overlay=overlay)
    except ArticleError as exc:
        assert exc.line == 1 and "not closed" in exc.reason
    else:
        raise AssertionError("a broken upload must be refused")
