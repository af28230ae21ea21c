"""Retention end to end: a workshop closed longer ago than `COOPBOT_RETENTION_DAYS` has its
participants' data erased by the daily job, its figures kept; a workshop closed more
recently and an open one are untouched; the job run again changes nothing, and it runs
at start too (a bot down on the day still erases). Commands on an erased workshop say so."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from telegram.ext import Application, CallbackContext

from bot import jobs
from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings, SettingsError
from flows.journey import Journey
from reports.text import day, translator
from storage import retention
from storage.db import to_text, utc_now
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop
from tests.helpers import answer_prompts, onboard
from tgemu import BotApiEmulator

FR = translator("fr")
# Every table, as the job may change it (the audit apart: compared on its own).
TABLES = (
    "workshops",
    "participants",
    "answers",
    "statements",
    "votes",
    "caucus_votes",
    "resolutions",
    "mailings",
    "deliveries",
    "users",
    "facilitators",
    "organisers",
    "sessions",
    "erasures",
    "audit",
)


class Clock:
    """The bot's "now", held still until the test moves it."""

    def __init__(self, state: Runtime) -> None:
        self.now = utc_now()
        state.clock = lambda: self.now


def snapshot(database: Path) -> dict[str, list[tuple[object, ...]]]:
    with stored.connect(database) as conn:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}")) for table in TABLES}


def counts(database: Path, code: str) -> tuple[int, int]:
    """(participants, answers) of the workshop `code` opens."""
    with stored.connect(database) as conn:
        found = conn.execute(
            "SELECT COUNT(DISTINCT p.id), COUNT(a.question_id) FROM participants p"
            " JOIN workshops w ON w.id = p.workshop_id"
            " LEFT JOIN answers a ON a.participant_id = p.id WHERE w.code = ?",
            (code,),
        ).fetchone()
    return found[0], found[1]


def erasure(database: Path, code: str) -> sqlite3.Row | None:
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "SELECT e.* FROM erasures e JOIN workshops w ON w.id = e.workshop_id WHERE w.code = ?",
            (code,),
        ).fetchone()


async def run_the_job(application: Application) -> None:
    await jobs.erase_expired(CallbackContext(application))


