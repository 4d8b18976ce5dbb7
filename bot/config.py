"""Typed settings from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LOCALES = ("ru", "en")
TELEGRAM_API_BASE_URL = "https://api.telegram.org"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr
    bot_api_base_url: str = TELEGRAM_API_BASE_URL
    database_path: Path = Path("nastavnik.sqlite3")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    default_locale: str = "ru"
    default_timezone: str = "Europe/Moscow"
    log_level: str = "INFO"
    proxy_url: str | None = None
    # messages a second overall: Telegram takes about 30; more only for paid broadcasts (up to 1000) or a
    # local Bot API server such as the tests' fake
    outbox_rate: float = Field(default=25.0, gt=0, le=1000)
    outbox_chat_interval: float = Field(default=1.1, ge=1.0, le=60)  # seconds between two to one chat
    outbox_poll_seconds: float = Field(default=3.0, gt=0, le=60)  # how often the queue is looked at

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        bot_id, sep, secret = value.get_secret_value().partition(":")
        if not (sep and bot_id.isdigit() and secret):
            raise ValueError("expected the token from @BotFather, like 123456:ABC-DEF")
        return value

    @field_validator("bot_api_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("expected comma-separated Telegram user ids, like 123,456")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError("expected one of: " + ", ".join(SUPPORTED_LOCALES))
        return value

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone, like Europe/Moscow") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning any validation error into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        if first["type"] == "missing":
            raise ConfigError(f"{name} is required: set it in the environment or in .env") from None
        reason = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name} is invalid: {reason}") from None
