"""Application settings, read from the environment and `.env`.

Built by :func:`get_settings`, never at import time, so tests and tools can build their own.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(ValueError):
    """A setting has a bad value; the message is one line naming the setting."""


_EMBEDDINGS_RE = re.compile(r"^(local|openai|st:.+)$")
# Telegram allows A-Z a-z 0-9 _ - in a secret token; shorter than 16 is guessable
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


class Settings(BaseSettings):
    """Every setting of the application (see `.env.example` for one line on each)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    data_dir: Path = Path("var")
    database_url: str = ""
    chroma_url: str = ""
    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str = ""
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    openai_api_key: SecretStr | None = None
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    embeddings: str = "local"
    locale: Literal["zh", "en"] = "zh"
    auto_close_days: int = Field(default=7, ge=1, le=365)
    match_top_n: int = Field(default=5, ge=1, le=50)
    match_timeout_minutes: int = Field(default=120, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    scheduler_interval_seconds: int = Field(default=30, ge=1)
    stats_region: str = "四川省"
    dashboard_token: SecretStr | None = None
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = Field(default=8081, ge=1, le=65535)
    push_per_week: int = Field(default=3, ge=0, le=21)
    push_window: str = "08:00-20:00"
    push_timezone: str = "Asia/Shanghai"
    llm_mode: Literal["off", "extract", "answer", "both"] = "both"
    llm_timeout: float = Field(default=8.0, gt=0, le=120)
    llm_structured: Literal["function_calling", "json_schema"] = "function_calling"
    question_log_days: int = Field(default=180, ge=1, le=3650)
    unverified_may_browse_accept: bool = False
    accepts_per_day: int = Field(default=10, ge=1, le=1000)
    max_open_orders: int = Field(default=5, ge=1, le=1000)
    contact_exchange: Literal["on_consent", "on_accept"] = "on_consent"
    # ---- photos and voice (issue 16) ----
    media_root: Path | None = None  # default DATA_DIR/media (see media_dir)
    media_url: str = "/media/"
    media_max_photo_bytes: int = Field(default=10_000_000, ge=10_000, le=50_000_000)
    media_max_voice_bytes: int = Field(default=5_000_000, ge=10_000, le=50_000_000)
    asr_model_dir: Path | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in re.split(r"[,\s]+", value) if p.strip()]
            bad = [p for p in parts if not re.fullmatch(r"-?\d+", p)]
            if bad:
                msg = f"expected comma-separated numeric Telegram user ids, got {bad[0]!r}"
                raise ValueError(msg)
            return [int(p) for p in parts]
        return value

    @field_validator("embeddings")
    @classmethod
    def _check_embeddings(cls, value: str) -> str:
        if not _EMBEDDINGS_RE.match(value):
            msg = f"expected 'local', 'openai' or 'st:<model dir>', got {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        secret = value.get_secret_value()
        if not _WEBHOOK_SECRET_RE.match(secret):
            msg = (
                f"expected 16 to 256 characters of A-Z a-z 0-9 _ -, got {len(secret)} "
                "characters (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
            raise ValueError(msg)
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            msg = f"expected a sqlite:// or postgresql:// URL, got {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("push_window")
    @classmethod
    def _check_push_window(cls, value: str) -> str:
        from dialogs.push import parse_window

        parse_window(value)  # raises ValueError naming the value
        return value

    @field_validator("push_timezone")
    @classmethod
    def _check_push_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {value!r} (e.g. Asia/Shanghai)"
            raise ValueError(msg) from None
        return value

    @property
    def corpus_overlay(self) -> Path:
        """Articles added at run time (an administrator's upload) live here, not in the package."""
        return self.data_dir / "corpus"

    @property
    def media_dir(self) -> Path:
        """Where photos and voice messages are stored: MEDIA_ROOT, or DATA_DIR/media."""
        return self.media_root or self.data_dir / "media"

    @property
    def db_url(self) -> str:
        """The database URL, defaulting to a SQLite file under DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tianfu.db').resolve()}"

    @property
    def openai_key(self) -> str:
        """OPENAI_API_KEY in clear, "" when unset."""
        return self.openai_api_key.get_secret_value() if self.openai_api_key else ""

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_key)

    @property
    def effective_llm_mode(self) -> str:
        """LLM_MODE, or "off" when no OPENAI_API_KEY is set."""
        return self.llm_mode if self.llm_enabled else "off"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, `.env` and *overrides*.

    Raises:
        SettingsError: one line naming the first bad setting and its value.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "?"
        reason = str(err["msg"]).removeprefix("Value error, ")
        value = err.get("input")
        field = Settings.model_fields.get(name.lower())
        if field is not None and "SecretStr" in str(field.annotation):
            msg = f"Bad setting {name}: {reason}"  # a secret is not printed, even a bad one
        else:
            msg = f"Bad setting {name}={value!r}: {reason}"
        raise SettingsError(msg) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached after the first call)."""
    return load_settings()
