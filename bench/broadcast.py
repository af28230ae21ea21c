"""How fast a broadcast reaches everyone, under Telegram's limits, and whether any is lost
or doubled.

A workshop with P consented participants is written straight into SQLite (quick to
build). The bot runs as in production, `python -m bot.cli run`, in a process of its own,
against the Bot API emulator, which runs here with the emulated people and enforces
Telegram's limits: R messages a second overall and one a second per chat (beyond, 429
"retry after 1"), with a round trip of `--latency` on every call. The organiser sends
`/broadcast <code> <text>` and presses "📣"; we time from the press to the last delivery
(the emulator's time of the last message it answered), and count the copies each person
received.

Side by side, in the same run and against the same emulator: the floor that the rate
alone allows (every message the bot sent meanwhile, its progress edits included, at R a
second), and a baseline: a bare python-telegram-bot loop of `send_message` to the same
people through the same `AIORateLimiter`, as many at once as the bot allows itself.

    .venv/bin/python -m bench.broadcast --participants 200 1000 --rates 30
    .venv/bin/python -m bench.broadcast --participants 1000 --rates 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.ext import AIORateLimiter, ExtBot

from bench.journey import _cpu
from bot.outbox import SENDS_AT_ONCE
from storage.db import Database
from tgemu import BotApiEmulator, EmulatedUser

ORGANISER_ID = 1
FIRST_PARTICIPANT = 20_000
CODE = "benchbroadcast0001"
NOW = "2026-11-27T09:00:00.000+00:00"
CATEGORIES = ("elu", "agent", "socio_eco", "etat")
TEXT = "The meeting moves to the second floor, room 204."
SENDING = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText")


def participant_ids(size: int) -> list[int]:
    return [FIRST_PARTICIPANT + p for p in range(1, size + 1)]


def seed(
    path: Path | str,
    size: int,
    *,
    organiser: int = ORGANISER_ID,
    code: str = CODE,
    connect: Callable[[Any], Any] = sqlite3.connect,
) -> None:
    """A workshop organised by `organiser` with `size` consented participants (every third
    in English, the others in French), none of whom has been written to by an outbox.
    `connect`: how to reach the database (sqlite3's, or a test's for either engine)."""
    with connect(path) as conn:
        conn.execute(
            "INSERT INTO workshops (id, code, facilitator_code, title, journey_id, created_by,"
            " created_at) VALUES (1, ?, ?, 'Bench', 'cooperation', ?, ?)",
            (code, code + "f", organiser, NOW),
        )
        conn.execute(
            "INSERT INTO organisers (workshop_id, user_id, added_at) VALUES (1, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (organiser, NOW),
        )
        conn.executemany(
            "INSERT INTO participants (id, workshop_id, user_id, category, language, state,"
            " joined_at, consented_at) VALUES (?, 1, ?, ?, ?, 'p1_q1', ?, ?)",
            [
                (p, user, CATEGORIES[p % 4], "en" if p % 3 == 0 else "fr", NOW, NOW)
                for p, user in enumerate(participant_ids(size), start=1)
            ],
        )
        conn.executemany(
            "INSERT INTO users (user_id, current_participant_id, updated_at) VALUES (?, ?, ?)",
            [(user, p, NOW) for p, user in enumerate(participant_ids(size), start=1)],
        )


def start_bot(
    emulator: BotApiEmulator, database: Path, rate: int, log: Path, *, organiser: int
) -> subprocess.Popen[bytes]:
    """The bot as in production, in a process of its own, against the emulator."""
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "COOPBOT_DB": str(database),
        "COOPBOT_ORGANISERS": str(organiser),
        "COOPBOT_MESSAGES_PER_SECOND": str(rate),
    }
    with log.open("a") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def received(emulator: BotApiEmulator, chats: set[int], since: int = 0) -> Counter[int]:
    """How many messages each of these chats was sent (answered ok), from call `since`."""
    return Counter(
        int(call.params["chat_id"])
        for call in emulator.calls[since:]
        if call.method == "sendMessage" and call.ok and int(call.params["chat_id"]) in chats
    )


def last_delivery(emulator: BotApiEmulator, chats: set[int], since: int = 0) -> float:
    """When the last message to one of these chats was answered (ok or 403)."""
    return max(
        call.at
        for call in emulator.calls[since:]
        if call.method == "sendMessage"
        and int(call.params["chat_id"]) in chats
        and (call.ok or call.error_code == 403)
    )


def counted(emulator: BotApiEmulator, since: int, until: float) -> int:
    """The messages the bot sent or edited (refused for flood control or not) from call
    `since` until `until`: what Telegram's rate counts against it, 403s included (they
    cost the bot its turn too)."""
    return sum(
        1
        for call in emulator.calls[since:]
        if call.method in SENDING and call.at <= until and call.error_code != 429
    )


def flood_refusals(emulator: BotApiEmulator, since: int = 0) -> int:
    return sum(1 for call in emulator.calls[since:] if call.error_code == 429)


async def until(check: Callable[[], bool], limit: float) -> None:
    """Wait until `check()` is true, looking gently (the emulator shares this process)."""
    async with asyncio.timeout(limit):
        while not check():  # noqa: ASYNC110 (a condition on the emulator's state)
            await asyncio.sleep(0.05)


async def confirm_broadcast(organiser: EmulatedUser, code: str, text: str) -> float:
    """`/broadcast <code> <text>`, then "📣" on its preview; returns when it was pressed."""
    count = len(organiser.messages)
    await organiser.send(f"/broadcast {code} {text}")
    await organiser.wait_for_messages(count + 1)
    preview = organiser.messages[-1]
    label = next(label for label in preview.labels if label.startswith("📣"))
    await asyncio.sleep(1.2)  # a person reads it (and Telegram's one message a second in a chat)
    pressed = time.monotonic()
    await organiser.press(label, message=preview)
    return pressed


@dataclass
class Result:
    participants: int
    rate: int
    seconds: float  # press → last delivery
    messages: int  # sends and edits the rate counted meanwhile
    lost: int
    doubled: int
    floods: int  # 429s the bot met
    baseline: float  # a bare PTB loop: first call → last delivery
    baseline_floods: int

    def row(self) -> str:
        floor = self.messages / self.rate
        baseline_floor = self.participants / self.rate
        return (
            f"| {self.rate} | {self.participants} | {floor:.2f} s | {self.seconds:.2f} s "
            f"| {floor / self.seconds:.2f} | {self.lost} | {self.doubled} | {self.floods} "
            f"| {self.baseline:.2f} s | {baseline_floor / self.baseline:.2f} "
            f"| {self.baseline_floods} |"
        )


async def baseline(emulator: BotApiEmulator, chats: list[int], rate: int) -> tuple[float, int]:
    """A bare python-telegram-bot loop: `send_message` to every chat through the same
    AIORateLimiter as the bot's, SENDS_AT_ONCE at once. Returns its time and its 429s."""
    bot: Bot = ExtBot(
        emulator.token,
        base_url=emulator.base_url,
        rate_limiter=AIORateLimiter(overall_max_rate=rate, max_retries=5),
    )
    since = len(emulator.calls)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for chat in chats:
        queue.put_nowait(chat)

    async def worker() -> None:
        while not queue.empty():
            chat = queue.get_nowait()
            await bot.send_message(chat, TEXT)

    async with bot:
        await asyncio.sleep(1.5)  # the emulator's windows empty
        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(SENDS_AT_ONCE)))
    ended = last_delivery(emulator, set(chats), since)
    return ended - started, flood_refusals(emulator, since)


