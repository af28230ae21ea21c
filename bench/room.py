"""How fast a room of phones follows the facilitator's "next".

A workshop whose agora is paced by the room, with P participants who have all finished
their questions, is written straight into SQLite (quick to build). The bot runs as it
does in production, `python -m bot.cli run`, in a process of its own, against the Bot
API emulator, which runs here with the emulated people (another process). At start the
bot brings every phone to the room's statement (the introduction and the one message);
the facilitator opens a control with `/agora room`, then presses "next" a few times.
Each time we measure, from the press, how long until the facilitator's control shows the
new statement and until the last of the P phones does (the emulator's time of the last
edit it answered), and the CPU time the bot's process and this one used meanwhile.

    .venv/bin/python -m bench.room --participants 200 --rates 30 1000 --latency 0.05

The floor is what the rate alone allows: P edits at R messages a second take P / R
seconds, however fast the bot is (python-telegram-bot's limiter lets a first second's
worth go at once, so a little less in practice).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.journey import _cpu
from reports.text import translator
from storage.db import Database
from tgemu import BotApiEmulator, EmulatedUser

ORGANISER_ID = 1
FIRST_PARTICIPANT = 10_000
STATEMENTS = 12
PRESSES = 3
NOW = "2026-11-27T09:00:00.000+00:00"
CATEGORIES = ("elu", "agent", "socio_eco", "etat")


def text_of(number: int) -> str:
    return f"Statement number {number} of the room"


def seed(path: Path, size: int) -> None:
    """A room-paced agora on its first statement, every participant done, no phone
    holding its message yet; the statements are one group's commitments, which the room
    takes in their order."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO workshops (id, code, facilitator_code, title, journey_id, created_by,"
            " created_at, peers_opened_at, agora_opened_at, statements_made, review, caucus,"
            " caucus_closed_at, agora_mode, room_statement_id)"
            " VALUES (1, 'benchroomcode0001', 'benchroomfacil001', 'Bench', 'cooperation', ?,"
            " ?, ?, ?, ?, 0, 0, ?, 'room', 1)",
            (ORGANISER_ID, NOW, NOW, NOW, STATEMENTS, NOW),
        )
        conn.execute(
            "INSERT INTO facilitators (workshop_id, user_id, added_at) VALUES (1, ?, ?)",
            (ORGANISER_ID, NOW),
        )
        conn.executemany(
            "INSERT INTO participants (id, workshop_id, user_id, category, language, state,"
            " joined_at, consented_at, finished_at) VALUES (?, 1, ?, ?, ?, 'done', ?, ?, ?)",
            [
                (
                    p,
                    FIRST_PARTICIPANT + p,
                    CATEGORIES[p % 4],
                    "en" if p % 3 == 0 else "fr",
                    NOW,
                    NOW,
                    NOW,
                )
                for p in range(1, size + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO users (user_id, current_participant_id, updated_at) VALUES (?, ?, ?)",
            [(FIRST_PARTICIPANT + p, p, NOW) for p in range(1, size + 1)],
        )
        conn.executemany(
            "INSERT INTO statements (id, workshop_id, number, participant_id, kind,"
            " source_category, target_category, text, status, created_at, in_agora_at)"
            " VALUES (?, 1, ?, ?, 'commitment', 'elu', NULL, ?, 'approved', ?, ?)",
            [(n, n, 4 * n, text_of(n), NOW, NOW) for n in range(1, STATEMENTS + 1)],
        )


@dataclass
class Result:
    rate: int
    participants: int
    first_sync: float  # the start: every phone sent its introduction and its message
    controls: list[float]  # "next" to the control showing the new statement
    phones: list[float]  # "next" to the last phone showing it
    bot_cpu: list[float]  # CPU seconds the bot used for one "next"
    emulator_cpu: list[float]  # CPU seconds the emulator (and the people) used for it

    def row(self) -> str:
        floor = self.participants / self.rate
        return (
            f"| {self.rate} | {self.participants} | {floor:.2f} s "
            f"| {statistics.median(self.phones):.2f} s | {max(self.phones):.2f} s "
            f"| {statistics.median(self.controls) * 1000:.0f} ms "
            f"| {statistics.median(self.bot_cpu):.2f} s "
            f"| {statistics.median(self.emulator_cpu):.2f} s | {self.first_sync:.2f} s |"
        )


async def until(check: Callable[[], bool], limit: float) -> None:
    """Wait until `check()` is true, looking gently (the emulator shares this process)."""
    async with asyncio.timeout(limit):
        while not check():  # noqa: ASYNC110 (a condition on the emulator's state)
            await asyncio.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used (Linux: user and system time from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def last_edit(emulator: BotApiEmulator, since: int, chats: set[str]) -> float:
    """When the last edit of one of these chats was answered, from call number `since`."""
    return max(
        call.at
        for call in emulator.calls[since:]
        if call.method == "editMessageText" and call.ok and str(call.params["chat_id"]) in chats
    )


def shows(user: EmulatedUser, number: int) -> bool:
    return bool(user.messages) and text_of(number) in (user.messages[-1].text or "")


def start_bot(emulator: BotApiEmulator, database: Path, rate: int, log: Path) -> subprocess.Popen:
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "COOPBOT_DB": str(database),
        "COOPBOT_ORGANISERS": str(ORGANISER_ID),
        "COOPBOT_MESSAGES_PER_SECOND": str(rate),
    }
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def run_once(size: int, rate: int, latency: float, folder: Path) -> Result:
    database = folder / f"room-{rate}-{size}.sqlite3"
    await (await Database.open(database)).close()  # the schema
    seed(database, size)
    async with BotApiEmulator(latency=latency) as emulator:
        people = [emulator.user(FIRST_PARTICIPANT + p) for p in range(1, size + 1)]
        organiser = emulator.user(ORGANISER_ID, language_code="fr")
        for user in [*people, organiser]:  # they have all written to the bot before
            emulator.state.known_chats.add(user.id)
        bot = start_bot(emulator, database, rate, folder / f"bot-{rate}.log")
        try:
            started = time.monotonic()
            await until(lambda: all(shows(u, 1) for u in people), 120)
            first_sync = time.monotonic() - started
            await organiser.send("/agora room")
            await organiser.wait_for_messages(2)
            await emulator.wait_idle(quiet=0.5, timeout=60)
            control_id = organiser.messages[-1].message_id
            next_label = translator("fr")("Next") + " ➡️"
            controls: list[float] = []
            phones: list[float] = []
            emulator_cpu: list[float] = []
            bot_cpu: list[float] = []
            phones_chats = {str(u.id) for u in people}
            for number in range(2, 2 + PRESSES):
                control = organiser.bot_message(control_id)
                assert control is not None
                since = len(emulator.calls)
                cpu = (time.process_time(), cpu_seconds(bot.pid))
                pressed = time.monotonic()
                await organiser.press(next_label, message=control)
                await until(lambda n=number: all(shows(u, n) for u in people), 120)
                await emulator.wait_idle(quiet=0.5, timeout=60)
                controls.append(last_edit(emulator, since, {str(ORGANISER_ID)}) - pressed)
                phones.append(last_edit(emulator, since, phones_chats) - pressed)
                emulator_cpu.append(time.process_time() - cpu[0])
                bot_cpu.append(cpu_seconds(bot.pid) - cpu[1])
        finally:
            bot.send_signal(signal.SIGINT)
            bot.wait(30)
        refused = [c for c in emulator.rejected if c.method != "answerCallbackQuery"]
        assert not refused, refused[:3]
    return Result(rate, size, first_sync, controls, phones, bot_cpu, emulator_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--rates", type=int, nargs="+", default=[30, 1000])
    parser.add_argument("--latency", type=float, default=0.05, help="Bot API round trip, seconds")
    arguments = parser.parse_args()
    print(f"machine: {platform.machine()}, {_cpu()}, Python {platform.python_version()}")
    print(
        f"Bot API latency: {arguments.latency * 1000:.0f} ms per call; the bot in its own "
        f"process; {PRESSES} presses of next per rate\n"
    )
    print(
        "| messages/s | phones | floor (phones / rate) | next → last phone, median | max "
        "| next → control | bot CPU per next | emulator CPU per next "
        "| start: every phone sent its two messages |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for rate in arguments.rates:
            result = asyncio.run(
                run_once(arguments.participants, rate, arguments.latency, Path(folder))
            )
            print(result.row(), flush=True)


if __name__ == "__main__":
    main()
