"""Organisers manage their workshops: the questions after /newsession, /workshops and its
buttons, /close, /revoke, co-organisers, /timezone; and every refusal."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from reports.text import translator
from storage.db import utc_now
from tests import stored
from tests.conftest import ORGANISER_ID, START_LINK, facilitator_code, join_code
from tests.helpers import onboard
from tgemu import BotApiEmulator, EmulatedUser

PARIS = ZoneInfo("Europe/Paris")


def row(database: Path, sql: str, *params: Any) -> sqlite3.Row | None:
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchone()


def rows(database: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def workshop_row(database: Path, code: str) -> sqlite3.Row:
    found = row(database, "SELECT * FROM workshops WHERE code = ?", code)
    assert found is not None
    return found


def in_days(days: int, hour: int = 10) -> str:
    """A moment to come, as an organiser types it."""
    day = (utc_now().astimezone(PARIS) + timedelta(days=days)).date()
    return f"{day.isoformat()} {hour:02d}:00"


async def new_workshop(emulator: BotApiEmulator, title: str, language: str = "en") -> str:
    """A workshop created by the organiser, its questions left unanswered; its join code."""
    organiser = emulator.user(ORGANISER_ID, language_code=language)
    await organiser.send(f"/newsession {title}")
    await emulator.wait_idle()
    return join_code(organiser)


async def say(emulator: BotApiEmulator, user: EmulatedUser, text: str) -> str:
    await user.send(text)
    await emulator.wait_idle()
    return user.last.text or ""


async def test_newsession_asks_the_date_the_place_and_the_territory(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    organiser = emulator.user(ORGANISER_ID, language_code="en")
    await organiser.send("/newsession Valley workshop")
    await emulator.wait_idle()
    code, facilitator = join_code(organiser), facilitator_code(organiser)
    assert code != facilitator  # the two link messages are as before
    assert "When is the first session" in (organiser.last.text or "")
    assert organiser.last.buttons == [[("⏭ Skip", "org:skip:1:when")]]

    assert "could not read" in await say(emulator, organiser, "someday soon")
    assert "2026-12-03 09:00" in (organiser.last.text or "")  # the examples are shown
    assert "passed" in await say(emulator, organiser, "2001-01-01 10:00")
    assert "Where does it take place" in await say(emulator, organiser, in_days(5))
    await organiser.send("Town hall <b> & co")
    await emulator.wait_idle()
    added = organiser.messages[-2].text or ""
    assert "Session 1:" in added and "Town hall <b> & co" in added
    assert "Which territory" in (organiser.last.text or "")
    await organiser.press("⏭ Skip")
    await emulator.wait_idle()
    assert "After how many days" in (organiser.last.text or "")
    assert "number of days" in await say(emulator, organiser, "soon")
    assert "91" not in await say(emulator, organiser, "91")  # refused, the question stays
    await organiser.send("14 days")
    await emulator.wait_idle()
    ready = organiser.last.text or ""
    assert "is ready" in ready and "14 days after they finish" in ready
    assert f"/decantation {code} <days>" in ready

    database = settings.database
    workshop = workshop_row(database, code)
    assert workshop["territory"] is None
    assert workshop["decantation_seconds"] == 14 * 86400
    session = row(database, "SELECT * FROM sessions WHERE workshop_id = ?", workshop["id"])
    assert session is not None and session["place"] == "Town hall <b> & co"
    mailings = rows(
        database,
        "SELECT kind, offset_rule, status, expires_at FROM mailings WHERE session_id IS NOT NULL",
    )
    assert sorted((m["kind"], m["offset_rule"]) for m in mailings) == [
        ("invitation", None),
        ("session_reminder", "eve_18"),
        ("session_reminder", "hour_before"),
    ]
    assert {m["status"] for m in mailings} == {"open"}
    assert {m["expires_at"] for m in mailings} == {session["starts_at"]}
    # Answered: the next message is no longer taken as an answer.
    await say(emulator, organiser, "Haute vallée")
    assert workshop_row(database, code)["territory"] is None


async def test_the_territory_is_asked_after_a_skipped_date_and_stored(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    organiser = emulator.user(ORGANISER_ID, language_code="en")
    await organiser.send("/newsession Atelier")
    await emulator.wait_idle()
    await organiser.press("⏭ Skip")
    await emulator.wait_idle()
    assert "Which territory" in (organiser.last.text or "")
    await say(emulator, organiser, "Haute <vallée>")
    assert "After how many days" in (organiser.last.text or "")
    await organiser.press("⏭ Skip")
    await emulator.wait_idle()
    assert "10 days after they finish" in (organiser.last.text or "")  # the default kept
    code = join_code(organiser)
    assert workshop_row(settings.database, code)["territory"] == "Haute <vallée>"
    assert workshop_row(settings.database, code)["decantation_seconds"] == 10 * 86400
    assert rows(settings.database, "SELECT * FROM sessions") == []
    # The same skip button pressed again changes nothing.
    await organiser.press_data("org:skip:1:when")
    await emulator.wait_idle()
    assert rows(settings.database, "SELECT * FROM sessions") == []


async def test_workshops_lists_counts_and_resends_the_link(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await new_workshop(emulator, "First one")
    organiser = emulator.user(ORGANISER_ID)
    for user_id in (7001, 7002):
        participant = emulator.user(user_id, language_code="fr")
        await onboard(
            emulator, participant, code, category=journey.categories[0].label["fr"], language="fr"
        )
    await say(emulator, organiser, f"/session {code} {in_days(3)} Room 2")
    second = await new_workshop(emulator, "Second one")
    await say(emulator, organiser, f"/close {second}")

    await organiser.send("/workshops")
    await emulator.wait_idle()
    newest, oldest = organiser.messages[-2], organiser.messages[-1]
    assert "Second one" in (newest.text or "") and "closed" in (newest.text or "")
    assert "0 joined, 0 finished" in (newest.text or "")
    text = oldest.text or ""
    assert "First one" in text and code in text and "2 joined, 0 finished" in text
    assert "Next: Session 1:" in text and "Room 2" in text
    labels = [label for line in oldest.buttons for label, _ in line]
    assert labels == ["🔗 Join link", "📅 Sessions", "🔑 New facilitator link", "🔒 Close"]
    assert [label for line in newest.buttons for label, _ in line] == [
        "🔗 Join link",
        "📅 Sessions",
    ]

    photos = len([m for m in organiser.messages if m.kind == "photo"])
    await organiser.press("🔗 Join link", message=oldest)
    await emulator.wait_idle()
    assert organiser.messages[-1].kind == "photo"
    assert len([m for m in organiser.messages if m.kind == "photo"]) == photos + 1
    assert START_LINK.findall(organiser.messages[-2].text or "") == [code]
    await organiser.press("📅 Sessions", message=oldest)
    await emulator.wait_idle()
    assert "Session 1:" in (organiser.last.text or "") and "Room 2" in (organiser.last.text or "")


async def test_a_closed_workshop_refuses_answers_and_joins(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await new_workshop(emulator, "To close")
    organiser = emulator.user(ORGANISER_ID)
    participant = emulator.user(7101, language_code="en")
    await onboard(
        emulator, participant, code, category=journey.categories[0].label["en"], language="en"
    )
    question = participant.last
    await organiser.send("/workshops")
    await emulator.wait_idle()
    listed = organiser.last
    await organiser.press("🔒 Close", message=listed)
    await emulator.wait_idle()
    await organiser.press("Keep it open")
    await emulator.wait_idle()
    assert workshop_row(settings.database, code)["closed_at"] is None
    await organiser.press("🔒 Close")
    await emulator.wait_idle()
    await organiser.press("🔒 Yes, close it")
    await emulator.wait_idle()
    assert "is closed" in (organiser.last.text or "")
    assert workshop_row(settings.database, code)["closed_at"] is not None

    await participant.press(question.buttons[0][0][0], message=question)
    await emulator.wait_idle()
    assert "is closed: it takes no more answers" in (participant.last.text or "")
    await participant.send("A reflection that comes too late")
    await emulator.wait_idle()
    assert "is closed: it takes no more answers" in (participant.last.text or "")
    assert rows(settings.database, "SELECT * FROM answers") == []
    late = emulator.user(7102, language_code="en")
    assert "is closed" in await say(emulator, late, f"/start {code}")
    assert "already closed" in await say(emulator, organiser, f"/close {code}")


async def test_revoke_issues_a_new_facilitator_link_and_the_old_one_stops(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    code = await new_workshop(emulator, "Revoked")
    organiser = emulator.user(ORGANISER_ID)
    old = facilitator_code(organiser)
    revoking = await organiser.send(f"/revoke {code}")
    await emulator.wait_idle()
    assert "New facilitator link" in (organiser.last.text or "")
    new = START_LINK.findall(organiser.last.text or "")[0]
    assert new != old and workshop_row(settings.database, code)["facilitator_code"] == new
    latecomer = emulator.user(7201, language_code="en")
    assert "does not open any workshop" in await say(emulator, latecomer, f"/start {old}")
    assert "does not open any workshop" in await say(emulator, organiser, f"/close {old}")
    assert "You are now a facilitator" in await say(emulator, latecomer, f"/start {new}")
    # A redelivered /revoke issues nothing more.
    emulator.redeliver(revoking)
    await emulator.wait_idle()
    assert workshop_row(settings.database, code)["facilitator_code"] == new
    # From /workshops too: again a new one, once however often the button is tapped.
    await organiser.send("/workshops")
    await emulator.wait_idle()
    listing = organiser.last
    await organiser.press("🔑 New facilitator link", message=listing)
    await emulator.wait_idle()
    newer = START_LINK.findall(organiser.last.text or "")[0]
    assert newer not in (old, new)
    await organiser.press("🔑 New facilitator link", message=listing)  # the old buttons
    await emulator.wait_idle()
    assert START_LINK.findall(organiser.last.text or "")[0] == newer  # the same link again
    assert workshop_row(settings.database, code)["facilitator_code"] == newer
    # The listing's buttons now replace the newer code: pressed, they issue another.
    refreshed = next(m for m in organiser.messages if m.message_id == listing.message_id)
    await organiser.press("🔑 New facilitator link", message=refreshed)
    await emulator.wait_idle()
    assert workshop_row(settings.database, code)["facilitator_code"] not in (old, new, newer)


async def test_a_co_organiser_manages_the_workshop_and_cannot_add_others(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    code = await new_workshop(emulator, "Shared")
    organiser = emulator.user(ORGANISER_ID)
    helper = emulator.user(7301, language_code="en")
    await say(emulator, helper, "/start")
    assert "Only the organisers of that workshop" in await say(emulator, helper, f"/close {code}")
    assert "Telegram id" in await say(emulator, organiser, f"/coorganiser {code} someone")
    too_big = "99999999999999999999"  # no Telegram id, and more than SQLite's integers
    assert "Telegram id" in await say(emulator, organiser, f"/coorganiser {code} {too_big}")
    await say(emulator, organiser, f"/coorganiser {code} 7301")
    assert "now co-organises" in (organiser.last.text or "")
    # Told unasked, so in the default language (French): they never chose one.
    told = translator("fr")("You now co-organise «{title}». /workshops shows it.").split("«")[0]
    assert told.strip() and told.strip() in (helper.last.text or "")
    assert "already organises" in await say(emulator, organiser, f"/coorganiser {code} 7301")

    await helper.send("/workshops")
    await emulator.wait_idle()
    assert "Shared" in (helper.last.text or "")
    assert "Session 1:" in await say(emulator, helper, f"/session {code} {in_days(4)}")
    assert "📊 Shared" in await say(emulator, helper, f"/progress {code}")  # a facilitator
    refused = await say(emulator, helper, f"/coorganiser {code} 7302")
    assert "named in the bot's settings" in refused
    assert row(settings.database, "SELECT * FROM organisers WHERE user_id = 7302") is None
    await say(emulator, helper, f"/close {code}")
    assert workshop_row(settings.database, code)["closed_at"] is not None


async def test_every_refusal(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    code = await new_workshop(emulator, "Mine")
    other = await new_workshop(emulator, "Another")
    organiser = emulator.user(ORGANISER_ID)
    facilitator_link = facilitator_code(organiser)  # of "Another"
    facilitator = emulator.user(7401, language_code="en")
    await say(emulator, facilitator, f"/start {facilitator_link}")
    participant = emulator.user(7402, language_code="en")
    await onboard(
        emulator, participant, code, category=journey.categories[0].label["en"], language="en"
    )
    before = workshop_row(database, code)
    refusal = "Only the organisers of that workshop"
    for user in (facilitator, participant):
        assert refusal in await say(emulator, user, f"/close {code}")
        assert refusal in await say(emulator, user, f"/revoke {code}")
        assert refusal in await say(emulator, user, f"/session {code} {in_days(2)}")
        assert refusal in await say(emulator, user, f"/session {code} territory Ici")
        assert refusal in await say(emulator, user, f"/coorganiser {code} {user.id}")
        await user.press_data(f"org:closeyes:{before['id']}")
        await emulator.wait_idle()
        assert refusal in (user.last.text or "")
        await user.press_data(f"org:link:{before['id']}")
        await emulator.wait_idle()
        assert refusal in (user.last.text or "")
        assert "Only organisers" in await say(emulator, user, "/workshops")
    # The facilitator of "Another" is no organiser of it either.
    assert refusal in await say(emulator, facilitator, f"/close {other}")
    assert "does not open any workshop" in await say(emulator, organiser, "/close NoSuchCode123")
    after = workshop_row(database, code)
    assert dict(after) == dict(before)
    assert rows(database, "SELECT * FROM sessions") == []
    assert row(database, "SELECT * FROM organisers WHERE user_id IN (7401, 7402)") is None

    # Bad input changes nothing either, and says how to write it.
    assert "To add a session" in await say(emulator, organiser, "/session")
    assert "could not read" in await say(emulator, organiser, f"/session {code} whenever")
    assert "passed" in await say(emulator, organiser, f"/session {code} 2001-01-01 10:00")
    long = "x" * 201
    assert "201" in await say(emulator, organiser, f"/session {code} territory {long}")
    assert "not a time zone" in await say(emulator, organiser, f"/session {code} timezone Mars/X")
    await say(emulator, organiser, f"/close {code}")
    assert "is closed" in await say(emulator, organiser, f"/session {code} {in_days(2)}")
    assert rows(database, "SELECT * FROM sessions") == []


async def test_each_person_chooses_a_time_zone_and_dates_follow_it(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    code = await new_workshop(emulator, "Zones")
    organiser = emulator.user(ORGANISER_ID)
    await say(emulator, organiser, f"/session {code} {in_days(6)}")
    await organiser.send("/timezone")
    await emulator.wait_idle()
    assert "Europe/Paris" in (organiser.last.text or "")
    assert len([b for line in organiser.last.buttons for b in line]) == 8
    await organiser.press("America/Martinique")
    await emulator.wait_idle()
    stored = row(settings.database, "SELECT timezone FROM users WHERE user_id = ?", 500)
    assert stored is not None and stored["timezone"] == "America/Martinique"
    await organiser.send("/workshops")
    await emulator.wait_idle()
    assert "5:00\u202fAM" in (organiser.last.text or "")  # 10:00 in Paris
    assert "Martinique" in (organiser.last.text or "")
    assert "now Europe/Brussels" in await say(emulator, organiser, "/timezone europe/brussels")
    assert "not a time zone" in await say(emulator, organiser, "/timezone Mars/Olympus")
    stored = row(settings.database, "SELECT timezone FROM users WHERE user_id = ?", 500)
    assert stored is not None and stored["timezone"] == "Europe/Brussels"


async def test_a_redelivered_session_command_adds_one_session(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    code = await new_workshop(emulator, "Once")
    organiser = emulator.user(ORGANISER_ID)
    update_id = await organiser.send(f"/session {code} {in_days(8)} Hall")
    await emulator.wait_idle()
    emulator.redeliver(update_id)
    await emulator.wait_idle()
    assert len(rows(settings.database, "SELECT * FROM sessions")) == 1
    assert len(rows(settings.database, "SELECT * FROM mailings WHERE session_id = 1")) == 3
