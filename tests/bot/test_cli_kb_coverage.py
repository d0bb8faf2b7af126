"""`tianfu kb coverage` as an editor runs it."""

from __future__ import annotations

from pathlib import Path

from tests.knowledge.test_pesticides import ARTICLE


def test_cli_prints_the_map(tianfu, tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "x.md").write_text(
        ARTICLE.format(advice="发现虫口上升要及早防治，不要等到大量落叶再动手。").replace(
            "2026-11-30", "2020-01-01"
        ),
        encoding="utf-8",
    )
    run = tianfu("kb", "coverage", str(folder), cwd=tmp_path)
    assert run.returncode == 0
    assert "1 articles;" in run.stdout and "1 stale" in run.stdout
    assert "stale: local-citrus-mite-bad (updated 2020-01-01)" in run.stdout
    assert "empty: 水稻 x 病害" in run.stdout
    assert "柑橘" in run.stdout.splitlines()[8]
