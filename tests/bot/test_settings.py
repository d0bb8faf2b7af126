"""Settings: read from env and .env, bad values stop start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from store.db import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults_are_offline_and_local():
    s = load_settings()
    assert s.data_dir == Path("var")
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("var/tianfu.db")
    assert s.embeddings == "local" and s.locale == "zh" and not s.llm_enabled
    assert s.admin_ids == [] and s.auto_close_days == 7
    assert s.model_cache == Path("var/cache")


def test_model_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "models"))
    assert load_settings(data_dir=tmp_path / "data").model_cache == tmp_path / "models"


def test_env_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    (tmp_path / ".env").write_text("ADMIN_IDS=11, 22\nOPENAI_API_KEY=sk-test\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/db")
    s = load_settings()
    assert s.admin_ids == [11, 22]
    assert s.db_url == "postgresql+psycopg://u@127.0.0.1/db"
    assert s.llm_enabled
    assert "sk-test" not in repr(s) and "sk-test" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "abc"),
        ("AUTO_CLOSE_DAYS", "soon"),
        ("LOCALE", "fr"),
        ("EMBEDDINGS", "magic"),
        ("DATABASE_URL", "mysql://x"),
        ("MATCH_TOP_N", "0"),
        ("PUSH_PER_WEEK", "-1"),
        ("PUSH_WINDOW", "8am-8pm"),
        ("PUSH_WINDOW", "08:00-08:00"),
        ("PUSH_TIMEZONE", "Mars/Olympus"),
    ],
)
def test_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(f"Bad setting {name}=") and value in line


def test_cli_stops_with_one_line_on_bad_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from bot.cli import main
    from bot.settings import get_settings

    monkeypatch.setenv("ADMIN_IDS", "abc")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        assert main(["db", "init"]) == 2
    finally:
        get_settings.cache_clear()
    assert capsys.readouterr().err.strip().splitlines() == [
        "tianfu: Bad setting ADMIN_IDS='abc': expected comma-separated numeric Telegram user "
        "ids, got 'abc'"
    ]
    assert not (tmp_path / "var").exists()


def test_short_webhook_secret_stops_start_up_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from bot.cli import main
    from bot.settings import get_settings

    monkeypatch.setenv("WEBHOOK_SECRET", "short-secret")
    get_settings.cache_clear()
    try:
        assert main(["bot", "--webhook"]) == 2
    finally:
        get_settings.cache_clear()
    line = capsys.readouterr().err.strip()
    assert line.startswith("tianfu: Bad setting WEBHOOK_SECRET: expected 16 to 256 characters")
    assert "short-secret" not in line and "\n" not in line
    assert load_settings(webhook_secret="x" * 16).webhook_secret is not None


def test_tianfu_console_script_creates_the_database(tmp_path: Path):
    """The one smoke test of the installed `tianfu` script (the rest call main in-process)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ADMIN_IDS")}
    env["DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "tianfu"), "db", "init"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"schema v{SCHEMA_VERSION}" in proc.stdout
    assert (tmp_path / "data" / "tianfu.db").exists()


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    lines = text.splitlines()
    for name in Settings.model_fields:
        key = name.upper()
        idx = next((i for i, ln in enumerate(lines) if ln.startswith(f"{key}=")), None)
        assert idx is not None, f"{key} missing from .env.example"
        assert lines[idx - 1].startswith("# "), f"{key} has no comment line"


def test_llm_mode_is_off_without_a_key(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLM_MODE", "answer")
    assert load_settings().effective_llm_mode == "off"
    s = load_settings(openai_api_key="sk-test", llm_timeout="2.5")
    assert (s.effective_llm_mode, s.llm_timeout, s.llm_structured) == (
        "answer",
        2.5,
        "function_calling",
    )


@pytest.mark.parametrize(
    ("name", "value"), [("LLM_MODE", "always"), ("LLM_TIMEOUT", "0"), ("LLM_STRUCTURED", "xml")]
)
def test_bad_llm_settings_name_the_value(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert name in str(err.value) and repr(value) in str(err.value)


def test_services_get_the_chat_model_only_in_llm_mode(tmp_path: Path):
    from bot.app import open_llm

    assert open_llm(load_settings(data_dir=tmp_path)) is None
    model = open_llm(
        load_settings(openai_api_key="sk-test", openai_base_url="http://127.0.0.1:9/v1")
    )
    assert model is not None and model.extracts and model.answers and model.timeout == 8.0
    assert open_llm(load_settings(openai_api_key="sk-test", llm_mode="off")) is None


# WeChat Official Account (issue 16)
@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("WECHAT_TOKEN", "ab", True),  # WeChat wants 3-32 letters or digits
        ("WECHAT_TOKEN", "has space in it", True),
        ("WECHAT_AES_KEY", "tooShortKey123", True),
        ("WECHAT_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF+", True),
        ("WECHAT_API_BASE", "api.weixin.qq.com", False),
    ],
)
def test_bad_wechat_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, secret: bool
):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert name in str(err.value)
    assert (value in str(err.value)) is not secret  # a secret is not printed, even a bad one


def test_wechat_settings():
    s = load_settings(
        wechat_token="tianfuToken2026",
        wechat_aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        wechat_api_base="http://127.0.0.1:9/",
    )
    assert s.wechat_api_base == "http://127.0.0.1:9"
    assert load_settings(wechat_aes_key="").wechat_aes_key is None  # empty: 明文模式
    assert load_settings().wechat_api_base == "https://api.weixin.qq.com"
