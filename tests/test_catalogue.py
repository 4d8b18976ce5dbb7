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


def msgids() -> set[str]:
    return {m.id for m in extract() if m.id}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalogue_is_complete(locale: str) -> None:
    with po_path(locale).open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    problems = []
    for msgid in sorted(msgids()):
        message = catalog.get(msgid)
        if message is None or not message.string:
            problems.append(f"untranslated: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif sorted(PLACEHOLDER.findall(message.string)) != sorted(PLACEHOLDER.findall(msgid)):
            problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
    assert not problems, f"{locale}: " + "\n".join(problems)


def test_fresh_clone_compiles_catalogues(tmp_path: Path) -> None:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    i18n = create_i18n("ru", copy)
    assert set(i18n.available_locales) == set(SUPPORTED_LOCALES)
    assert i18n.gettext("Main menu", locale="en") == "Main menu"
    assert i18n.gettext("Main menu", locale="ru") not in ("", "Main menu")
