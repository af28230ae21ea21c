"""Reading a time typed by a person: a date and time ("3/12 9:00", "2026-12-03 09:00",
"3 décembre 9h", "December 3 9am", "demain 9h") or a delay ("in 2 days", "dans 2 jours",
"+3h", "+30min"), in their language and time zone.

French times are read as French people write them ("17h30", "17 h 30", "17h", "9h05").

A small explicit reader rather than a general date library: the forms people type in a
command are few, a misreading here sends a message at the wrong hour, and a general
reader guesses where this one refuses (a bare "9h", a lone word, a date without a time).
Month and weekday names come from babel for each language; the order of a numeric date
("3/12") is the language's own (day first in French, month first in English), and the
sender sees the date written out before anything is scheduled.

A date without a year is the next such date (today's included); a time without a date is
the next such time. Days and weeks move the wall clock (in 2 days at the same hour, even
across a change of summer time); hours and minutes move real time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache

from babel.dates import get_date_format, get_day_names, get_month_names

# Words that read the same in every language: a delay's lead and units.
_DELAY_LEAD = re.compile(r"^(?:\+\s*|in\s+|dans\s+)(?P<rest>.+)$")
_UNITS = {
    **dict.fromkeys(("m", "mn", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "heure", "heures"), "hours"),
    **dict.fromkeys(("d", "j", "day", "days", "jour", "jours"), "days"),
    **dict.fromkeys(("w", "wk", "week", "weeks", "sem", "semaine", "semaines"), "weeks"),
}
_AMOUNT = re.compile(r"(?:(?P<n>\d{1,4})\s*|(?P<one>an|one|une|un|a)\s+)(?P<unit>[a-z]+)")
_HOURS_MINUTES = re.compile(r"^(?P<h>\d{1,3})h(?P<m>\d{2})$")  # "+1h30"
_LINKS = ("and", "et")
# "17 h 30" and "17 h", as French typography spaces them: read as "17h30" and "17h".
_SPACED_HOUR = re.compile(r"\b(?P<h>\d{1,2}) h(?: (?P<m>\d{2}))?\b")

_TIME_FORMS = (
    re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?:\s*(?P<ampm>am|pm))?$"),
    re.compile(r"^(?P<h>\d{1,2})h(?P<m>\d{2})?$"),
    re.compile(r"^(?P<h>\d{1,2})\s*(?P<ampm>am|pm)$"),
)
_ISO_DATE = re.compile(r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})$")
_NUMERIC_DATE = re.compile(r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?$")
_ORDINAL = r"(?:er|st|nd|rd|th)?"


@dataclass(frozen=True)
class _Words:
    """What one language calls days and months, folded (lower case, no accents)."""

    months: dict[str, int]
    weekdays: dict[str, int]  # Monday = 0
    relative: dict[str, int]  # "tomorrow": 1
    day_first: bool  # "3/12" is the 3rd of December
    before_date: tuple[str, ...]  # "le 3 décembre", "on December 3"
    before_time: tuple[str, ...]  # "à 9h", "at 9:00"
    next_words: tuple[str, ...]  # "next Monday", "lundi prochain"
    noon: tuple[str, ...]
    midnight: tuple[str, ...]


_OWN_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {
        "today": ("aujourd'hui", "aujourdhui"),
        "tomorrow": ("demain",),
        "after_tomorrow": ("apres-demain", "apres demain"),
        "before_date": ("le", "du"),
        "before_time": ("a", "vers"),
        "next_words": ("prochain",),
        "noon": ("midi",),
        "midnight": ("minuit",),
    },
    "en": {
        "today": ("today",),
        "tomorrow": ("tomorrow",),
        "after_tomorrow": ("the day after tomorrow", "day after tomorrow"),
        "before_date": ("on", "the"),
        "before_time": ("at", "around"),
        "next_words": ("next",),
        "noon": ("noon", "midday"),
        "midnight": ("midnight",),
    },
}


def _fold(text: str) -> str:
    """Lower case, without accents, curly apostrophes or abbreviation dots, one space."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = re.sub(r"(?<=[a-z])\.", "", plain).replace(",", " ")
    plain = re.sub(r"(?<=\d)t(?=\d)", " ", plain)  # ISO's 2026-12-03T09:00
    return " ".join(plain.split())


