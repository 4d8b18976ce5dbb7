"""Gettext catalogues: compiled from the committed `.po` files at start-up, chosen per user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n.context import get_i18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LOCALES
from storage.models import User

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def compile_catalogues(path: Path = LOCALES_DIR) -> None:
    """Write `messages.mo` next to every `messages.po` that is newer (a fresh clone has none)."""
    for po_path in path.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)


def create_i18n(default_locale: str, path: Path = LOCALES_DIR) -> I18n:
    """Compile the catalogues and load them."""
    compile_catalogues(path)
    return I18n(path=path, default_locale=default_locale, domain=DOMAIN)


def normalise_locale(code: str | None) -> str | None:
    """Telegram's `ru-RU` or `en` to one of ours, or None when we don't speak it."""
    if not code:
        return None
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in SUPPORTED_LOCALES else None


class UserLocaleMiddleware(I18nMiddleware):
    """The language of the user the update comes from, as loaded by the user middleware."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        """The user's chosen language, else Telegram's, else the default."""
        user: User | None = data.get("user")
        if user is None:
            return self.i18n.default_locale
        return user.language(self.i18n.default_locale)


def current_locale() -> str:
    """The language of the person being answered (or written to, inside `i18n.use_locale`)."""
    return get_i18n().current_locale
