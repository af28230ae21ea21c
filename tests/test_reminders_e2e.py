"""Reminders end to end (/remind, /reminders): on time, in each participant's language, to
their target only, once across a restart, never once cancelled, and after the quiet
hours; every refusal. Time is injected through `Runtime.clock`: a clock that runs from a
chosen moment, so that "two seconds ahead" is two real seconds."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.runtime import RUNTIME_KEY
from bot.settings import Settings
from flows.journey import Journey
from reports.text import number, translator
from storage.db import utc_now
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop, facilitator_code
from tests.helpers import answer_prompts, onboard
from tgemu import BotApiEmulator, EmulatedUser

PARIS = ZoneInfo("Europe/Paris")
FR, EN = translator("fr"), translator("en")
# A Monday in June, far enough ahead that the real clock never reaches it.
MORNING = datetime(2030, 6, 3, 10, 0, 0, tzinfo=PARIS)


class Clock:
    """The bot's "now": runs at the real pace from a moment the test chooses."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, moment: datetime) -> None:
        self.start, self.real = moment, utc_now()

    def __call__(self) -> datetime:
        return (self.start + (utc_now() - self.real)).astimezone(UTC)  # as utc_now


def use_clock(application: Application, clock: Clock) -> None:
    application.bot_data[RUNTIME_KEY].clock = clock


async def people(emulator: BotApiEmulator, journey: Journey, code: str) -> list[EmulatedUser]:
    """Camille (French), Alex (English), both in phase 1; Sam (English) past phase 1."""
    camille = emulator.user(4001, first_name="Camille", language_code="fr")
    alex = emulator.user(4002, first_name="Alex", language_code="en")
    sam = emulator.user(4003, first_name="Sam", language_code="en")
    for user, language in ((camille, "fr"), (alex, "en"), (sam, "en")):
        label = journey.categories[0].label[language]
        await onboard(emulator, user, code, category=label, language=language)
    await answer_prompts(emulator, sam, journey.live_prompts(), "en")
    return [camille, alex, sam]


def reminders_of(user: EmulatedUser, text: str) -> list[str]:
    return [m.text or "" for m in user.messages if text in (m.text or "")]


async def arrives(user: EmulatedUser, count: int, timeout: float = 8.0) -> None:  # noqa: ASYNC109
    await asyncio.wait_for(user.wait_for_messages(count), timeout)


async def remind(
    emulator: BotApiEmulator, organiser: EmulatedUser, command: str, target: str | None = None
) -> None:
    """Send /remind, choose a target (by its French label), press "Schedule"."""
    await organiser.send(command)
    await emulator.wait_idle()
    if target is not None:
        await organiser.press(FR(target))
        await emulator.wait_idle()
    await organiser.press("⏰ " + FR("Schedule"))
    await emulator.wait_idle()


def mailing_rows(database: Path) -> list[sqlite3.Row]:
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM mailings WHERE kind = 'reminder'").fetchall()


