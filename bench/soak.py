"""A long run of random traffic against the bot as in production: nothing lost, nothing
refused, nothing unhandled, and what it costs in time and memory.

The bot runs as `python -m bot.cli run`, in a process of its own, against the Bot API
emulator, which runs here with the emulated people. One workshop, P participants and a
facilitator. The traffic is the property test's (`tests/journey_model.py`), drawn from a
seeded `random.Random`: joins with right and wrong codes, texts of any Unicode up to
4,096 characters (and beyond, from a broken client), the buttons shown (current and
old), forged callback data, edits, stickers and photos, commands with and without
arguments, earlier updates delivered again, and phase 2 opened at some moment.

It goes in rounds, as a room does: every participant sends one update, all at once;
once the bot is quiet, each participant's step, answers and statements in the SQLite
file are compared with the model's.

    .venv/bin/python -m bench.soak --updates 20000

Reports: updates sent and handled (fetched and confirmed by the bot), calls refused
(edits that changed nothing, which the bot takes in its stride, counted apart), errors
in the bot's log, rounds where storage and the model differed, throughput, the bot's
memory (RSS) at start and end, and the CPU each process used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.journey import _cpu
from flows.journey_file import default_journey
from tests.journey_model import (
    Action,
    Driver,
    JourneyModel,
    differences,
    draw_action,
    peers_open,
)
from tgemu import BotApiEmulator

ORGANISER_ID = 1
FACILITATOR_ID = 2
FIRST_PARTICIPANT = 30_000
START_LINK = re.compile(r"start=([A-Za-z0-9_-]+)")
# Unicode blocks the random texts draw from: Latin, Arabic and Hebrew, CJK, emoji,
# mathematical letters, and anything below the surrogates.
BLOCKS = (
    (0x20, 0x2FF),
    (0x590, 0x6FF),
    (0x4E00, 0x9FFF),
    (0x1F300, 0x1FAFF),
    (0x1D400, 0x1D7FF),
    (0x1, 0xD7FF),
)
NAMES = ("Camille", "مريم", "Zoë 🌱", "李", "Ólafur", "Dvořák")


class RandomPick:
    """The traffic's choices, from a seeded generator (the test draws them with
    hypothesis instead)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)

    def unicode_text(self) -> str:
        while True:
            text = "".join(
                chr(self.random.randint(*self.random.choice(BLOCKS)))
                for _ in range(self.random.randint(1, 40))
            )
            if text.strip():
                return text

    def data(self) -> str:
        text = self.unicode_text()
        while len(text.encode()) > 64:
            text = text[:-1]
        return text or "x"


@dataclass
class Figures:
    sent: int = 0
    handled: int = 0
    refused: list[str] = field(default_factory=list)
    not_modified: int = 0
    callback_again: int = 0
    errors: int = 0
    mismatched_rounds: int = 0
    late_rounds: int = 0  # the bot was still at work when the round was first compared
    first_mismatch: str = ""
    seconds: float = 0.0
    rss_start: int = 0
    rss_end: int = 0
    bot_cpu: float = 0.0
    bench_cpu: float = 0.0
    answers: int = 0
    statements: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    rss_samples: list[tuple[int, int]] = field(default_factory=list)  # (updates sent, kB)


