from __future__ import annotations

from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from knowledge.ingest import ingest
from retrieval.factory import open_index
from retrieval.index import HybridIndex


def ephemeral_client():
    return chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))


@pytest.fixture(scope="session")
def kb_index(tmp_path_factory: pytest.TempPathFactory) -> HybridIndex:
    """The bundled corpus indexed once for the session (embedded Chroma, local embedding)."""
    data_dir: Path = tmp_path_factory.mktemp("kb")
    index = open_index("knowledge_test", data_dir=data_dir, client=ephemeral_client())
    report = ingest(index, progress=False)
    assert report.errors == []
    return index
