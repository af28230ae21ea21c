"""The outbox end to end: a broadcast to 200 people under Telegram's limits (everyone once,
the blocked ones reported, every 429 handled, at the pace the limit allows); a 403 that
marks someone unreachable until they come back; a reminder due while the bot was down,
sent late at start."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path

from telegram.ext import Application

from bench.broadcast import confirm_broadcast, counted, last_delivery, received, seed
from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings
from flows.kinds import MailingKind, MailingStatus
from flows.outbox import QuietHours
from reports.text import number, translator
from storage import outbox
from storage.db import Database, utc_now
from tests import stored
from tests.conftest import bot_running
from tests.outbox_helpers import (
    BLOCKED,
    CODE,
    EN,
    ORGANISER,
    RATE,
    SIZE,
    TEXT,
    broadcast_setup,
    final_report,
    until,
)
from tgemu import BotApiEmulator

# The time a broadcast may take beyond what the rate alone allows.
MARGIN = 1.15
# These tests are about reaching people, whatever the hour they run at.
NEVER_QUIET = QuietHours(time(0), time(0))


async def test_a_broadcast_to_200_keeps_telegrams_limits(tmp_path: Path) -> None:
    async with broadcast_setup(tmp_path) as setup:
        emulator, organiser = setup.emulator, setup.organiser
        setup.start()
        await emulator.wait_polling()
        await asyncio.sleep(1.2)  # the start's own calls out of the windows
        since = len(emulator.calls)
        pressed = await confirm_broadcast(organiser, CODE, TEXT)
        await until(lambda: final_report(organiser) is not None, 60)
        await asyncio.sleep(1.5)  # a copy sent twice would show by now
        setup.stop()

        reachable = setup.people - BLOCKED
        copies = received(emulator, setup.people, since)
        assert {chat for chat in reachable if copies[chat] != 1} == set()  # exactly once
        assert all(copies[chat] == 0 for chat in BLOCKED)
        # Every 429 was handled: the chat it refused got its message later, once (above).
        floods = [c for c in emulator.calls[since:] if c.error_code == 429]
        assert all(
            copies[int(c.params["chat_id"])] == 1 for c in floods if c.method == "sendMessage"
        )
        # The limit held over every second (the emulator refused any excess with a 429,
        # which is only allowed to be rare: the sender paces itself under the limit).
        assert len(floods) <= 2, [str(c) for c in floods]

        report = final_report(organiser)
        assert report is not None
        assert (
            EN("Done: {sent} of {total} sent.").format(
                sent=number(SIZE - len(BLOCKED), "en"), total=number(SIZE, "en")
            )
            in report
        )
        assert EN("{count} unreachable (they blocked the bot).").format(count=5) in report
        assert EN("{count} failed.").format(count=0) in report
        assert "twice" not in report
        assert setup.unreachable() >= BLOCKED
        assert {row["status"] for row in setup.deliveries()} == {"sent", "unreachable"}

        # The time: from the press to the last delivery, against what the rate allows for
        # every message the bot sent meanwhile (the 200 sends, the preview's edit and the
        # progress messages).
        ended = last_delivery(emulator, setup.people, since)
        messages = counted(emulator, since, ended)
        assert SIZE <= messages <= SIZE + 5
        floor = messages / RATE
        took = ended - pressed
        assert took <= floor * MARGIN, (took, floor)
        refused = [c for c in emulator.rejected if c.error_code not in (403, 429)]
        assert refused == []
        assert setup.errors() == []


def runtime_of(application: Application) -> Runtime:
    state = application.bot_data[RUNTIME_KEY]
    assert isinstance(state, Runtime)
    return state


async def remind(state: Runtime, text: str, *, due_minutes_ago: float = 0) -> int:
    """A reminder to everyone in the seeded workshop, due now (or some minutes ago)."""
    assert state.database is not None
    now = utc_now()
    mailing = await outbox.create(
        state.database,
        workshop_id=1,
        kind=MailingKind.REMINDER,
        due_at=now - timedelta(minutes=due_minutes_ago),
        now=now,
        text=text,
        created_by=ORGANISER,
        report_chat_id=ORGANISER,
        report_language="en",
    )
    state.wake_outbox()
    return mailing.id


def statuses(database: Path, mailing_id: int) -> dict[int, tuple[str, int]]:
    with stored.connect(database) as conn:
        rows = conn.execute(
            "SELECT user_id, status, late FROM deliveries WHERE mailing_id = ?", (mailing_id,)
        )
        return {row[0]: (row[1], row[2]) for row in rows}


def unreachable_at(database: Path, user_id: int) -> str | None:
    with stored.connect(database) as conn:
        row = conn.execute("SELECT unreachable_at FROM users WHERE user_id = ?", (user_id,))
        found = row.fetchone()
    return found[0] if found else None


SKIPPED = ("skipped", 0)


def come_back(emulator: BotApiEmulator, user_id: int) -> None:
    """The user unblocks the bot: sends reach them again, and Telegram tells the bot with
    a my_chat_member update ("kicked" to "member")."""
    emulator.unblock(user_id, notify=True)


def seeded(settings: Settings, emulator: BotApiEmulator, size: int) -> list[int]:
    seed(settings.database, size, organiser=ORGANISER, code=CODE, connect=stored.connect)
    stored.settle_identities(settings.database)
    people = [20_001 + p for p in range(size)]
    for user_id in [*people, ORGANISER]:
        emulator.state.known_chats.add(emulator.user(user_id).id)
    return people


async def test_a_403_marks_someone_unreachable_until_they_come_back(
    emulator: BotApiEmulator, settings: Settings
) -> None:
    await (await Database.open(settings.database)).close()
    camille, alex, gone = seeded(settings, emulator, 3)
    emulator.block(gone)
    settings = replace(settings, quiet_hours=NEVER_QUIET)
    async with bot_running(settings, emulator) as application:
        state = runtime_of(application)
        first = await remind(state, "First reminder")
        await until(lambda: len(statuses(settings.database, first)) == 3, 10)
        await until(
            lambda: (
                "pending" not in str(statuses(settings.database, first))
                and "sending" not in str(statuses(settings.database, first))
            ),
            10,
        )
        await emulator.wait_idle()
        assert statuses(settings.database, first)[gone][0] == "unreachable"
        assert unreachable_at(settings.database, gone) is not None
        tried = sum(1 for c in emulator.calls if c.params.get("chat_id") in (gone, str(gone)))
        assert tried == 1

        # The next automatic mailing does not try them.
        second = await remind(state, "Second reminder")
        await until(lambda: statuses(settings.database, second).get(gone) == ("skipped", 0), 10)
        await emulator.wait_idle()
        assert sum(1 for c in emulator.calls if c.params.get("chat_id") in (gone, str(gone))) == 1
        assert [m.text for m in emulator.user(camille).messages if "Second" in (m.text or "")]

        # They unblock the bot: Telegram says so, and the next one reaches them.
        come_back(emulator, gone)
        await emulator.wait_idle()
        assert unreachable_at(settings.database, gone) is None
        third = await remind(state, "Third reminder")
        await until(lambda: statuses(settings.database, third).get(gone) == ("sent", 0), 10)
        await emulator.wait_idle()
        assert [m.text for m in emulator.user(gone).messages if "Third" in (m.text or "")]
        assert statuses(settings.database, third)[alex] == ("sent", 0)
    assert [c for c in emulator.rejected if c.error_code != 403] == []


async def test_a_reminder_due_while_the_bot_was_down_goes_at_start_marked_late(
    emulator: BotApiEmulator, settings: Settings
) -> None:
    database = await Database.open(settings.database)
    try:
        people = seeded(settings, emulator, 2)
        now = utc_now()
        mailing = await outbox.create(
            database,
            workshop_id=1,
            kind=MailingKind.REMINDER,
            due_at=now - timedelta(minutes=30),
            now=now - timedelta(hours=1),
            text="Bring your notes",
            status=MailingStatus.SCHEDULED,
            created_by=ORGANISER,
            report_chat_id=ORGANISER,
            report_language="en",
        )
    finally:
        await database.close()
    organiser = emulator.user(ORGANISER)
    async with bot_running(replace(settings, quiet_hours=NEVER_QUIET), emulator):
        await until(lambda: final_report(organiser) is not None, 15)
        await emulator.wait_idle()
    assert statuses(settings.database, mailing.id) == {p: ("sent", 1) for p in people}
    for user_id in people:
        got = [m.text or "" for m in emulator.user(user_id).messages]
        assert len(got) == 1 and "Bring your notes" in got[0]
        # In their language (the seeded ones speak French), with the time it was due.
        assert translator("fr")("Planned for {when}.").split("{")[0] in got[0]
    report = final_report(organiser)
    assert report is not None
    late = EN("{count} sent after their time (quiet hours, or the bot was stopped).")
    assert late.format(count=2) in report
    assert emulator.rejected == []