@cache
def _words(language: str) -> _Words:
    own = _OWN_WORDS.get(language, _OWN_WORDS["en"])
    months: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for number, name in get_month_names(width, context, locale=language).items():
                months[_fold(name)] = number
    if language == "en":
        months["sept"] = 9
    weekdays = {_fold(name): n for n, name in get_day_names("wide", locale=language).items()}
    relative = {w: 0 for w in own["today"]}
    relative |= {w: 1 for w in own["tomorrow"]} | {w: 2 for w in own["after_tomorrow"]}
    pattern = get_date_format("short", locale=language).pattern.lower()
    return _Words(
        months=months,
        weekdays=weekdays,
        relative=relative,
        day_first=pattern.index("d") < pattern.index("m"),
        before_date=own["before_date"],
        before_time=own["before_time"],
        next_words=own["next_words"],
        noon=own["noon"],
        midnight=own["midnight"],
    )


# A day named without a time yet: a fixed date, a date without its year, some days from
# today, or a weekday.
@dataclass(frozen=True)
class _Day:
    fixed: date | None = None
    month_day: tuple[int, int] | None = None
    offset: int | None = None
    weekday: int | None = None


def _time(text: str, words: _Words) -> time | None:
    if text in words.noon:
        return time(12, 0)
    if text in words.midnight:
        return time(0, 0)
    for form in _TIME_FORMS:
        found = form.match(text)
        if found is None:
            continue
        hour, minute = int(found["h"]), int(found.groupdict().get("m") or 0)
        ampm = found.groupdict().get("ampm")
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm == "pm" else 0)
        if hour > 23 or minute > 59:
            return None
        return time(hour, minute)
    return None


def _month_day(month: int, day: int, year: int | None) -> _Day | None:
    try:
        probe = date(year if year is not None else 2000, month, day)  # 2000: a leap year
    except ValueError:
        return None
    return _Day(fixed=probe) if year is not None else _Day(month_day=(month, day))


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + (2000 if len(text) == 2 else 0)


def _day(text: str, words: _Words) -> _Day | None:
    """The day `text` names (without the time), or None."""
    for lead in words.before_date:
        if text.startswith(lead + " "):
            text = text[len(lead) + 1 :]
    if text in words.relative:
        return _Day(offset=words.relative[text])
    if found := _ISO_DATE.match(text):
        return _month_day(int(found["mo"]), int(found["d"]), int(found["y"]))
    if found := _NUMERIC_DATE.match(text):
        first, second = int(found["a"]), int(found["b"])
        day, month = (first, second) if words.day_first else (second, first)
        return _month_day(month, day, _year(found["y"]))
    tokens = text.split()
    if tokens and tokens[0] in words.weekdays:
        weekday, rest = words.weekdays[tokens[0]], tokens[1:]
        if not rest or (len(rest) == 1 and rest[0] in words.next_words):
            return _Day(weekday=weekday)
        text = " ".join(rest)  # "jeudi 3 décembre": the date decides
    elif len(tokens) == 2 and tokens[0] in words.next_words and tokens[1] in words.weekdays:
        return _Day(weekday=words.weekdays[tokens[1]])
    months = "|".join(sorted(map(re.escape, words.months), key=len, reverse=True))
    day_month = rf"^(?P<d>\d{{1,2}}){_ORDINAL}(?: of)? (?P<mo>{months})(?: (?P<y>\d{{4}}))?$"
    month_day = rf"^(?P<mo>{months}) (?P<d>\d{{1,2}}){_ORDINAL}(?: (?P<y>\d{{4}}))?$"
    for form in (day_month, month_day):
        if found := re.match(form, text):
            return _month_day(words.months[found["mo"]], int(found["d"]), _year(found["y"]))
    return None


