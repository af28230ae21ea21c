"""A session's calendar file: valid iCalendar, read back with the same library, its start
in the workshop's time zone with that zone's definition, one UID per session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from reports.calendar import DEFAULT_DURATION, session_ics
from storage.models import Session, Workshop

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MARTINIQUE = ZoneInfo("America/Martinique")


def workshop(territory: str | None = "Nord Caraïbe") -> Workshop:
    return Workshop(
        id=7,
        code="Ab12Cd34Ef56Gh78",
        facilitator_code="Zz12Yy34Xx56Ww78",
        title="Atelier",
        journey_id="cooperation",
        created_by=500,
        created_at=NOW,
        closed_at=None,
        territory=territory,
        timezone="America/Martinique",
    )


def session(number: int = 1, *, place: str | None = "Salle des fêtes, Le Prêcheur") -> Session:
    return Session(
        id=40 + number,
        workshop_id=7,
        number=number,
        starts_at=datetime(2026, 12, 3, 10, 0, tzinfo=MARTINIQUE).astimezone(UTC),
        ends_at=None,
        place=place,
        created_by=500,
        created_at=NOW,
    )


def read(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def test_the_event_starts_in_the_workshops_zone_with_its_definition() -> None:
    data = session_ics(
        session(), workshop(), zone=MARTINIQUE, summary="Atelier (séance 1)", domain="test", now=NOW
    )
    calendar = read(data)
    event = calendar.walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start.tzinfo is not None and str(start.tzinfo) == "America/Martinique"
    assert (start.hour, start.minute) == (10, 0)
    assert event.decoded("dtend") - start == DEFAULT_DURATION == timedelta(hours=2)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Martinique"]
    assert b"DTSTART;TZID=America/Martinique:20261203T100000" in data
    assert str(event["summary"]) == "Atelier (séance 1)"
    assert str(event["location"]) == "Salle des fêtes, Le Prêcheur"
    assert str(event["description"]) == "Nord Caraïbe"


def test_one_uid_per_session_the_same_every_time() -> None:
    first = read(
        session_ics(session(1), workshop(), zone=MARTINIQUE, summary="a", domain="t", now=NOW)
    )
    again = read(
        session_ics(
            session(1),
            workshop(),
            zone=MARTINIQUE,
            summary="b",
            domain="t",
            now=NOW + timedelta(days=1),
        )
    )
    other = read(
        session_ics(session(2), workshop(), zone=MARTINIQUE, summary="a", domain="t", now=NOW)
    )
    uid = lambda c: str(c.walk("VEVENT")[0]["uid"])  # noqa: E731
    assert uid(first) == uid(again) != uid(other)


def test_without_place_or_territory_nothing_empty_is_written() -> None:
    data = session_ics(
        session(place=None),
        workshop(territory=None),
        zone=MARTINIQUE,
        summary="x",
        domain="t",
        now=NOW,
    )
    event = read(data).walk("VEVENT")[0]
    assert "location" not in event and "description" not in event
