"""Catalogs: complete in both languages, in step with the code, and really loaded."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.settings import SUPPORTED_LANGUAGES
from locales import CATALOG_DIR as LOCALES_DIR
from locales import normalise_language, translations
from reports.text import day, time_text, when_text
from reports.wording import labelled, too_few

ROOT = Path(__file__).resolve().parent.parent


def _catalog(language: str):
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_catalog_entry_is_filled(language: str) -> None:
    catalog = _catalog(language)
    empty = [
        m.id
        for m in catalog
        if m.id and (not all(m.string) if isinstance(m.string, tuple) else not m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert empty == [] and fuzzy == []
    assert len([m for m in catalog if m.id]) > 50


def test_catalogs_hold_every_string_of_the_code(tmp_path: Path) -> None:
    """Re-extract the strings: none may be missing from the catalogs."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(LOCALES_DIR / "babel.cfg"),
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as template:
        wanted = {m.id for m in read_po(template) if m.id}
    for language in SUPPORTED_LANGUAGES:
        have = {m.id for m in _catalog(language) if m.id}
        assert wanted - have == set(), language


# A translation function called where it is made (`translator(language)("…")`) hides its
# string from babel's extraction: the string is then never translated.
UNEXTRACTED = re.compile(r"\b(?:translator|ngettext_for)\([^()]*\)\(")


def test_every_translated_string_can_be_extracted() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("bot", "flows", "reports")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if UNEXTRACTED.search(line)
    ]
    assert found == []


def test_dates_and_labels_read_in_french() -> None:
    """Strings once hidden from the extraction, now translated."""
    moment = datetime(2026, 12, 3, 8, tzinfo=UTC)
    assert when_text(moment, ZoneInfo("Europe/Paris"), "fr") == "jeudi 3 décembre 2026 à 9h"
    first = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)  # the first of the month: « 1er »
    assert when_text(first, ZoneInfo("Europe/Paris"), "fr") == "mardi 1er décembre 2026 à 17h30"
    assert day(first.date(), "fr") == "1er décembre 2026" and day(first.date(), "en").startswith(
        "Dec"
    )
    assert day(datetime(2026, 12, 21).date(), "fr") == "21 décembre 2026"
    assert labelled("Lieu", "Mairie", "fr") == "Lieu\u00a0: Mairie"
    assert too_few(3, "fr") == "Moins de 3 réponses\u00a0: non affiché."


def test_dates_and_times_as_french_people_write_them() -> None:
    """« lundi 30 novembre 2026 à 17h30 », not « 30/11/2026 17:30 »; English unchanged."""
    paris = ZoneInfo("Europe/Paris")
    evening = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    assert when_text(evening, paris, "fr") == "lundi 30 novembre 2026 à 17h30"
    assert time_text(evening, paris, "fr") == "17h30"
    assert time_text(datetime(2026, 11, 30, 8, 5, tzinfo=UTC), paris, "fr") == "9h05"
    assert time_text(datetime(2026, 11, 30, 16, tzinfo=UTC), paris, "fr") == "17h"
    assert when_text(evening, paris, "en") == "Monday, November 30, 2026 at 5:30\u202fPM"
    assert when_text(evening, paris, "fr", with_zone=True).endswith("à 17h30 (heure de Paris)")


def test_plurals_follow_each_language() -> None:
    fr, en = translations("fr"), translations("en")
    assert fr.ngettext("{count} finished", "{count} finished", 1) == "{count} a terminé"
    assert fr.ngettext("{count} finished", "{count} finished", 0) == "{count} a terminé"
    assert fr.ngettext("{count} finished", "{count} finished", 3) == "{count} ont terminé"
    assert en.ngettext("{count} participant", "{count} participants", 0) == "{count} participants"


def test_one_real_translation_in_each_language() -> None:
    assert translations("fr").gettext("I agree") == "J'accepte"
    assert translations("en").gettext("I agree") == "I agree"
    assert (
        translations("fr")
        .gettext("Moment {number} of {count} · {title}")
        .startswith("Moment {number} sur")
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("en-GB", "en"),
        ("en", "en"),
        ("pt-br", "fr"),
        ("xx-invalid-!", "fr"),
        (None, "fr"),
        ("", "fr"),
    ],
)
def test_telegram_language_codes_are_normalised(code: str | None, expected: str) -> None:
    assert normalise_language(code, default="fr") == expected
