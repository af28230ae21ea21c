"""A broadcast to a seeded workshop, with the bot in a process of its own against the
emulator and Telegram's limits on (the outbox's end-to-end tests)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.broadcast import participant_ids, seed, start_bot
from reports.text import translator
from storage.db import Database
from tests import stored
from tgemu import BotApiEmulator, EmulatedUser

ORGANISER = 500
CODE = "outboxtestcode0001"
TEXT = "The meeting moves to the second floor, room 204."
RATE = 30
SIZE = 200
# Five of the 200 have blocked the bot.
BLOCKED = frozenset(participant_ids(SIZE)[19::40])
EN = translator("en")


@dataclass
class Broadcast:
    emulator: BotApiEmulator
    database: Path
    folder: Path
    organiser: EmulatedUser
    people: set[int] = field(default_factory=set)
    bot: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = self.folder / f"bot-{self.starts}.log"
        self.bot = start_bot(self.emulator, self.database, RATE, log, organiser=ORGANISER)

    def stop(self, how: signal.Signals = signal.SIGINT) -> None:
        if self.bot is not None and self.bot.poll() is None:
            self.bot.send_signal(how)
            self.bot.wait(30)
        self.bot = None

    def errors(self) -> list[str]:
        """Lines the bots logged at ERROR (python-telegram-bot's own complaint about its
        last poll at shutdown aside)."""
        found = []
        for log in sorted(self.folder.glob("bot-*.log")):
            for line in log.read_text().splitlines():
                if " ERROR " in line and "get_updates" not in line:
                    found.append(line)
        return found

    def deliveries(self) -> list[sqlite3.Row]:
        with stored.connect(self.database) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(
                "SELECT d.* FROM deliveries d JOIN mailings m ON m.id = d.mailing_id"
                " WHERE m.kind = 'broadcast' ORDER BY d.user_id"
            ).fetchall()

    def unreachable(self) -> set[int]:
        with stored.connect(self.database) as conn:
            rows = conn.execute("SELECT user_id FROM users WHERE unreachable_at IS NOT NULL")
            return {row[0] for row in rows}


@asynccontextmanager
async def broadcast_setup(folder: Path, *, latency: float = 0.0) -> AsyncIterator[Broadcast]:
    """200 consented participants (5 of whom blocked the bot) in a workshop organised by
    ORGANISER, the emulator enforcing 30 messages a second and one a second per chat
    (and answering each call `latency` seconds late, like Telegram's round trip)."""
    database = folder / "coopbot.sqlite3"
    await (await Database.open(database)).close()
    seed(database, SIZE, organiser=ORGANISER, code=CODE)
    async with BotApiEmulator(
        global_rate=(RATE, 1.0), chat_rate=(1, 1.0), latency=latency
    ) as emulator:
        people = set(participant_ids(SIZE))
        for user_id in people:
            emulator.state.known_chats.add(emulator.user(user_id).id)
        for user_id in BLOCKED:
            emulator.block(user_id)
        organiser = emulator.user(ORGANISER, first_name="Org", language_code="en")
        emulator.state.known_chats.add(organiser.id)
        setup = Broadcast(emulator, database, folder, organiser, people)
        try:
            yield setup
        finally:
            setup.stop()


async def until(check: Callable[[], bool], limit: float) -> None:
    async with asyncio.timeout(limit):
        while not check():  # noqa: ASYNC110 (a condition on the emulator's state)
            await asyncio.sleep(0.05)


def final_report(organiser: EmulatedUser) -> str | None:
    """The sender's progress message once it shows the final report."""
    done = EN("Done: {sent} of {total} sent.").split("{")[0]
    for message in organiser.messages:
        if done in (message.text or ""):
            return message.text
    return None
