"""`tianfu bench nlu|retrieval --llm`: figures through the LLM path, clear errors without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_nlu_llm_without_a_key_says_what_to_set(capsys: pytest.CaptureFixture[str]):
    code = main(["bench", "nlu", "--data", str(ROOT / "bench/data/nlu_test.jsonl"), "--llm"])
    assert code == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_nlu_llm_against_the_fake_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = tmp_path / "few.jsonl"
    rows = [
        {"id": 1, "text": "稻瘟病怎么防治", "intent": "question", "crop": "水稻"},
        {"id": 2, "text": "我在泸州合江，电话13800001234，柑橘黄龙病想请专家", "intent": "need"},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    main(["bench", "nlu", "--data", str(data), "--llm", "--fake-llm"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["messages"] == 2 and result["intent_acc"] == 1.0
    assert result["llm_calls"] == 2 and result["llm_ok"] == 2 and result["prompt_tokens"] > 0
    assert result["p50_ms"] > 0
