"""The Chroma server path: `chroma run` on loopback, the index reached through CHROMA_URL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from knowledge import CORPUS_DIR
from knowledge.ingest import ingest
from retrieval.factory import open_index


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path):
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        pytest.fail("the chroma CLI is missing from the environment (chromadb installs it)")
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [
            str(exe),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"chroma run did not come up on {url}: {err[-500:]}")
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_index_through_chroma_server(chroma_server: str, tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("grain-rice-blast", "animal-bee-varroa-mite", "sci-rainbow"):
        shutil.copy(CORPUS_DIR / f"{name}.md", folder / f"{name}.md")
    index = open_index("server", data_dir=tmp_path / "data", chroma_url=chroma_server)
    report = ingest(index, folder, progress=False)
    assert report.stats.added == 3
    assert index.vectors.count() == len(index.chunks)
    hits = index.search("蜂螨怎么防治", k=2)
    assert hits[0].doc_id == "animal-bee-varroa-mite"
    # the vectors themselves live on the server and answer queries from there
    vector_hits = index.vectors.search("蜂螨怎么防治", k=3)
    assert vector_hits and index.chunks[vector_hits[0].id]["doc_id"] == "animal-bee-varroa-mite"
    # a second client (another worker process) sees the same collection
    other = open_index("server", data_dir=tmp_path / "data", chroma_url=chroma_server)
    assert other.vectors.count() == index.vectors.count()
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded on disk


def test_bad_chroma_url_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="CHROMA_URL must look like"):
        open_index("x", data_dir=tmp_path, chroma_url="localhost:8000")
