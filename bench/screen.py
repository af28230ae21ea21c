"""How fast the live screen shows a room's votes, and what its open pages cost the bot.

A workshop whose agora is paced by the room, with P participants who have all finished
their questions, is written straight into SQLite (`bench.room.seed`). The bot runs as in
production, `python -m bot.cli run` with `COOPBOT_WEB_LISTEN`, in a process of its own;
the Bot API emulator runs here with the emulated people and the screens (another
process). The facilitator asks for the screen's link with `/screen`; S pages follow its
event stream (S = 0, then 1, then 5, each on a fresh bot and database, side by side in
the same run); then every participant votes on the room's statement, arriving at random
(Poisson) at R votes a second.

For each vote we measure the delay from its press to the first event on the screen whose
vote count includes it (the k-th press against the first event counting k votes), and
the bot's CPU time (from `/proc`) per vote over the whole window, from the first press
to the last vote shown. With no screen open, only the CPU is measured: the baseline.

    .venv/bin/python -m bench.screen --participants 200 --rate 20 --screens 0 1 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.journey import _cpu
from bench.room import FIRST_PARTICIPANT, ORGANISER_ID, cpu_seconds, seed, shows, until
from bot.keyboards import VOTE_PREFIX
from storage.db import Database
from tgemu import BotApiEmulator, EmulatedUser

_LINK = re.compile(r"https?://[^\s\"'<>]+/s/[A-Za-z0-9_-]+")
_VOTES = re.compile(r"data-votes-total[^>]*>\s*([\d\s\u202f\u00a0,.]+)<")


@dataclass
class Result:
    screens: int
    participants: int
    rate: float
    window: float  # first press to the last vote counted (by the bot, or on the screen)
    bot_cpu: float  # CPU seconds the bot used in that window
    delays: list[float] = field(default_factory=list)  # press → shown, per vote
    events: int = 0  # events one page received in the window

    def row(self, baseline: float | None) -> str:
        per_vote = self.bot_cpu / self.participants * 1000
        ratio = f"{per_vote / baseline:.2f}×" if baseline else "1.00× (baseline)"
        if self.delays:
            ordered = sorted(self.delays)
            p50 = statistics.median(ordered) * 1000
            p95 = ordered[int(0.95 * (len(ordered) - 1))] * 1000
            delay = f"{p50:.0f} ms | {p95:.0f} ms | {max(ordered) * 1000:.0f} ms"
        else:
            delay = "— | — | —"
        return (
            f"| {self.screens} | {self.participants} | {self.rate:g}/s | {delay} "
            f"| {self.events} | {per_vote:.2f} ms | {ratio} | {self.window:.1f} s |"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_bot(
    emulator: BotApiEmulator, database: Path, port: int, log: Path
) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "COOPBOT_DB": str(database),
        "COOPBOT_ORGANISERS": str(ORGANISER_ID),
        "COOPBOT_MESSAGES_PER_SECOND": "1000",
        "COOPBOT_FLOOD_LIMIT": "off",
        "COOPBOT_WEB_LISTEN": f"127.0.0.1:{port}",
    }
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def agree_data(user: EmulatedUser) -> str | None:
    """The "agree" button's data on the participant's ballot (the room's statement); None
    for its author, who is never offered their own."""
    for message in reversed(user.messages):
        for row in message.buttons:
            for _, data in row:
                if data and data.startswith(f"{VOTE_PREFIX}:") and data.split(":")[2][:1] == "a":
                    return data
    return None


def votes_at_start(seen: list[list[tuple[float, int]]]) -> int:
    """The votes the first page showed when it opened (0 without a page)."""
    return seen[0][0][1] if seen and seen[0] else 0


def votes_shown(html: str) -> int | None:
    found = _VOTES.search(html)
    if found is None:
        return None
    digits = re.sub(r"\D", "", found.group(1))
    return int(digits) if digits else None


async def follow(
    session: aiohttp.ClientSession, url: str, seen: list[tuple[float, int]], ready: asyncio.Event
) -> None:
    """Read a page's event stream, noting when each vote count arrived."""
    async with session.get(f"{url}/events", timeout=aiohttp.ClientTimeout(total=None)) as reply:
        reply.raise_for_status()
        ready.set()
        async for raw in reply.content:
            line = raw.decode().rstrip("\n")
            if not line.startswith("data:"):
                continue
            count = votes_shown(json.loads(line[5:]).get("html", ""))
            if count is not None:
                seen.append((time.monotonic(), count))


async def run_once(
    size: int, screens: int, rate: float, folder: Path, rng: random.Random
) -> Result:
    database = folder / f"screen-{screens}-{size}.sqlite3"
    await (await Database.open(database)).close()  # the schema
    seed(database, size)
    async with BotApiEmulator() as emulator:
        people = [emulator.user(FIRST_PARTICIPANT + p) for p in range(1, size + 1)]
        organiser = emulator.user(ORGANISER_ID, language_code="fr")
        for user in [*people, organiser]:  # they have all written to the bot before
            emulator.state.known_chats.add(user.id)
        bot = start_bot(emulator, database, free_port(), folder / f"bot-{screens}.log")
        streams: list[asyncio.Task[None]] = []
        try:
            await until(lambda: all(shows(u, 1) for u in people), 120)
            await organiser.send("/screen")
            await until(lambda: any(_LINK.search(m.text or "") for m in organiser.messages), 30)
            url = next(
                found.group(0)
                for m in organiser.messages
                if (found := _LINK.search(m.text or "")) is not None
            )
            seen: list[list[tuple[float, int]]] = [[] for _ in range(screens)]
            async with aiohttp.ClientSession() as session:
                for index in range(screens):
                    ready = asyncio.Event()
                    streams.append(asyncio.create_task(follow(session, url, seen[index], ready)))
                    await asyncio.wait_for(ready.wait(), 30)
                await emulator.wait_idle(quiet=0.5, timeout=60)
                ballots = [(u, data) for u in people if (data := agree_data(u)) is not None]
                # The author's agreement is counted already: the screen starts from it.
                expected = len(ballots) + votes_at_start(seen)
                pressed: list[float] = []
                cpu = cpu_seconds(bot.pid)
                start = time.monotonic()
                for user, data in ballots:
                    pressed.append(time.monotonic())
                    await user.press_data(data)
                    await asyncio.sleep(rng.expovariate(rate))
                if screens:
                    await until(lambda: any(c >= expected for _, c in seen[0]), 60)
                    window_end = next(t for t, c in seen[0] if c >= expected)
                else:
                    await emulator.wait_idle(quiet=0.5, timeout=60)
                    answered = [
                        c.at
                        for c in emulator.calls
                        if c.method == "answerCallbackQuery" and c.at >= start
                    ]
                    window_end = max(answered)
                await emulator.wait_idle(quiet=0.5, timeout=60)
                bot_cpu = cpu_seconds(bot.pid) - cpu
                for task in streams:
                    task.cancel()
                await asyncio.gather(*streams, return_exceptions=True)
        finally:
            bot.send_signal(signal.SIGINT)
            bot.wait(30)
        refused = [c for c in emulator.rejected if c.method != "answerCallbackQuery"]
        assert not refused, refused[:3]
    result = Result(screens, len(pressed), rate, window_end - start, bot_cpu)
    if screens:
        # Every page's delays: the k-th press is shown by the first event counting k votes
        # more than at the start.
        first = votes_at_start(seen)
        for page in seen:
            result.delays += [
                next(t for t, count in page if count >= first + k) - at
                for k, at in enumerate(pressed, start=1)
            ]
        result.events = sum(1 for t, _ in seen[0] if t >= start)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="votes a second (Poisson)")
    parser.add_argument("--screens", type=int, nargs="+", default=[0, 1, 5])
    parser.add_argument("--seed", type=int, default=13)
    arguments = parser.parse_args()
    print(f"machine: {platform.machine()}, {_cpu()}, Python {platform.python_version()}")
    print(
        f"{arguments.participants} participants voting at {arguments.rate:g} votes/s "
        "(Poisson); the bot in its own process, the emulator, the people and the screens "
        "in this one\n"
    )
    print(
        "| screens open | voters | arrivals | vote → screen p50 | p95 | max "
        "| events per page | bot CPU per vote | vs no screen | window |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    baseline: float | None = None
    with tempfile.TemporaryDirectory() as folder:
        for screens in arguments.screens:
            result = asyncio.run(
                run_once(
                    arguments.participants,
                    screens,
                    arguments.rate,
                    Path(folder),
                    random.Random(arguments.seed),
                )
            )
            print(result.row(baseline), flush=True)
            if baseline is None:
                baseline = result.bot_cpu / result.participants * 1000


if __name__ == "__main__":
    main()
