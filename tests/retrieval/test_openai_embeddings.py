"""The retriever's `openai` embedding option against the fake OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest

from retrieval.embeddings import OpenAIEmbedder, make_embedder
from retrieval.factory import default_weights, open_index
from retrieval.index import Document
from tests.conftest import ephemeral_client

DOCS = [
    Document(
        "rice-blast", "稻瘟病是水稻的真菌病害，叶片出现梭形病斑，可用三环唑防治。", title="稻瘟病"
    ),
    Document(
        "plum-gum", "李子树流胶多因枝干受伤和细菌侵染，刮除胶块后涂石硫合剂。", title="李子流胶"
    ),
    Document("quake", "地震时在屋内就近躲在坚固桌下，护住头颈，不要乘电梯。", title="地震避险"),
]


def test_openai_embedder_talks_to_the_configured_endpoint(fake_llm):
    embedder = make_embedder(
        "openai", api_key="test-key", base_url=fake_llm.base_url, model="bge-m3"
    )
    assert isinstance(embedder, OpenAIEmbedder)
    vectors = embedder.embed(["稻瘟病", "地震"] * 40)  # more than one batch of 64
    assert vectors.shape == (80, 64)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-5  # normalised
    bodies = [json.loads(b) for b in fake_llm.bodies]
    assert [len(b["input"]) for b in bodies] == [64, 16]
    assert {b["model"] for b in bodies} == {"bge-m3"}


def test_index_with_openai_embeddings_finds_the_article(fake_llm, tmp_path):
    index = open_index(
        "openai_test",
        data_dir=tmp_path,
        client=ephemeral_client(),
        embeddings="openai",
        api_key="test-key",
        base_url=fake_llm.base_url,
    )
    assert index.weights == default_weights(index.vectors.embedder) == (1.0, 1.0)
    index.sync(DOCS)
    assert index.search("稻瘟病用什么药", k=3)[0].doc_id == "rice-blast"
    assert index.search("地震了屋里怎么躲", k=3)[0].doc_id == "quake"
    assert any("input" in json.loads(b) for b in fake_llm.bodies)


def test_openai_embeddings_need_a_key():
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        make_embedder("openai", api_key="", base_url="http://127.0.0.1:9/v1")
