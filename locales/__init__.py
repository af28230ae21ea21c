"""The interface's words: gettext catalogs per language, and the code that loads them.

The `.po` files beside this module ship inside the installed package and are compiled in
memory at first use, so a fresh install needs no build step and a missing translation can
never hide behind a stale `.mo`.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from flows.journey import LANGUAGES

CATALOG_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"


def catalog_path(language: str) -> Path:
    return CATALOG_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.GNUTranslations:
    """The catalog for `language` (a supported language code)."""
    po_path = catalog_path(language)
    if not po_path.exists():
        # Never fall back silently to English: a broken install must be seen at start.
        raise FileNotFoundError(f"the {language} catalog is missing: {po_path}")
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def normalise_language(code: str | None, *, default: str) -> str:
    """Telegram's `language_code` (e.g. 'fr', 'en-GB', 'pt-br') to a supported language."""
    if not code:
        return default
    try:
        language = Locale.parse(code.replace("_", "-"), sep="-").language
    except (UnknownLocaleError, ValueError):
        return default
    return language if language in LANGUAGES else default
