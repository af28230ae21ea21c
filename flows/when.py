"""Reading a time typed by a person: a date and time ("3/12 9:00", "2026-12-03 09:00",
"3 décembre 9h") or a delay ("in 2 days", "dans 2 jours", "+3h"), in their language and
time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo


def parse_when(text: str, *, language: str, now: datetime, zone: tzinfo) -> datetime | None:
    """The moment `text` names (timezone-aware), or None when it names none."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def split_when(
    words: Sequence[str], *, language: str, now: datetime, zone: tzinfo, longest: int = 4
) -> tuple[datetime, list[str]] | None:
    """The moment named by the first words (the longest run of up to `longest` words that
    reads as one), and the words after it; None when no first words name a moment."""
    for size in range(min(longest, len(words)), 0, -1):
        moment = parse_when(" ".join(words[:size]), language=language, now=now, zone=zone)
        if moment is not None:
            return moment, list(words[size:])
    return None
