"""The one formatting module: translation, numbers, escaping, excerpts, quotes, and texts
cut to Telegram's length, for the bot's views and the reports alike.

Everything returned is HTML-safe: a text that came from a user or the journey file is
escaped here, once, by the function that puts it into a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from html import escape, unescape

from babel.dates import format_date, format_time, get_timezone_gmt, get_timezone_location
from babel.numbers import format_decimal, format_percent

from flows.engine import text_length
from locales import translations

__all__ = [
    "MESSAGE_LIMIT",
    "day",
    "decimal",
    "escape",
    "excerpt",
    "local",
    "messages_of",
    "ngettext_for",
    "number",
    "percent",
    "plain",
    "quoted",
    "split_message",
    "strip_tags",
    "time_text",
    "translator",
    "units",
    "when_text",
    "xml_safe",
]

MESSAGE_LIMIT = 4096  # Telegram's limit for a message, in UTF-16 code units
_TAG = re.compile(r"<[^>]*>")
# What XML 1.0 cannot hold (control characters but tab and newlines, lone surrogates,
# U+FFFE and U+FFFF): a document file refuses the whole text for one of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

units = text_length  # Telegram counts lengths in UTF-16 code units, as the engine does


def xml_safe(text: str) -> str:
    """The text without the characters an XML document (a .docx) cannot hold: a user may
    type them, and one would make the whole report fail."""
    return _NOT_XML.sub("", text)


def translator(language: str) -> Callable[[str], str]:
    """`gettext` for `language`."""
    return translations(language).gettext


def ngettext_for(language: str) -> Callable[[str, str, int], str]:
    """`ngettext` for `language`."""
    return translations(language).ngettext


def number(value: int, language: str) -> str:
    """An integer as the language writes it (1 234 in French, 1,234 in English)."""
    return format_decimal(value, locale=language)


def decimal(value: float, language: str, *, places: int | None = None) -> str:
    """A median or quartile: as many decimals as it has, in the language's notation; a
    mean, with a fixed number of `places`, so that a chart's figures line up."""
    if places is None:
        return format_decimal(value, locale=language)
    return format_decimal(
        value, format="0" + ("." + "0" * places if places else ""), locale=language
    )


def percent(value: float, language: str) -> str:
    """A share between 0 and 1 as a whole percentage (30 %, 30%)."""
    return format_percent(value, locale=language)


def day(value: date, language: str) -> str:
    """A date as the language writes it in full (27 novembre 2026, November 27, 2026)."""
    return _dated(value, "long", language)


def _dated(value: date, width: str, language: str) -> str:
    """babel's date, with the French first of the month as French writes it: « 1er »."""
    text = format_date(value, width, locale=language)
    if language == "fr" and value.day == 1:
        text = re.sub(r"(?<!\d)1 ", "1er ", text, count=1)
    return text


def plain(texts: Mapping[str, str], language: str) -> str:
    """A journey text in the user's language, as plain text (button labels, charts)."""
    return texts.get(language) or texts["fr"]


def local(texts: Mapping[str, str], language: str) -> str:
    """A journey text in the user's language, escaped for HTML."""
    return escape(plain(texts, language))


def excerpt(text: str, limit: int = 160) -> str:
    """The start of a user's text, escaped, so that a list of them stays readable (and
    under Telegram's length limit)."""
    short = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return escape(short)


def quoted(text: str, language: str, *, limit: int | None = None) -> str:
    """A user's text between the language's quotation marks, escaped (cut at `limit`)."""
    inner = escape(text) if limit is None else excerpt(text, limit)
    return f"« {inner} »" if language == "fr" else f"“{inner}”"


def strip_tags(html: str) -> str:
    """An HTML text as plain text: tags dropped, entities read."""
    return unescape(_TAG.sub("", html))


def split_message(blocks: Iterable[str], *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join paragraphs into as few messages as fit under Telegram's limit (a paragraph
    longer than the limit is cut, which a statement of at most 2,000 characters never is)."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        block = block[:limit]
        candidate = f"{current}\n\n{block}" if current else block
        if units(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def messages_of(paragraphs: Iterable[list[str]], *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Paragraphs (lists of lines) as messages: a paragraph is cut between its lines when it
    does not fit in one, and a single line too long for a message loses its tags and is
    cut, rather than be cut in the middle of a tag."""
    blocks: list[str] = []
    for lines in paragraphs:
        current: list[str] = []
        size = 0
        for line in lines:
            if units(line) > limit:
                line = excerpt(strip_tags(line), 600)
            length = units(line)
            if current and size + 1 + length > limit:
                blocks.append("\n".join(current))
                current, size = [], 0
            size += length + (1 if current else 0)
            current.append(line)
        if current:
            blocks.append("\n".join(current))
    return split_message(blocks, limit=limit)


def time_text(moment: datetime, zone: tzinfo, language: str) -> str:
    """A time of day as the reader's language writes it, in their time zone: "17h30" and,
    on the hour, "17h" in French (as French people write it, not babel's "17:30");
    babel's short form otherwise ("5:30 PM")."""
    local = moment.astimezone(zone)
    if language == "fr":
        return f"{local.hour}h{local.minute:02d}" if local.minute else f"{local.hour}h"
    return format_time(local, "short", tzinfo=zone, locale=language)


def when_text(moment: datetime, zone: tzinfo, language: str, *, with_zone: bool = False) -> str:
    """A moment as the reader's language writes it, in their time zone, the day in full
    ("lundi 30 novembre 2026 à 17h30", "Monday, November 30, 2026 at 5:30 PM"), with the
    zone's name after it if `with_zone`."""
    local = moment.astimezone(zone)
    gettext = translator(language)  # named so that babel's extraction finds the string
    text = gettext("{date} at {time}").format(
        date=_dated(local.date(), "full", language),
        time=time_text(local, zone, language),
    )
    if with_zone:
        place = str(getattr(zone, "key", ""))
        if "/" not in place or place.startswith("Etc/"):  # no place: its offset, UTC+03:00
            location = get_timezone_gmt(local, width="long", locale=language)
        elif language == "fr":  # babel's « heure : France » reads as a form: « heure de Paris »
            city = get_timezone_location(zone, locale=language, return_city=True)
            location = f"heure de {city}"
        else:
            location = get_timezone_location(zone, locale=language)
        text += f" ({location})"
    return text