async def run_once(size: int, rate: int, latency: float, folder: Path) -> Result:
    database = folder / f"broadcast-{rate}-{size}.sqlite3"
    await (await Database.open(database)).close()  # the schema
    seed(database, size)
    async with BotApiEmulator(
        latency=latency, global_rate=(rate, 1.0), chat_rate=(1, 1.0)
    ) as emulator:
        people = participant_ids(size)
        for user in [*people, ORGANISER_ID]:  # they have all written to the bot before
            emulator.state.known_chats.add(emulator.user(user).id)
        organiser = emulator.user(ORGANISER_ID, language_code="en")
        bot = start_bot(
            emulator, database, rate, folder / f"bot-{rate}.log", organiser=ORGANISER_ID
        )
        chats = set(people)
        try:
            await emulator.wait_polling()
            await asyncio.sleep(1.5)  # the start's calls out of the windows
            since = len(emulator.calls)
            pressed = await confirm_broadcast(organiser, CODE, TEXT)
            await until(lambda: len(received(emulator, chats, since)) == size, 60 + size / 10)
            await asyncio.sleep(1.0)  # anything doubled would show by now
            ended = last_delivery(emulator, chats, since)
            copies = received(emulator, chats, since)
            messages = counted(emulator, since, ended)
            floods = flood_refusals(emulator, since)
            if os.environ.get("BENCH_TRACE"):
                for call in emulator.calls[since:]:
                    print(
                        f"{call.at - pressed:7.3f} {call.method}",
                        call.params.get("chat_id"),
                        call.error_code,
                    )
        finally:
            bot.send_signal(signal.SIGINT)
            bot.wait(30)
        took, base_floods = await baseline(emulator, people, rate)
    return Result(
        participants=size,
        rate=rate,
        seconds=ended - pressed,
        messages=messages,
        lost=sum(1 for chat in chats if copies[chat] == 0),
        doubled=sum(1 for chat in chats if copies[chat] > 1),
        floods=floods,
        baseline=took,
        baseline_floods=base_floods,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--rates", type=int, nargs="+", default=[30])
    parser.add_argument("--latency", type=float, default=0.05, help="Bot API round trip, seconds")
    parser.add_argument("--keep", help="a folder to keep the databases and the bot's logs in")
    arguments = parser.parse_args()
    print(f"machine: {platform.machine()}, {_cpu()}, Python {platform.python_version()}")
    print(
        f"Bot API latency: {arguments.latency * 1000:.0f} ms per call; the bot in its own "
        f"process, at most {SENDS_AT_ONCE} sends in flight\n"
    )
    print(
        "| messages/s | participants | floor (messages / rate) | press → last delivery "
        "| share of the rate | lost | doubled | 429s met | bare PTB loop | its share | its 429s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(arguments.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for rate in arguments.rates:
            for size in arguments.participants:
                result = asyncio.run(run_once(size, rate, arguments.latency, folder))
                print(result.row(), flush=True)


if __name__ == "__main__":
    main()
