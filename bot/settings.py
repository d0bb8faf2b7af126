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
# WeChat's server settings: Token is 3-32 letters or digits, EncodingAESKey 43 of them
_WECHAT_TOKEN_RE = re.compile(r"^[A-Za-z0-9]{3,32}$")
_WECHAT_AES_KEY_RE = re.compile(r"^[A-Za-z0-9]{43}$")


class Settings(BaseSettings):
    """Every setting of the application (see `.env.example` for one line on each)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    data_dir: Path = Path("var")
    model_cache_dir: Path | None = None  # default DATA_DIR/cache (see model_cache)
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
    # how people reach a person at the platform (a phone, an e-mail), told to "转人工"; "" names
    # the administrator instead
    support_contact: str = ""
    # --- web chat and `tianfu serve` (issue 16) ---
    web_secret: SecretStr | None = None
    web_host: str = "0.0.0.0"
    web_port: int = Field(default=8080, ge=1, le=65535)
    web_rate_session: int = Field(default=30, ge=1, le=100000)
    web_rate_address: int = Field(default=120, ge=1, le=1000000)
    # ---- photos and voice (issue 16) ----
    media_root: Path | None = None  # default DATA_DIR/media (see media_dir)
    media_url: str = "/media/"
    media_max_photo_bytes: int = Field(default=10_000_000, ge=10_000, le=50_000_000)
    media_max_voice_bytes: int = Field(default=5_000_000, ge=10_000, le=50_000_000)
    asr_model_dir: Path | None = None
    # WeChat Official Account at /wechat (issue 16)
    wechat_token: SecretStr | None = None
    wechat_app_id: str = ""
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"

    @field_validator("wechat_token")
    @classmethod
    def _check_wechat_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WECHAT_TOKEN_RE.match(value.get_secret_value()):
            msg = "expected 3 to 32 letters or digits, as entered in the account's server settings"
            raise ValueError(msg)
        return value

    @field_validator("wechat_aes_key")
    @classmethod
    def _check_wechat_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() == "":
            return None
        if value is not None and not _WECHAT_AES_KEY_RE.match(value.get_secret_value()):
            msg = (
                f"expected the 43-character EncodingAESKey (A-Z a-z 0-9) from the account's "
                f"server settings, got {len(value.get_secret_value())} characters"
            )
            raise ValueError(msg)
        return value

    @field_validator("wechat_api_base")
    @classmethod
    def _check_wechat_api_base(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            msg = f"expected an http(s) URL such as https://api.weixin.qq.com, got {value!r}"
            raise ValueError(msg)
        return value.rstrip("/")

    # issue 19: articles not updated for this many days are flagged by `tianfu kb coverage`
    kb_max_age_days: int = Field(default=365, ge=1, le=3650)
    # --- perf (issue 17): indicator rollups ---
    stats_check_hour: int = Field(default=3, ge=0, le=23)
    # running at scale (issue 17): Redis-queued updates, shared sending limits, ops endpoints
    redis_url: str = ""
    stream_shards: int = Field(default=16, ge=1, le=1024)
    stream_lease_seconds: float = Field(default=5.0, ge=0.5, le=300)
    # with REDIS_URL a web chat request waits this long for the worker's replies, else 202 + SSE
    web_reply_wait_seconds: float = Field(default=3.0, ge=0, le=25)
    telegram_rate_per_second: float = Field(default=30.0, gt=0, le=100_000)
    telegram_chat_interval_seconds: float = Field(default=1.0, ge=0, le=60)
    ops_host: str = "127.0.0.1"
    ops_port: int = Field(default=9100, ge=0, le=65535)
    log_format: Literal["text", "json"] = "text"

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

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if value and not re.match(r"^(redis|rediss|unix)://", value):
            msg = f"expected a redis:// URL (e.g. redis://127.0.0.1:6379/0), got {value!r}"
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

    @field_validator("web_secret")
    @classmethod
    def _check_web_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < 16:
            msg = (
                "expected at least 16 characters "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
            raise ValueError(msg)
        return value

    @property
    def corpus_overlay(self) -> Path:
        """Articles added at run time (an administrator's upload) live here, not in the package."""
        return self.data_dir / "corpus"

    @property
    def model_cache(self) -> Path:
        """Where the trained intent model is cached: MODEL_CACHE_DIR, or DATA_DIR/cache."""
        return self.model_cache_dir or self.data_dir / "cache"

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
