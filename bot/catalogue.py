"""Translation catalogues: `python -m bot.catalogue` extracts the texts and updates every `.po`.

Texts are English msgids in the code; `locales/<lang>/LC_MESSAGES/messages.po` holds the translations.
After running it, translate the new (empty or fuzzy) entries and commit the `.pot` and `.po` files.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.config import SUPPORTED_LOCALES
from bot.i18n import DOMAIN, LOCALES_DIR

ROOT = LOCALES_DIR.parent
SOURCE_DIRS = ("bot", "handlers", "dialogs")
KEYWORDS = {"_": None, "__": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every translatable text in the code, with its places and translator comments."""
    catalog = Catalog(project="Nastavnik", fuzzy=False)
    for folder in SOURCE_DIRS:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
        ):
            catalog.add(message, None, [(f"{folder}/{filename}", lineno)],
                        auto_comments=comments, context=context)
    return catalog


def po_path(locale: str) -> Path:
    """Where a locale's catalogue lives."""
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update() -> None:
    """Write the template and merge it into every locale's catalogue."""
    template = extract()
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("wb") as fh:
        write_po(fh, template, omit_header=False, sort_output=False)
    for locale in SUPPORTED_LOCALES:
        path = po_path(locale)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, project="Nastavnik")
        catalog.update(template, update_header_comment=False)
        with path.open("wb") as fh:
            write_po(fh, catalog, omit_header=False, ignore_obsolete=True, width=100)


if __name__ == "__main__":
    update()
    print("updated", ", ".join(str(po_path(locale).relative_to(ROOT)) for locale in SUPPORTED_LOCALES))
