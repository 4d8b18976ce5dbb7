"""Configuration: every bad value stops start-up with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray variables or .env from the developer's machine."""
    for name in list(os.environ):
        if name.startswith(("BOT_", "DATABASE_", "ADMIN_", "DEFAULT_", "LOG_", "PROXY_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    settings = load_settings()
    assert settings.bot_api_base_url == "https://api.telegram.org"
    assert settings.default_locale == "ru"
    assert settings.default_timezone == "Europe/Moscow"
    assert settings.admin_ids == frozenset()
    assert settings.database_path.name.endswith(".sqlite3")


def test_values_from_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "BOT_TOKEN=42:secret\nADMIN_IDS=1, 2,3\nBOT_API_BASE_URL=http://127.0.0.1:8081/\n"
        "DEFAULT_LOCALE=en\nDEFAULT_TIMEZONE=Asia/Vladivostok\nLOG_LEVEL=debug\n"
    )
    settings = load_settings()
    assert settings.bot_token.get_secret_value() == "42:secret"
    assert settings.admin_ids == {1, 2, 3}
    assert settings.bot_api_base_url == "http://127.0.0.1:8081"
    assert (settings.default_locale, settings.default_timezone, settings.log_level) == (
        "en", "Asia/Vladivostok", "DEBUG"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "BOT_TOKEN is required"),
        ({"BOT_TOKEN": "nonsense"}, "BOT_TOKEN is invalid"),
        ({"BOT_TOKEN": "1:a", "ADMIN_IDS": "12,abc"}, "ADMIN_IDS is invalid"),
        ({"BOT_TOKEN": "1:a", "DEFAULT_LOCALE": "de"}, "DEFAULT_LOCALE is invalid"),
        ({"BOT_TOKEN": "1:a", "DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE is invalid"),
        ({"BOT_TOKEN": "1:a", "BOT_API_BASE_URL": "localhost:8081"}, "BOT_API_BASE_URL is invalid"),
        ({"BOT_TOKEN": "1:a", "LOG_LEVEL": "loud"}, "LOG_LEVEL is invalid"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_settings()


def test_start_up_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ADMIN_"))}
    env["ADMIN_IDS"] = "1;2"
    env["BOT_TOKEN"] = "1:a"
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: ADMIN_IDS is invalid: expected comma-separated Telegram user ids, like 123,456"
    ]
    assert "Traceback" not in result.stderr
