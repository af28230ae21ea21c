"""Reading typed times (flows/when.py): dates, times and delays in French and English, in
the sender's time zone, with `now` injected."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.when import parse_when, read_time, split_when

PARIS = ZoneInfo("Europe/Paris")
# A Saturday afternoon, the day before summer time begins (29 March 2026, 02:00 → 03:00).
NOW = datetime(2026, 3, 28, 15, 0, tzinfo=PARIS)


def read(text: str, language: str = "fr", now: datetime = NOW) -> datetime | None:
    return parse_when(text, language=language, now=now, zone=PARIS)


def elapsed(moment: datetime) -> timedelta:
    """Real time from NOW (subtracting two datetimes of one zone would count wall-clock time)."""
    return moment.astimezone(UTC) - NOW.astimezone(UTC)


def paris(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PARIS)  # type: ignore[arg-type,misc]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("3/12 9:00", "fr", paris(2026, 12, 3, 9, 0)),
        ("3/12 9h", "fr", paris(2026, 12, 3, 9, 0)),
        ("3/12/2026 9h30", "fr", paris(2026, 12, 3, 9, 30)),
        ("2026-12-03 09:00", "fr", paris(2026, 12, 3, 9, 0)),
        ("2026-12-03 09:00", "en", paris(2026, 12, 3, 9, 0)),
        ("2026-12-03T09:00", "en", paris(2026, 12, 3, 9, 0)),
        ("3 décembre 9h", "fr", paris(2026, 12, 3, 9, 0)),
        ("3 decembre 9h", "fr", paris(2026, 12, 3, 9, 0)),
        ("le 3 déc. à 9h", "fr", paris(2026, 12, 3, 9, 0)),
        ("jeudi 3 décembre 2026 à 18h30", "fr", paris(2026, 12, 3, 18, 30)),
        ("1er avril 10h", "fr", paris(2026, 4, 1, 10, 0)),
        ("3 December 9:00", "en", paris(2026, 12, 3, 9, 0)),
        ("December 3 9am", "en", paris(2026, 12, 3, 9, 0)),
        ("Dec 3rd at 9:30pm", "en", paris(2026, 12, 3, 21, 30)),
        # Numeric dates in the language's order: month first in English.
        ("12/3 9:00", "en", paris(2026, 12, 3, 9, 0)),
        ("demain 9h", "fr", paris(2026, 3, 29, 9, 0)),
        ("9h demain", "fr", paris(2026, 3, 29, 9, 0)),
        ("après-demain midi", "fr", paris(2026, 3, 30, 12, 0)),
        ("tomorrow 9:00", "en", paris(2026, 3, 29, 9, 0)),
        ("tomorrow at noon", "en", paris(2026, 3, 29, 12, 0)),
        ("lundi 9h", "fr", paris(2026, 3, 30, 9, 0)),
        ("next Monday 9am", "en", paris(2026, 3, 30, 9, 0)),
        # A time alone: the next such time.
        ("18h", "fr", paris(2026, 3, 28, 18, 0)),
        ("9:00", "en", paris(2026, 3, 29, 9, 0)),
    ],
)
def test_dates_and_times(text: str, language: str, expected: datetime) -> None:
    assert read(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("+3h", "fr", paris(2026, 3, 28, 18, 0)),
        ("+30min", "en", paris(2026, 3, 28, 15, 30)),
        ("+1h30", "fr", paris(2026, 3, 28, 16, 30)),
        ("in 3 hours", "en", paris(2026, 3, 28, 18, 0)),
        ("in an hour", "en", paris(2026, 3, 28, 16, 0)),
        ("dans 1 heure", "fr", paris(2026, 3, 28, 16, 0)),
        ("dans une heure", "fr", paris(2026, 3, 28, 16, 0)),
        ("dans 2 jours et 3 heures", "fr", paris(2026, 3, 30, 18, 0)),
        ("in 1 week", "en", paris(2026, 4, 4, 15, 0)),
    ],
)
def test_delays(text: str, language: str, expected: datetime) -> None:
    assert read(text, language) == expected


def test_days_keep_the_wall_clock_across_summer_time_and_hours_do_not() -> None:
    two_days = read("in 2 days", "en")
    assert two_days == paris(2026, 3, 30, 15, 0) == read("dans 2 jours")
    assert two_days is not None and elapsed(two_days) == timedelta(hours=47)
    day = read("+24h")
    assert day is not None and elapsed(day) == timedelta(hours=24)
    assert day.astimezone(PARIS).hour == 16  # one real day later, the clocks moved


def test_times_summer_time_skips_or_repeats() -> None:
    skipped = read("29/3 2h30")  # 02:00-03:00 does not exist that night
    assert skipped == paris(2026, 3, 29, 3, 30)
    assert skipped is not None and skipped.utcoffset() == timedelta(hours=2)
    repeated = read("25/10 2h30")  # 02:00-03:00 happens twice: the first one
    assert repeated is not None and repeated.utcoffset() == timedelta(hours=2)
    winter = read("3/12 9h")
    assert winter is not None and winter.utcoffset() == timedelta(hours=1)


def test_a_date_without_its_year_is_the_next_one() -> None:
    assert read("3 mars 9h") == paris(2027, 3, 3, 9, 0)  # passed this year
    assert read("March 3 9am", "en") == paris(2027, 3, 3, 9, 0)
    assert read("29/2 9h") == paris(2028, 2, 29, 9, 0)  # the next leap year
    # Today's date stays today: a time already passed reads as past, for the caller to refuse.
    past_today = read("28/3 9h")
    assert past_today == paris(2026, 3, 28, 9, 0) and past_today < NOW


def test_past_moments_are_read_as_such() -> None:
    assert read("2025-12-03 09:00") == paris(2025, 12, 3, 9, 0)
    today = read("aujourd'hui 9h")
    assert today is not None and today < NOW


@pytest.mark.parametrize(
    "text",
    [
        "",
        "banane",
        "hello world",
        "Réunion",
        "dans",
        "in 2",
        "+0h",
        "a",
        "march",
        "3/12",  # a date needs its time
        "demain",
        "9",
        "25h",
        "12:75",
        "13pm",
        "31/2 9h",
        "2026-13-01 09:00",
        "in 2 bananas",
        "+99999h",
        "3 décembre 9h 30 personnes",
        "x" * 200,
    ],
)
def test_garbage_reads_as_nothing(text: str) -> None:
    assert read(text) is None
    assert read(text, "en") is None


def test_the_sender_zone_decides() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    moment = parse_when("demain 9h", language="fr", now=NOW, zone=tokyo)
    # 15:00 in Paris is 23:00 in Tokyo: tomorrow there is the 29th.
    assert moment == datetime(2026, 3, 29, 9, 0, tzinfo=tokyo)


def split(text: str, language: str) -> tuple[datetime, list[str]] | None:
    return split_when(text.split(" "), language=language, now=NOW, zone=PARIS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17h30", paris(2026, 3, 28, 17, 30)),
        ("17 h 30", paris(2026, 3, 28, 17, 30)),
        ("17 H 30", paris(2026, 3, 28, 17, 30)),
        ("17h", paris(2026, 3, 28, 17, 0)),
        ("17 h", paris(2026, 3, 28, 17, 0)),
        ("9h05", paris(2026, 3, 29, 9, 5)),
        ("le 30/11/2026 à 17h30", paris(2026, 11, 30, 17, 30)),
        ("le 30/11/2026 à 17 h 30", paris(2026, 11, 30, 17, 30)),
        ("lundi 30 novembre 2026 à 17h", paris(2026, 11, 30, 17, 0)),
        ("demain à 9 h 05", paris(2026, 3, 29, 9, 5)),
        ("le 3 décembre 2026 à 17h30", paris(2026, 12, 3, 17, 30)),  # the example shown
        ("dans 2 h 30", paris(2026, 3, 28, 17, 30)),
    ],
)
def test_times_as_french_people_write_them(text: str, expected: datetime) -> None:
    assert read(text) == expected
    assert read(text, "en") == expected  # whatever the sender's language


@pytest.mark.parametrize("text", ["17 h 75", "24 h", "17 h 30 personnes", "17 heures 30"])
def test_spaced_french_times_that_name_no_time(text: str) -> None:
    assert read(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17h30", time(17, 30)),
        ("17 h 30", time(17, 30)),
        ("17h", time(17)),
        ("9h05", time(9, 5)),
        ("17:30", time(17, 30)),
        ("5:30pm", time(17, 30)),
        ("midi", time(12)),
    ],
)
def test_a_time_of_day_alone(text: str, expected: time) -> None:
    assert read_time(text) == expected


@pytest.mark.parametrize("text", ["", "17", "25h", "17h75", "demain 9h", "17 heures"])
def test_what_is_no_time_of_day(text: str) -> None:
    assert read_time(text) is None


def test_split_reads_a_spaced_french_time() -> None:
    found = split("30/11/2026 17 h 30 Salle B", "fr")
    assert found == (paris(2026, 11, 30, 17, 30), ["Salle", "B"])


def test_split_takes_the_longest_leading_time() -> None:
    found = split("le 3 décembre à 9h Apportez 3 stylos", "fr")
    assert found == (paris(2026, 12, 3, 9, 0), ["Apportez", "3", "stylos"])
    assert split("in 2 days bring pens", "en") == (paris(2026, 3, 30, 15, 0), ["bring", "pens"])
    assert split("Bring pens tomorrow 9am", "en") is None
    assert split_when([], language="en", now=NOW, zone=PARIS) is None
