"""The intent model's disk cache: a new process loads the model another one trained, a
change to what the model is made of is a new entry, and a damaged entry is trained again."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from dialogs.nlu import model as model_module
from dialogs.nlu import model_cache
from dialogs.nlu.model import IntentModel, default_model
from dialogs.nlu.slots import extract
from knowledge.intents import IntentExample, load_intent_examples

MESSAGES = ["稻瘟病怎么防治", "我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看", "接单", "你好"]


@pytest.fixture(scope="module")
def small_examples() -> list[IntentExample]:
    """A few examples of every intent: enough for a model, quick to train."""
    per_intent: dict[str, list[IntentExample]] = {}
    for example in load_intent_examples():
        per_intent.setdefault(example.intent, []).append(example)
    return [e for group in per_intent.values() for e in group[:6]]


@pytest.fixture
def train_small(monkeypatch: pytest.MonkeyPatch, small_examples) -> list[int]:
    """default_model's training on the small examples, counting how often it trains."""
    trained: list[int] = []
    monkeypatch.setattr(model_module, "load_intent_examples", lambda: small_examples)
    real = IntentModel.train

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        trained.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(IntentModel, "train", counting)
    return trained


def ranks(model: IntentModel) -> list[tuple[tuple[str, ...], tuple[float, ...]]]:
    return [(r.labels, r.probabilities) for r in (model.rank(t, extract(t)) for t in MESSAGES)]


def test_the_stored_model_ranks_as_the_trained_one(tmp_path: Path):
    model = default_model()
    assert model_cache.save(tmp_path, "k" * 64, model.arrays()) is not None
    arrays = model_cache.load(tmp_path, "k" * 64)
    assert arrays is not None
    loaded = IntentModel.from_arrays(arrays)
    assert loaded.labels == model.labels
    assert ranks(loaded) == ranks(model)


def test_a_second_process_loads_instead_of_training(tmp_path: Path, train_small):
    first = model_module._load_or_train(tmp_path)
    assert train_small == [1]
    assert len(list(tmp_path.glob("intent-model-*.npz"))) == 1
    second = model_module._load_or_train(tmp_path)
    assert train_small == [1]  # loaded, not trained
    assert ranks(second) == ranks(first)


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not a zip file"),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        lambda p: p.write_bytes(b""),
    ],
    ids=["garbage", "truncated", "empty"],
)
def test_a_damaged_entry_is_trained_again_and_replaced(
    tmp_path: Path, train_small, caplog, damage
):
    model_module._load_or_train(tmp_path)
    (entry,) = tmp_path.glob("intent-model-*.npz")
    damage(entry)
    with caplog.at_level(logging.WARNING, logger="dialogs.nlu.model_cache"):
        model = model_module._load_or_train(tmp_path)
    assert train_small == [1, 1]
    assert str(entry) in caplog.text and "unreadable" in caplog.text
    assert ranks(model_module._load_or_train(tmp_path)) == ranks(model)
    assert train_small == [1, 1]  # the replaced entry loads


def test_arrays_that_do_not_fit_together_are_trained_again(tmp_path: Path, train_small, caplog):
    model = model_module._load_or_train(tmp_path)
    arrays = model.arrays()
    arrays["bias"] = arrays["bias"][:-1]
    model_cache.save(tmp_path, model_cache.cache_key(), arrays)
    with caplog.at_level(logging.WARNING, logger="dialogs.nlu.model"):
        model_module._load_or_train(tmp_path)
    assert train_small == [1, 1]
    assert "bias" in caplog.text


def test_an_entry_under_another_key_is_not_read(tmp_path: Path, caplog):
    model = default_model()
    path = model_cache.save(tmp_path, "a" * 64, model.arrays())
    assert path is not None
    assert model_cache.load(tmp_path, "b" * 64) is None  # another name: not even opened
    assert model_cache.entry_path(tmp_path, "a" * 24 + "c" * 40) == path
    with caplog.at_level(logging.WARNING, logger="dialogs.nlu.model_cache"):
        assert model_cache.load(tmp_path, "a" * 24 + "c" * 40) is None  # same name, other key
    assert "holds key" in caplog.text


def test_the_key_covers_examples_lexicons_code_and_libraries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    sources, libraries = model_cache._closure("dialogs.nlu.model")
    names = {p.relative_to(model_cache._ROOT).as_posix() for p in sources}
    # the features' code, however deep the import: slots, the tokenizer, the phone module
    assert {
        "dialogs/nlu/model.py",
        "dialogs/nlu/slots.py",
        "retrieval/tokenizer.py",
        "store/phone.py",
    } <= names
    assert {"sklearn", "numpy", "jieba"} <= libraries

    key = model_cache.cache_key.__wrapped__()
    assert key == model_cache.cache_key()
    nlu = tmp_path / "nlu"
    shutil.copytree(model_cache.NLU_DIR, nlu)
    monkeypatch.setattr(model_cache, "NLU_DIR", nlu)
    assert model_cache.cache_key.__wrapped__() == key
    with (nlu / "intents.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"id": "x", "text": "稻子黄了", "intent": "question"}\n')
    assert model_cache.cache_key.__wrapped__() != key


def test_an_unwritable_directory_still_gives_a_model(tmp_path: Path, train_small, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with caplog.at_level(logging.WARNING, logger="dialogs.nlu.model_cache"):
        model = model_module._load_or_train(blocked / "cache")
    assert model.labels and train_small == [1]
    assert "cannot write" in caplog.text


def test_old_entries_are_pruned(tmp_path: Path):
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(model_cache.KEEP + 2)]
    for age, key in enumerate(keys):
        path = model_cache.save(tmp_path, key, {"x": np.zeros(1)})
        assert path is not None
        os.utime(path, (1_000_000 + age, 1_000_000 + age))  # written in this order
    kept = sorted(tmp_path.glob("intent-model-*.npz"))
    assert kept == sorted(model_cache.entry_path(tmp_path, k) for k in keys[-model_cache.KEEP :])
