"""`tianfu kb ingest` and `tianfu kb search` as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from knowledge import CORPUS_DIR


def test_ingest_then_search(tianfu, tmp_path: Path):
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


def test_ingest_missing_folder(tianfu, tmp_path: Path):
    proc = tianfu("kb", "ingest", str(tmp_path / "nope"), cwd=tmp_path)
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr


def test_gaps_lists_unanswered_questions_and_poor_articles(tianfu, tmp_path: Path):
    from sqlmodel import Session

    from store.db import init_db, make_engine
    from store.feedback import FeedbackSource, record_feedback
    from store.questions import log_question
    from store.users import get_or_create_user

    assert "no gaps" in tianfu("kb", "gaps", cwd=tmp_path).stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'tianfu.db'}")
    init_db(engine)
    with Session(engine) as s:
        uid = get_or_create_user(session=s, channel="console", external_id="u").id
        for _ in range(3):
            log_question(session=s, question="火星上能种土豆吗", answered=False, user_id=uid)
        row = log_question(
            session=s,
            question="彩虹为什么是弯的",
            answered=True,
            user_id=uid,
            top_hit="sci-rainbow",
            top_title="彩虹是怎么形成的",
        )
        record_feedback(
            session=s,
            user_id=uid,
            article_id="sci-rainbow",
            source=FeedbackSource.ANSWER,
            ref_id=row.id,
            useful=False,
        )
    engine.dispose()
    out = tianfu("kb", "gaps", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "3" in lines[1] and "no answer" in lines[1] and "火星上能种土豆吗" in lines[1]
    assert any("poor article" in ln and "[sci-rainbow] 有用 0 / 没用 1" in ln for ln in lines)
    assert any("rated 没用" in ln and "彩虹为什么是弯的" in ln for ln in lines)
    assert len(tianfu("kb", "gaps", "--limit", "1", cwd=tmp_path).stdout.splitlines()) == 2
    bad = tianfu("kb", "gaps", "--days", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "at least 1" in bad.stderr
