"""`tianfu kb ingest` and `tianfu kb search` as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from knowledge import CORPUS_DIR


def tianfu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHROMA_URL")}
    env.update(DATA_DIR=str(cwd / "var"), EMBEDDINGS="local", ANONYMIZED_TELEMETRY="False")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_ingest_then_search(tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("grain-rice-blast", "hort-plum-gummosis", "sci-rainbow"):
        shutil.copy(CORPUS_DIR / f"{name}.md", folder / f"{name}.md")
    (folder / "broken.md").write_text("no front matter here", encoding="utf-8")
    first = tianfu("kb", "ingest", str(folder), cwd=tmp_path)
    assert first.returncode == 1  # one file refused
    assert "3 articles loaded" in first.stdout and "3 added" in first.stdout
    assert "broken.md:1: missing YAML front matter" in first.stderr
    (folder / "broken.md").unlink()
    second = tianfu("kb", "ingest", str(folder), cwd=tmp_path)
    assert second.returncode == 0 and "3 unchanged" in second.stdout
    table = tianfu("kb", "search", "李子树流胶咋个办", "--k", "2", cwd=tmp_path)
    assert table.returncode == 0
    first_row = table.stdout.splitlines()[1]
    assert "李树流胶病的成因与防治" in first_row and "bm25#1" in first_row
    raw = tianfu("kb", "search", "稻瘟病", "--json", cwd=tmp_path)
    rows = json.loads(raw.stdout)
    assert rows[0]["id"] == "grain-rice-blast" and rows[0]["signals"]["bm25"] == 1
    assert {"score", "confidence", "title", "chunk"} <= set(rows[0])


def test_ingest_missing_folder(tmp_path: Path):
    proc = tianfu("kb", "ingest", str(tmp_path / "nope"), cwd=tmp_path)
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr
