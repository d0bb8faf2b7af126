"""`tianfu bench answers` runs a few labelled questions through the assistant and scores them."""

from __future__ import annotations

import json

import pytest

from bench import UNSEEN
from bench.answers import cited_titles, misses, questions_path, score
from bot.cli import main


def test_answers_benchmark_runs_on_a_few_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "answers", "--split", "tune", "--limit", "6", "--sequential"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["split"] == "tune" and result["questions"] == 6
    assert result["answerable"] + result["unanswerable"] == 6
    assert result["right"] + result["wrong"] + result["missed"] == result["answerable"]
    assert result["sequential"]["answerable"] == result["answerable"]


def test_a_reply_is_right_only_when_it_cites_the_labelled_article() -> None:
    rows = [
        {"id": "a", "text": "稻瘟病用啥子药", "article": "rice"},
        {"id": "b", "text": "稻子咋个了", "article": "rice", "also": ["other"]},
        {"id": "c", "text": "股票涨没得", "article": None},
        {"id": "d", "text": "手机卡", "article": None},
    ]
    titles = {"rice": "水稻稻瘟病的识别与防治", "other": "别的文章"}
    replies = [
        "三环唑……\n\n来源：《水稻稻瘟病的识别与防治》",
        "……\n\n来源：《别的文章》",
        "这个问题我在知识库里没有找到可靠的答案。要我帮您问问专家吗？",
        "……\n\n来源：《水稻稻瘟病的识别与防治》",
    ]
    result = score(rows, replies, titles)
    assert (result["right"], result["wrong"], result["missed"]) == (2, 0, 0)
    assert (result["honest_no"], result["false_answer"]) == (1, 1)
    assert cited_titles("x\n来源：《甲》；《乙》") == ["甲", "乙"]


def test_misses_list_each_wrong_reply_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"id": "a", "text": "稻瘟病用啥子药", "article": "rice"},
        {"id": "b", "text": "稻子咋个了", "article": "rice"},
        {"id": "c", "text": "股票涨没得", "article": None},
        {"id": "d", "text": "稻曲病", "article": "rice"},
    ]
    titles = {"rice": "水稻稻瘟病的识别与防治", "smut": "稻曲病"}
    replies = [
        "来源：《水稻稻瘟病的识别与防治》",
        "没有找到",
        "来源：《稻曲病》",
        "来源：《稻曲病》",
    ]
    found = {m["id"]: m["kind"] for m in misses(rows, replies, titles)}
    assert found == {"b": "missed", "c": "false_answer", "d": "wrong"}
    # the unseen held-out questions are measured, never listed (spent ones may be studied)
    assert main(["bench", "answers", "--split", UNSEEN, "--errors"]) == 2
    assert "--errors" in capsys.readouterr().err


def test_only_known_splits_are_read() -> None:
    with pytest.raises(ValueError, match="split"):
        questions_path("dev")


def test_calibration_prints_weights_and_a_threshold_table(tmp_path) -> None:
    from bench import calibrate

    result = calibrate.run(
        splits=("tune",), extra_unanswerable=0, folds=3, repeats=1, eval_dir=tmp_path
    )
    assert set(result["weights"]) >= {"confidence", "coverage", "title"}
    assert 0 < result["threshold"] < 1
    row = result["cv_at_threshold"]
    assert 0 <= row["precision"] <= 1 and 0 <= row["recall"] <= 1


def test_calibration_chooses_the_threshold_on_splits_left_out(tmp_path) -> None:
    # each split is scored by a model fitted on the others: how the decision carries over
    # to writers it never saw, figures per split
    from bench import calibrate

    labelled = calibrate.measure(("tune", "sealed"), extra_unanswerable=0, eval_dir=tmp_path)
    result = calibrate.run(labelled=labelled)
    assert result["cv"].startswith("leave one split out")
    assert set(result["per_split"]) == {"tune", "sealed"}
    chosen = result["cv_at_threshold"]
    assert chosen["threshold"] == result["threshold"]
    each = [result["per_split"][s]["right_rate"] for s in ("tune", "sealed")]
    assert chosen["right_rate"] == pytest.approx(sum(each) / 2, abs=1e-3)


def test_calibration_never_reads_the_unseen_split() -> None:
    from bench import calibrate

    with pytest.raises(ValueError, match=UNSEEN):
        calibrate.measure(("tune", UNSEEN))


def test_relabels_name_spent_questions_and_articles_that_exist() -> None:
    from bench import SPLITS
    from bench.answers import RELABELS, read_questions
    from bench.retrieval import read_jsonl
    from knowledge import CORPUS_DIR
    from knowledge.loader import article_files, load_articles

    articles = {a.id for a in load_articles(article_files(CORPUS_DIR)).articles}
    fixes = read_jsonl(RELABELS)
    assert fixes
    for fix in fixes:
        assert fix["split"] in SPLITS and fix["split"] != UNSEEN
        assert fix["article"] in articles
        row = next(r for r in read_questions(fix["split"]) if r["id"] == fix["id"])
        assert row["article"] == fix["article"]  # answerable now: refusing it is a miss


def test_a_split_not_yet_written_is_a_clear_error_in_every_blind_bench(
    tmp_path, monkeypatch, capsys
) -> None:
    from bench import conversations

    monkeypatch.setattr(conversations, "DATA", tmp_path)
    assert main(["bench", "conversations", "--split", "sealed2"]) == 2
    assert "conversations_sealed2.jsonl" in capsys.readouterr().err
