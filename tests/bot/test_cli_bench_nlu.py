"""`tianfu bench nlu`: the blind splits, the confusion table, crops compared by alias."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import nlu
from bot.cli import main


def test_a_split_names_the_blind_file_and_nothing_else():
    assert nlu.split_path("tune").name == "messages_tune.jsonl"
    assert nlu.split_path("sealed").parent == nlu.split_path("tune").parent
    with pytest.raises(ValueError, match="unknown split"):
        nlu.split_path("../nlu_dev")


def test_data_or_split_but_not_both(capsys: pytest.CaptureFixture[str]):
    assert main(["bench", "nlu"]) == 2
    assert "--split" in capsys.readouterr().err


def test_figures_confusion_and_crop_aliases(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = tmp_path / "few.jsonl"
    rows = [
        # gold written as 李子, the lexicon's name is 李: the same crop
        {
            "id": "a",
            "text": "我屋头李子树流胶流得凶，是咋回事嘛",
            "intent": "question",
            "crop": "李子",
        },
        {"id": "b", "text": "今天星期几来着", "intent": "other"},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert main(["bench", "nlu", "--data", str(data)]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["crop_acc"] == 1.0
    assert result["intent_eval"] == "bundled model"  # none of these is a training example
    assert sum(sum(row.values()) for row in result["confusion"].values()) == 2
    assert result["p99_ms"] >= result["p50_ms"] > 0
    assert "gold/pred" in captured.err  # the table, for people
