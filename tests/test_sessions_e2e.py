"""A session's invitation carries a valid calendar file in the workshop's time zone, reaches
those who join later too, and its automatic reminders (the eve at 18:00, the hour
before) fire once each, in each person's language: time is injected, not waited for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from telegram.ext import Application

from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings
from flows.journey import Journey
from reports.text import translator
from storage.db import utc_now
from tests.conftest import ORGANISER_ID, join_code
from tests.helpers import onboard
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import SentMessage

PARIS = ZoneInfo("Europe/Paris")


async def until(check: Callable[[], bool]) -> None:
    """Wait for the outbox (its sweep runs every few seconds) to have done something."""
    for _ in range(75):  # 15 s at most
        if check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the outbox did not send it in time")


def documents(user: EmulatedUser) -> list[SentMessage]:
    return [m for m in user.messages if m.kind == "document"]


EVE = "📅 Tomorrow at {time}: session {number} of «{title}»."
HOUR_BEFORE = "⏰ In one hour, at {time}: session {number} of «{title}»."


def lead(msgid: str, user: EmulatedUser) -> str:
    """The words a translated reminder starts with, in the user's language."""
    return translator(user.language_code or "fr")(msgid).split("{time}")[0].strip()


def containing(user: EmulatedUser, *words: str) -> list[SentMessage]:
    return [m for m in user.messages if m.text and all(w in m.text for w in words)]


def set_clock(application: Application, moment: datetime) -> None:
    state: Runtime = application.bot_data[RUNTIME_KEY]
    state.clock = lambda: moment


async def test_invitation_with_a_calendar_file_and_reminders_once_each(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    day: date = (utc_now().astimezone(PARIS) + timedelta(days=10)).date()
    eve = day - timedelta(days=1)
    set_clock(bot, datetime.combine(eve, time(17, 59, 58), tzinfo=PARIS))

    organiser = emulator.user(ORGANISER_ID, language_code="en")
    await organiser.send("/newsession Valley workshop")
    await emulator.wait_idle()
    code = join_code(organiser)
    await organiser.send("/cancel")  # the questions after /newsession are left unanswered
    camille = emulator.user(7501, language_code="fr")
    alex = emulator.user(7502, language_code="en")
    for user, language in ((camille, "fr"), (alex, "en")):
        category = journey.categories[0].label[language]
        await onboard(emulator, user, code, category=category, language=language)

    await organiser.send(f"/session {code} {day.isoformat()} 10:00 Salle des fêtes")
    await emulator.wait_idle()
    assert "Session 1:" in (organiser.last.text or "")
    await until(lambda: all(documents(u) for u in (camille, alex)))

    for user in (camille, alex):
        (invitation,) = documents(user)
        assert invitation.file_name == "session-1.ics"
        event = Calendar.from_ical(invitation.file_bytes or b"").walk("VEVENT")[0]
        start = event.decoded("dtstart")
        assert str(start.tzinfo) == "Europe/Paris" and start == datetime.combine(
            day, time(10, 0), tzinfo=PARIS
        )
        assert str(event["location"]) == "Salle des fêtes"
        assert "Salle des fêtes" in (invitation.caption or "")
    assert "à 10h (heure de Paris)" in (camille.messages[-1].caption or "")  # in French...
    assert "10:00\u202fAM" in (alex.messages[-1].caption or "")  # ... and in English

    # Someone who joins after the invitation went gets it too.
    late = emulator.user(7503, language_code="en")
    await onboard(emulator, late, code, category=journey.categories[1].label["en"], language="en")
    await until(lambda: bool(documents(late)))
    people = (camille, alex, late)

    # The eve at 18:00, each person once, in their language.
    def eve_of(user: EmulatedUser) -> list[SentMessage]:
        return containing(user, lead(EVE, user))

    def hour_before(user: EmulatedUser) -> list[SentMessage]:
        return containing(user, lead(HOUR_BEFORE, user))

    assert not any(eve_of(u) for u in people)
    set_clock(bot, datetime.combine(eve, time(18, 0, 1), tzinfo=PARIS))
    await until(lambda: all(eve_of(u) for u in people))
    assert "Salle des fêtes" in (eve_of(alex)[0].text or "")
    assert "10:00\u202fAM" in (eve_of(alex)[0].text or "")
    assert "10h" in (eve_of(camille)[0].text or "") and "10:00" not in (
        eve_of(camille)[0].text or ""
    )
    assert "Demain" in (eve_of(camille)[0].text or "")

    # One hour before, each person once.
    assert not any(hour_before(u) for u in people)
    set_clock(bot, datetime.combine(day, time(9, 0, 1), tzinfo=PARIS))
    await until(lambda: all(hour_before(u) for u in people))
    await asyncio.sleep(6)  # past another sweep: nothing comes twice
    await emulator.wait_idle()
    for user in people:
        assert len(documents(user)) == 1
        assert len(eve_of(user)) == 1
        assert len(hour_before(user)) == 1