def _at(day: date, at: time, zone: tzinfo) -> datetime:
    """That wall-clock time in `zone`; a time skipped by summer time reads as the hour after."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


def _resolve(day: _Day | None, at: time, now: datetime, zone: tzinfo) -> datetime | None:
    today = now.astimezone(zone).date()
    if day is None:  # a time alone: the next such time
        moment = _at(today, at, zone)
        return moment if moment > now else _at(today + timedelta(days=1), at, zone)
    if day.fixed is not None:
        return _at(day.fixed, at, zone)
    if day.offset is not None:
        return _at(today + timedelta(days=day.offset), at, zone)
    if day.weekday is not None:
        ahead = (day.weekday - today.weekday()) % 7
        moment = _at(today + timedelta(days=ahead), at, zone)
        return moment if moment > now else _at(today + timedelta(days=ahead or 7), at, zone)
    assert day.month_day is not None
    month, number = day.month_day
    for year in range(today.year, today.year + 9):  # the 29th of February comes back
        try:
            candidate = date(year, month, number)
        except ValueError:
            continue
        if candidate >= today:
            return _at(candidate, at, zone)
    return None


def _date_and_time(text: str, words: _Words, now: datetime, zone: tzinfo) -> datetime | None:
    tokens = text.split()
    for cut in range(len(tokens) + 1):
        head, tail = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        for day_text, time_text in ((head, tail), (tail, head)):
            for link in words.before_time:
                if day_text.endswith(" " + link):
                    day_text = day_text[: -len(link) - 1]
                if time_text.startswith(link + " "):
                    time_text = time_text[len(link) + 1 :]
            at = _time(time_text, words)
            if at is None:
                continue
            day = _day(day_text, words) if day_text else None
            if day_text and day is None:
                continue
            return _resolve(day, at, now, zone)
    return None


def _delay(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    lead = _DELAY_LEAD.match(text)
    if lead is None:
        return None
    rest = lead["rest"]
    amounts = {"minutes": 0, "hours": 0, "days": 0, "weeks": 0}
    if found := _HOURS_MINUTES.match(rest):
        amounts["hours"], amounts["minutes"] = int(found["h"]), int(found["m"])
    else:
        rest = " ".join(word for word in rest.split() if word not in _LINKS)
        position = 0
        for found in _AMOUNT.finditer(rest):
            unit = _UNITS.get(found["unit"])
            if found.start() != position or unit is None:
                return None
            amounts[unit] += int(found["n"]) if found["n"] else 1
            position = found.end() + (1 if rest[found.end() : found.end() + 1] == " " else 0)
        if position < len(rest) or position == 0:
            return None
    if not any(amounts.values()):
        return None
    try:
        local = now.astimezone(zone)
        days = timedelta(days=amounts["days"] + 7 * amounts["weeks"])
        moved = _at(local.date() + days, local.time(), zone) if days else now
        later = timedelta(hours=amounts["hours"], minutes=amounts["minutes"])
        return (moved.astimezone(UTC) + later).astimezone(zone)  # real time, not the clock's
    except OverflowError:
        return None


def read_time(text: str) -> time | None:
    """A time of day alone ("17h30", "17 h 30", "17h", "17:30", "5:30pm", "midi"), or None."""
    folded = _SPACED_HOUR.sub(lambda found: f"{found['h']}h{found['m'] or ''}", _fold(text))
    for language in _OWN_WORDS:
        at = _time(folded, _words(language))
        if at is not None:
            return at
    return None


def parse_when(text: str, *, language: str, now: datetime, zone: tzinfo) -> datetime | None:
    """The moment `text` names (timezone-aware, in `zone`), or None when it names none. It
    may be past (a date with its year, "today 9:00" in the afternoon): the caller decides."""
    folded = _SPACED_HOUR.sub(lambda found: f"{found['h']}h{found['m'] or ''}", _fold(text))
    if not folded or len(folded) > 64:
        return None
    moment = _delay(folded, now, zone)
    if moment is not None:
        return moment
    languages = [language, *(other for other in _OWN_WORDS if other != language)]
    for reading in languages:
        moment = _date_and_time(folded, _words(reading), now, zone)
        if moment is not None:
            return moment
    return None


def split_when(
    words: Sequence[str], *, language: str, now: datetime, zone: tzinfo, longest: int = 6
) -> tuple[datetime, list[str]] | None:
    """The moment named by the first words (the longest run of up to `longest` words that
    reads as one), and the words after it; None when no first words name a moment. « 17 h
    15 personnes » reads 17:15 (French writes minutes so): the preview shows what was read."""
    for size in range(min(longest, len(words)), 0, -1):
        moment = parse_when(" ".join(words[:size]), language=language, now=now, zone=zone)
        if moment is not None:
            return moment, list(words[size:])
    return None