def start_bot(emulator: BotApiEmulator, database: Path, log: Path) -> subprocess.Popen[bytes]:
    """The bot as in production, with flood control off: the emulated people send much
    faster than anyone could, and its drops would be traffic the model cannot predict."""
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "COOPBOT_DB": str(database),
        "COOPBOT_ORGANISERS": str(ORGANISER_ID),
        "COOPBOT_MESSAGES_PER_SECOND": "1000",
        "COOPBOT_FLOOD_LIMIT": "off",
    }
    with log.open("a") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def rss(pid: int) -> int:
    """Resident memory of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def soak(updates: int, participants: int, seed: int, quiet: float, folder: Path) -> Figures:
    figures = Figures()
    database, log = folder / "soak.sqlite3", folder / "bot.log"
    pick = RandomPick(seed)
    async with BotApiEmulator() as emulator:
        bot = start_bot(emulator, database, log)
        try:
            await emulator.wait_polling(timeout=60)
            organiser = emulator.user(ORGANISER_ID, first_name="Org", language_code="fr")
            await organiser.send("/newsession Atelier d'endurance")
            await emulator.wait_idle(quiet=0.5, timeout=60)
            links = [m.text or "" for m in organiser.messages if "start=" in (m.text or "")]
            code, facilitator_code = (START_LINK.findall(link)[0] for link in links[-2:])
            facilitator = emulator.user(FACILITATOR_ID, first_name="Fa", language_code="fr")
            await facilitator.send(f"/start {facilitator_code}")
            await emulator.wait_idle(quiet=0.5, timeout=60)
            await facilitator.send("/peers wait")  # phase 2 waits for /open peers
            await emulator.wait_idle(quiet=0.5, timeout=60)
            users = [
                emulator.user(
                    FIRST_PARTICIPANT + n,
                    first_name=NAMES[n % len(NAMES)],
                    language_code=("fr", "en", None, "ar")[n % 4],
                )
                for n in range(participants)
            ]
            ids = [user.id for user in users]
            model = JourneyModel(default_journey(), code)
            driver = Driver(emulator, model, users, facilitator, own_redeliveries=True)
            figures.rss_start = rss(bot.pid)
            cpu_bot, cpu_bench = cpu_seconds(bot.pid), time.process_time()
            rejected_before = len(emulator.rejected)
            started = time.monotonic()
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
                model.peers_open = peers_open(conn)
                while figures.sent < updates:
                    # Everyone at once, one update each (drawn for them). The facilitator
                    # opens phase 2 once, a third of the way in, in a round of its own:
                    # it moves those who wait for it.
                    actions = [replace(draw_action(pick, 1), user=n) for n in range(participants)]
                    actions = [
                        a if a.kind != "open_peers" else replace(a, kind="press") for a in actions
                    ]
                    if not model.peers_open and figures.sent >= updates // 3:
                        actions = [Action("open_peers")]
                    for action in actions:
                        await driver.play(action)
                        figures.sent += 1
                    await emulator.wait_idle(quiet=quiet, timeout=120)
                    if figures.sent * 10 // updates > len(figures.rss_samples):  # each tenth
                        figures.rss_samples.append((figures.sent, rss(bot.pid)))
                    for user in users:
                        driver.remember_buttons(user)
                    found = differences(model, conn, ids)
                    if found:  # the bot, in its own process, may still be at work: look again
                        figures.late_rounds += 1
                        await emulator.wait_idle(quiet=2.0, timeout=120)
                        found = differences(model, conn, ids)
                    if found:
                        figures.mismatched_rounds += 1
                        figures.first_mismatch = figures.first_mismatch or found[0]
                figures.seconds = time.monotonic() - started
                figures.answers = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
                figures.statements = conn.execute("SELECT COUNT(*) FROM statements").fetchone()[0]
            figures.rss_end = rss(bot.pid)
            figures.bot_cpu = cpu_seconds(bot.pid) - cpu_bot
            figures.bench_cpu = time.process_time() - cpu_bench
            figures.handled = figures.sent - emulator.state.updates.pending
            for call in emulator.rejected[rejected_before:]:
                query = call.params.get("callback_query_id")
                if call.method == "answerCallbackQuery" and query in driver.redelivered_queries:
                    figures.callback_again += 1
                    continue
                if "not modified" in (call.error or ""):
                    figures.not_modified += 1
                    continue
                figures.refused.append(str(call)[:300])
            figures.kinds = dict(driver.counts)
            running_log = log.read_text(errors="replace")  # what it logged while it ran
        finally:
            bot.send_signal(signal.SIGINT)
            await asyncio.to_thread(bot.wait, 30)  # the emulator answers its last poll
    text = running_log
    figures.errors = sum(1 for line in text.splitlines() if " ERROR " in line)
    figures.errors += text.count("Traceback")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--quiet", type=float, default=0.25, help="seconds without a call")
    parser.add_argument("--keep", help="a folder to keep the database and the bot's log in")
    arguments = parser.parse_args()
    print(f"machine: {platform.machine()}, {_cpu()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(arguments.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        f = asyncio.run(
            soak(arguments.updates, arguments.participants, arguments.seed, arguments.quiet, folder)
        )
    rounds_wait = f.sent / arguments.participants * arguments.quiet
    print(f"participants: {arguments.participants}, seed {arguments.seed}")
    print(f"updates sent: {f.sent}, handled: {f.handled}")
    print(f"by kind: {dict(sorted(f.kinds.items()))}")
    print(f"calls refused: {len(f.refused)}")
    for call in f.refused[:5]:
        print(f"  {call}")
    print(f"  let through: {f.not_modified} edits that changed nothing (stale, redelivered or")
    print(f"  forged input), {f.callback_again} redelivered button queries answered again")
    print(f"errors in the bot's log: {f.errors}")
    print(f"rounds where storage and the model differed: {f.mismatched_rounds} {f.first_mismatch}")
    print(f"  (rounds compared again after 2 s of quiet, the bot still at work: {f.late_rounds})")
    print(f"stored at the end: {f.answers} answers, {f.statements} statements")
    print(
        f"wall time: {f.seconds:.1f} s ({f.sent / f.seconds:.1f} updates/s; "
        f"{rounds_wait:.0f} s of it waiting {arguments.quiet} s of quiet after each round: "
        f"{f.sent / max(f.seconds - rounds_wait, 0.001):.1f} updates/s without)"
    )
    print(f"bot RSS: {f.rss_start / 1024:.0f} MB at start, {f.rss_end / 1024:.0f} MB at end")
    print("  after " + ", ".join(f"{n} updates {kb / 1024:.0f} MB" for n, kb in f.rss_samples))
    print(
        f"CPU: bot {f.bot_cpu:.1f} s ({f.bot_cpu / f.sent * 1000:.1f} ms per update), "
        f"emulator and model {f.bench_cpu:.1f} s"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the benchmark's process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
