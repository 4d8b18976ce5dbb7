"""Every text a person reads is translated in every locale, with the same placeholders."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.catalogue import extract, po_path
from bot.config import SUPPORTED_LOCALES
from bot.i18n import LOCALES_DIR, create_i18n

PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def msgids() -> list[str | tuple[str, str]]:
    return [m.id for m in extract() if m.id]


def placeholders(text: str | tuple[str, ...]) -> list[list[str]]:
    forms = text if isinstance(text, tuple) else (text,)
    return [sorted(PLACEHOLDER.findall(form)) for form in forms]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalogue_is_complete(locale: str) -> None:
    with po_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    problems = []
    for msgid in msgids():
        message = catalog.get(msgid)
        strings = message.string if message is not None and isinstance(message.string, tuple) else (
            (message.string,) if message is not None else ()
        )
        expected = {tuple(p) for p in placeholders(msgid)}
        if message is None or not all(strings):
            problems.append(f"untranslated: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif any(tuple(p) not in expected for p in placeholders(strings)):
            problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
    assert not problems, f"{locale}: " + "\n".join(problems)


def test_fresh_clone_compiles_catalogues(tmp_path: Path) -> None:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    i18n = create_i18n("ru", copy)
    assert set(i18n.available_locales) == set(SUPPORTED_LOCALES)
    assert i18n.gettext("Main menu", locale="en") == "Main menu"
    assert i18n.gettext("Main menu", locale="ru") not in ("", "Main menu")
