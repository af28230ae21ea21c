"""/health for organisers: uptime, the database's size, the queues, the last fault (its
kind, where and when in the reader's time zone; never anyone's text). Others are refused."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.faults import Kind
from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings
from flows.journey import Journey
from reports.text import when_text
from storage.address import is_server_address
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop, stored_answers
from tests.helpers import onboard
from tests.test_reminders_e2e import MORNING, Clock, arrives, people, remind, use_clock
from tgemu import BotApiEmulator

PARTICIPANT = 3101


def on_disk(database: str) -> int:
    """The database file and its WAL and shared-memory files, in bytes; or the server's
    database."""
    if is_server_address(database):
        with stored.connect(database) as conn:
            return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    return sum(
        part.stat().st_size
        for part in (Path(database), Path(f"{database}-wal"), Path(f"{database}-shm"))
        if part.exists()
    )


async def test_an_organiser_reads_the_figures_and_the_last_fault(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    organiser = emulator.user(ORGANISER_ID, first_name="Org", language_code="en")
    await organiser.send("/language")  # the organiser reads English
    await emulator.wait_idle()
    await organiser.press("English")
    await emulator.wait_idle()
    await organiser.send("/health")
    await emulator.wait_idle()
    report = organiser.last.text or ""
    assert report.startswith("🩺 Bot health") and "Up for " in report
    assert "No fault since the start." in report
    assert "schema version" in report and "Outbox: waiting 0 (due now 0), being sent 0;" in report
    assert "Updates waiting to be handled: 0." in report
    size = re.search(r"Database: ([\d,.]+) (kB|MB)", report)
    assert size is not None
    shown = float(size.group(1).replace(",", "")) * (1000 if size.group(2) == "kB" else 1e6)
    # Rounded as shown (a file is a few hundred kB, a server's database a few MB).
    assert abs(shown - on_disk(settings.database)) < (50e3 if size.group(2) == "kB" else 100e3)

    # A participant's next question meets a 502: the answer is kept, the fault recorded.
    code = await create_workshop(emulator)
    user = emulator.user(PARTICIPANT, language_code="en")
    await onboard(emulator, user, code, category=journey.categories[0].label["en"], language="en")
    emulator.fail(method="editMessageText", user_id=user.id)  # the question turned into the next
    await user.press("3")
    await emulator.wait_idle()
    assert stored_answers(settings.database, user.id) == {journey.live_prompts()[0].id: "3"}

    await organiser.send("/health")
    await emulator.wait_idle()
    report = organiser.last.text or ""
    state: Runtime = bot.bot_data[RUNTIME_KEY]
    last = state.faults.last
    assert last is not None and last.kind is Kind.API_ERROR
    assert "Faults since the start: 1: Telegram failed (5xx) or the network did (1)." in report
    moment = when_text(last.at, settings.timezone, "en")
    assert (
        f"Last fault: Telegram failed (5xx) or the network did, in "
        f"on_journey_button/edit_message_text, {moment}." in report
    )
    assert "3" not in report.split("Last fault")[1].replace(moment, "")  # no answer shown
    assert len(report) < 4096


async def test_the_time_of_the_last_fault_is_in_the_readers_zone(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    organiser = emulator.user(ORGANISER_ID, first_name="Org", language_code="en")
    await organiser.send("/timezone America/Montreal")
    await emulator.wait_idle()
    emulator.fail(method="sendMessage", user_id=organiser.id)
    await organiser.send("/whoami")  # its reply meets a 502
    await emulator.wait_idle()
    await organiser.send("/health")
    await emulator.wait_idle()
    state: Runtime = bot.bot_data[RUNTIME_KEY]
    assert state.faults.last is not None
    montreal = when_text(state.faults.last.at, ZoneInfo("America/Montreal"), "en")
    paris = when_text(state.faults.last.at, settings.timezone, "en")
    assert montreal != paris
    report = organiser.last.text or ""
    assert montreal in report and paris not in report


async def test_someone_who_is_not_an_organiser_is_refused(
    bot: Application, emulator: BotApiEmulator
) -> None:
    someone = emulator.user(PARTICIPANT, language_code="en")
    await someone.send("/health")
    await emulator.wait_idle()
    assert (someone.last.text or "").startswith("Only organisers can read the bot's health.")
    assert "Database" not in (someone.last.text or "")
    assert str(PARTICIPANT) in (someone.last.text or "")


async def test_the_queues_and_a_delivery_that_failed(tmp_path: Path, journey: Journey) -> None:
    """A reminder whose delivery to one participant fails past the quick retries is put
    back in the outbox: /health counts it waiting, and the failure among the faults."""
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
            camille, alex, _sam = await people(emulator, journey, code)
            organiser = emulator.user(ORGANISER_ID)
            emulator.time_out(camille.id, times=3)
            await remind(emulator, organiser, f"/remind {code} 3/6/2030 10:01 Coupure réseau")
            clock.set(MORNING + timedelta(minutes=1, seconds=1))
            await arrives(alex, 1 + len(alex.messages))
            await asyncio.sleep(2)  # the three calls held and closed, then put back
            await emulator.wait_idle()
            assert len(emulator.timed_out) == 3

            await organiser.send("/health")
            await emulator.wait_idle()
            report = organiser.last.text or ""
            # Camille's reminder waits for its next try, in 30 s.
            # (The organiser reads French: their language is the workshop's default.)
            assert "1 en attente (dont 0 à faire maintenant), 0 en cours" in report, report
            state: Runtime = bot.bot_data[RUNTIME_KEY]
            assert state.faults.last is not None and state.faults.last.user_id == camille.id
            assert state.faults.last.where == "sendMessage"
            # The emulator hung up on the held calls: a network failure, not a late answer.
            assert "démarrage\u00a0: 1 (panne de Telegram (5xx) ou du réseau (1))" in report
