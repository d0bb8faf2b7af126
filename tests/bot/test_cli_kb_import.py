"""`tianfu kb import` and `tianfu kb remove` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from tests.knowledge.test_qa_import import CSV, write


def test_cli_import_and_remove(tianfu, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", CSV)
    run = tianfu("kb", "import", str(path), cwd=tmp_path)
    assert run.returncode == 1  # some rows refused, the rest kept
    assert "2 added" in run.stdout and "1 merged" in run.stdout
    assert f"{path}:5: the answer recommends 甲胺磷" in run.stderr
    gone = tianfu("kb", "remove", "--source", "宜宾农技站", cwd=tmp_path)
    assert gone.returncode == 0 and "2 items" in gone.stdout
    assert tianfu("kb", "remove", "--source", "宜宾农技站", cwd=tmp_path).returncode == 1
    missing = tianfu("kb", "import", str(tmp_path / "none.csv"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