async def test_a_reminder_reaches_its_target_once_in_each_language(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    clock = Clock(MORNING + timedelta(seconds=57))
    use_clock(bot, clock)
    code = await create_workshop(emulator)
    camille, alex, sam = await people(emulator, journey, code)
    organiser = emulator.user(ORGANISER_ID)
    before = {user.id: len(user.messages) for user in (camille, alex, sam)}
    clock.set(MORNING + timedelta(seconds=58))  # two seconds ahead of 10:01

    await organiser.send(f"/remind {code} 3/6/2030 10:01 Apportez vos notes <b> & à demain")
    await emulator.wait_idle()
    preview = organiser.last.text or ""
    # Read in the sender's language (day first), shown by babel in French.
    assert "lundi 3 juin 2030 à 10h01" in preview  # as French people write it
    assert "Apportez vos notes <b> & à demain" in preview
    await organiser.press(FR("Not finished phase 1"))
    await emulator.wait_idle()
    assert "✅ " + FR("Not finished phase 1") in organiser.last.labels
    await organiser.press("⏰ " + FR("Schedule"))
    await emulator.wait_idle()

    await arrives(camille, before[camille.id] + 1)
    await arrives(alex, before[alex.id] + 1)
    await asyncio.sleep(1.5)  # the outbox ticks every second: nothing else comes
    await emulator.wait_idle()
    for user, gettext in ((camille, FR), (alex, EN)):
        got = reminders_of(user, "Apportez vos notes")
        assert len(got) == 1, got
        assert gettext("Reminder · {workshop}").format(workshop="Atelier de la vallée") in got[0]
        assert "Apportez vos notes <b> & à demain" in got[0]
        assert FR("Planned for {when}.").split("{")[0] not in got[0]  # on time: not late
    assert reminders_of(sam, "Apportez vos notes") == []  # past phase 1: not targeted
    assert len(sam.messages) == before[sam.id]
    report = organiser.last.text or ""
    done = FR("Done: {sent} of {total} sent.").format(sent=number(2, "fr"), total=number(2, "fr"))
    assert done in report


async def test_a_reminder_set_before_a_restart_arrives_once(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    async with bot_running(settings, emulator) as first:
        use_clock(first, Clock(MORNING))
        code = await create_workshop(emulator)
        camille, alex, _ = await people(emulator, journey, code)
        organiser = emulator.user(ORGANISER_ID)
        await remind(emulator, organiser, f"/remind {code} 3/6/2030 10:01 Réunion ce soir")
    counts = {user.id: len(user.messages) for user in (camille, alex)}
    assert [row["status"] for row in mailing_rows(settings.database)] == ["scheduled"]

    async with bot_running(settings, emulator) as second:
        use_clock(second, Clock(MORNING + timedelta(seconds=58)))
        await arrives(camille, counts[camille.id] + 1)
        await arrives(alex, counts[alex.id] + 1)
        await asyncio.sleep(1.5)
        await emulator.wait_idle()
    for user in (camille, alex):
        assert len(reminders_of(user, "Réunion ce soir")) == 1
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []


async def test_a_cancelled_reminder_never_arrives(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    clock = Clock(MORNING)
    use_clock(bot, clock)
    code = await create_workshop(emulator)
    camille, alex, sam = await people(emulator, journey, code)
    organiser = emulator.user(ORGANISER_ID)
    await remind(emulator, organiser, f"/remind {code} 3/6/2030 10:01 Annulé bientôt")
    await remind(emulator, organiser, f"/remind {code} 3/6/2030 11:00 Gardé")
    await organiser.send(f"/reminders {code}")
    await emulator.wait_idle()
    listing = organiser.last
    assert "Annulé bientôt" in (listing.text or "") and "Gardé" in (listing.text or "")
    assert "lundi 3 juin 2030" in (listing.text or "")
    await organiser.press("✖ " + FR("Cancel {number}").format(number=1))
    await emulator.wait_idle()
    edited = next(m for m in organiser.messages if m.message_id == listing.message_id)
    assert FR("cancelled") in (edited.text or "")
    assert edited.labels == ["✖ " + FR("Cancel {number}").format(number=2)]

    clock.set(MORNING + timedelta(minutes=5))  # well past its time
    await asyncio.sleep(2.5)
    await emulator.wait_idle()
    for user in (camille, alex, sam):
        assert reminders_of(user, "Annulé bientôt") == []
    statuses = sorted(row["status"] for row in mailing_rows(settings.database))
    assert statuses == ["cancelled", "scheduled"]


async def test_closing_the_workshop_cancels_its_reminders(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    clock = Clock(MORNING)
    use_clock(bot, clock)
    code = await create_workshop(emulator)
    camille, alex, sam = await people(emulator, journey, code)
    organiser = emulator.user(ORGANISER_ID)
    await remind(emulator, organiser, f"/remind {code} 3/6/2030 10:01 Après la fermeture")
    await organiser.send(f"/close {code}")
    await emulator.wait_idle()

    clock.set(MORNING + timedelta(minutes=5))  # well past its time
    await asyncio.sleep(2.5)
    await emulator.wait_idle()
    for user in (camille, alex, sam):
        assert reminders_of(user, "Après la fermeture") == []
    statuses = [row["status"] for row in mailing_rows(settings.database)]
    assert statuses == ["cancelled"]


async def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    evening = datetime(2030, 6, 3, 21, 59, 58, tzinfo=PARIS)
    clock = Clock(evening - timedelta(minutes=1))
    use_clock(bot, clock)
    code = await create_workshop(emulator)
    camille, alex, _ = await people(emulator, journey, code)
    organiser = emulator.user(ORGANISER_ID)
    before = len(camille.messages)
    clock.set(evening)
    await remind(emulator, organiser, f"/remind {code} 3/6/2030 22:00 Demain matin")
    await asyncio.sleep(4)  # due at 22:00, in the quiet hours (21:00-08:00)
    await emulator.wait_idle()
    assert reminders_of(camille, "Demain matin") == [] and len(camille.messages) == before

    clock.set(datetime(2030, 6, 4, 8, 0, 1, tzinfo=PARIS))
    await arrives(camille, before + 1)
    await asyncio.sleep(1.5)
    await emulator.wait_idle()
    got = reminders_of(camille, "Demain matin")
    assert len(got) == 1 and len(reminders_of(alex, "Demain matin")) == 1
    # Sent late: it says when it was planned, in French.
    assert "lundi 3 juin 2030" in got[0]


async def test_every_refusal_is_clear_and_changes_nothing(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    use_clock(bot, Clock(MORNING))
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    other_code = await create_workshop(emulator, "Autre atelier")
    outsider = emulator.user(4010, language_code="en")
    await outsider.send(f"/start {facilitator_code(organiser)}")  # facilitates the other one
    await emulator.wait_idle()
    camille = emulator.user(4001, language_code="fr")
    await onboard(
        emulator, camille, code, category=journey.categories[0].label["fr"], language="fr"
    )
    assert other_code != code

    async def refused(user: EmulatedUser, command: str, *expected: str) -> None:
        await user.send(command)
        await emulator.wait_idle()
        reply = user.last.text or ""
        for part in expected:
            assert part in reply, (command, part, reply)
        assert mailing_rows(settings.database) == []

    examples = FR(
        "/remind {code} tomorrow 9:00 Bring your notes.\n"
        "/remind {code} in 2 days Last call for phase 2!"
    ).format(code=code)
    await refused(
        organiser,
        f"/remind {code} banane Apportez vos notes",
        FR("I could not read when to send it (a date and time, or a delay) after the code."),
        examples,
    )
    await refused(
        organiser,
        f"/remind {code} 1/1/2030 9h Apportez vos notes",
        FR("That moment has passed: {when}. Choose a moment to come.").split("{")[0],
        "1er janvier 2030",  # the first of the month, as French writes it
        examples,
    )
    await refused(
        organiser, f"/remind {code} demain 9h", FR("The message is empty: write it after the code.")
    )
    long_text = "é" * 3501
    too_long = FR(
        "The message is {length} characters long; the limit is {limit}. Please shorten it."
    ).format(length=number(3501, "fr"), limit=number(3500, "fr"))
    await refused(organiser, f"/remind {code} demain 9h {long_text}", too_long)
    await refused(
        organiser,
        "/remind AAAAAAAAAAAAAAAA demain 9h Bonjour",
        FR("No workshop has the code {code}.").format(code="AAAAAAAAAAAAAAAA"),
    )
    not_allowed = "Only the organisers and facilitators of that workshop can do this."
    await refused(camille, f"/remind {code} demain 9h Bonjour", FR(not_allowed))
    await refused(outsider, f"/remind {code} tomorrow 9:00 Hello", EN(not_allowed))
    await refused(outsider, f"/reminders {code}", EN(not_allowed))
    await refused(camille, f"/reminders {code}", FR(not_allowed))
    await refused(organiser, "/reminders", FR("/reminders <code>"))

    with stored.connect(settings.database) as conn:
        conn.execute(
            "UPDATE workshops SET closed_at = '2030-06-01T00:00:00+00:00' WHERE code = ?", (code,)
        )
    closed = FR("This workshop is closed: nothing more is sent to its participants.")
    await refused(organiser, f"/remind {code} demain 9h Bonjour", closed)
    await refused(organiser, f"/reminders {code}", closed)


async def test_a_reminder_the_network_kept_from_someone_goes_again_later(
    tmp_path: Path, journey: Journey
) -> None:
    """Camille's chat fails three calls in a row (the network, past `bot.delivery`'s quick
    retries): her reminder is not lost but put back, and goes 30 s later; the others get
    theirs on time, and nobody gets two."""
    async with BotApiEmulator(max_hold=0.3) as emulator:
        settings = Settings(
            token=emulator.token,
            api_base_url=emulator.base_url,
            database=str(tmp_path / "coopbot.sqlite3"),
            organisers=frozenset({ORGANISER_ID}),
        )
        async with bot_running(settings, emulator) as bot:
            clock = Clock(MORNING)
            use_clock(bot, clock)
            code = await create_workshop(emulator)
            camille, alex, sam = await people(emulator, journey, code)
            organiser = emulator.user(ORGANISER_ID)
            emulator.time_out(camille.id, times=3)
            await remind(emulator, organiser, f"/remind {code} 3/6/2030 10:01 Coupure réseau")
            clock.set(MORNING + timedelta(minutes=1, seconds=1))
            await arrives(alex, 1 + len(alex.messages))
            await asyncio.sleep(4)  # the three calls held and closed, then put back
            await emulator.wait_idle()
            assert reminders_of(camille, "Coupure réseau") == []
            assert len(emulator.timed_out) == 3
            with stored.connect(settings.database) as conn:
                status, attempts = conn.execute(
                    "SELECT status, attempts FROM deliveries WHERE user_id = ?", (camille.id,)
                ).fetchone()
            assert (status, attempts) == ("pending", 1)

            clock.set(MORNING + timedelta(minutes=1, seconds=40))  # past the 30 s
            await asyncio.sleep(2.5)
            await emulator.wait_idle()
            for user in (camille, alex, sam):
                assert len(reminders_of(user, "Coupure réseau")) == 1
