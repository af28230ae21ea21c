"""A session as a calendar file (`.ics`), for a participant's calendar app.

Built with `icalendar`: one VEVENT whose UID stays the same for a session (an invitation
sent again updates the event instead of adding a second one), its start in the
workshop's own time zone with that zone's VTIMEZONE, so that the calendar shows it at
the right hour wherever the reader is.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from storage.models import Session, Workshop

# A session with no end given lasts this long in the calendar.
DEFAULT_DURATION = timedelta(hours=2)
PRODUCT = "-//coopbot//sessions//EN"


def session_uid(session: Session, domain: str) -> str:
    """The event's identifier: one per session, the same every time it is sent."""
    return f"coopbot-session-{session.id}-workshop-{session.workshop_id}@{domain}"


def session_ics(
    session: Session,
    workshop: Workshop,
    *,
    zone: tzinfo,
    summary: str,
    domain: str,
    now: datetime,
) -> bytes:
    """The `.ics` file of one session: `summary` as its title (the caller's words, in the
    reader's language), the place as its location, the workshop's territory in its
    description."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", session_uid(session, domain))
    event.add("dtstamp", now.astimezone(ZoneInfo("UTC")))
    event.add("summary", summary)
    starts = session.starts_at.astimezone(zone)
    ends = (session.ends_at or session.starts_at + DEFAULT_DURATION).astimezone(zone)
    event.add("dtstart", starts)
    event.add("dtend", ends)
    if session.place:
        event.add("location", session.place)
    if workshop.territory:
        event.add("description", workshop.territory)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