async def test_the_job_erases_expired_workshops_once_and_keeps_their_figures(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    clock = Clock(bot.bot_data[RUNTIME_KEY])
    organiser = emulator.user(ORGANISER_ID)
    codes = [await create_workshop(emulator, title) for title in ("Ancien", "Récent", "Ouvert")]
    old, recent, still_open = codes
    category = journey.categories[0]
    prompts = journey.live_prompts()[:2]
    users = {}
    for index, code in enumerate(codes):
        for offset in (1, 2):
            user = emulator.user(6000 + 10 * index + offset, language_code="fr")
            await onboard(emulator, user, code, category=category.label["fr"], language="fr")
            await answer_prompts(emulator, user, prompts, "fr")
            users[user.id] = code
    before = {code: counts(database, code) for code in codes}
    assert all(found == (2, 2 * len(prompts)) for found in before.values())

    # Each has a live screen link (stored even where this bot has no web server).
    for code in codes:
        await organiser.send(f"/screen {code}")
        await emulator.wait_idle()
    links = "SELECT COUNT(*) FROM screen_links s JOIN workshops w ON w.id = s.workshop_id"
    with stored.connect(database) as conn:
        assert conn.execute(links).fetchone() == (3,)

    # Closed a year and more before the job runs, and 200 days before it.
    await organiser.send(f"/close {old}")
    await emulator.wait_idle()
    clock.now += timedelta(days=200)
    await organiser.send(f"/close {recent}")
    await emulator.wait_idle()
    clock.now += timedelta(days=settings.retention_days - 200 + 1)

    await run_the_job(bot)
    assert counts(database, old) == (0, 0)
    assert counts(database, recent) == before[recent]
    assert counts(database, still_open) == before[still_open]
    kept = erasure(database, old)
    assert kept is not None
    assert (kept["participants"], kept["answers"]) == (2, 2 * len(prompts))
    assert kept["by_category"] == f'{{"{category.id}": 2}}'
    assert erasure(database, recent) is None and erasure(database, still_open) is None
    with stored.connect(database) as conn:
        pointers = dict(conn.execute("SELECT user_id, current_participant_id FROM users"))
        erased_entries = conn.execute(
            "SELECT w.code, a.actor_id FROM audit a JOIN workshops w ON w.id = a.workshop_id"
            " WHERE a.action = 'erased'"
        ).fetchall()
    # The old workshop's participants, in no other workshop, are forgotten altogether;
    # the others keep their pointer.
    assert {user for user, code in users.items() if code == old} & set(pointers) == set()
    assert {user for user, code in users.items() if code != old} <= set(pointers)
    assert all(pointers[user] is not None for user, code in users.items() if code != old)
    assert erased_entries == [(old, None)]
    with stored.connect(database) as conn:
        left = [row[0] for row in conn.execute(f"{links.replace('COUNT(*)', 'w.code')}")]
    assert sorted(left) == sorted([recent, still_open])  # the old one's link is gone

    # Again, and again a day later: nothing changes.
    after = snapshot(database)
    await run_the_job(bot)
    clock.now += timedelta(days=1)
    await run_the_job(bot)
    # Two runs at once would each find it expired: the second erases nothing.
    state: Runtime = bot.bot_data[RUNTIME_KEY]
    assert state.database is not None
    old_id = kept["workshop_id"]
    again = await retention.erase(
        state.database, workshop_id=old_id, closed_before=clock.now, now=clock.now
    )
    assert again is None
    # Only what is still to erase is looked at (the recent one, were its time come).
    assert await retention.expired(state.database, closed_before=clock.now) == [old_id + 1]
    assert snapshot(database) == after

    # An organiser's command on it says its data was erased, and when; /audit still works
    # and shows what remains.
    erased_on = day((clock.now - timedelta(days=1)).astimezone(settings.timezone).date(), "fr")
    told = FR(
        "The data of «{title}» was erased on {date}, once its retention period after closing "
        "was over: only its overall figures remain."
    ).format(title="Ancien", date=erased_on)
    for command in ("/synthesis", "/export", "/statements"):
        await organiser.send(f"{command} {old}")
        await emulator.wait_idle()
        assert organiser.last.text == told
    await organiser.send(f"/audit {old}")
    await emulator.wait_idle()
    shown = organiser.last.text or ""
    assert FR("erased the participants' data (retention period over)") in shown
    assert FR("the bot") in shown
    # The others answer as before.
    await organiser.send(f"/synthesis {recent}")
    await emulator.wait_idle()
    assert organiser.last.text != told


async def test_the_job_runs_at_start(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    async with bot_running(settings, emulator):
        code = await create_workshop(emulator)
        user = emulator.user(6101, language_code="fr")
        label = journey.categories[0].label["fr"]
        await onboard(emulator, user, code, category=label, language="fr")
        await emulator.user(ORGANISER_ID).send(f"/close {code}")
        await emulator.wait_idle()
    assert counts(database, code) == (1, 0)
    # The bot was down on the day its retention period ended.
    long_ago: datetime = utc_now() - timedelta(days=settings.retention_days + 3)
    with stored.connect(database) as conn:
        conn.execute("UPDATE workshops SET closed_at = ? WHERE code = ?", (to_text(long_ago), code))
    async with bot_running(settings, emulator):
        await emulator.wait_idle()
        for _ in range(50):
            if erasure(database, code) is not None:
                break
            await emulator.wait_idle(quiet=0.05)
    assert counts(database, code) == (0, 0)
    kept = erasure(database, code)
    assert kept is not None and kept["participants"] == 1


@pytest.mark.parametrize(("raw", "days"), [("", 365), ("30", 30), ("3650", 3650)])
def test_retention_days_setting(raw: str, days: int) -> None:
    assert Settings.from_env({"COOPBOT_RETENTION_DAYS": raw}).retention_days == days


@pytest.mark.parametrize("raw", ["0", "-5", "never", "3651", "1.5"])
def test_retention_days_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="COOPBOT_RETENTION_DAYS"):
        Settings.from_env({"COOPBOT_RETENTION_DAYS": raw})
