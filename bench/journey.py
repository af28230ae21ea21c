"""How fast a room of participants gets through the journey, end to end.

N participants join at once and answer every live prompt (buttons and texts) against
the Bot API emulator, through the real Application and a real SQLite file. Each action
waits for its own reply, as a person on a phone does. The emulator can add a round-trip
latency to every Bot API call, as Telegram's servers do.

    .venv/bin/python -m bench.journey --participants 60 --latency 0.05

Reports, per mode (updates of different chats handled concurrently, or one by one):
wall time, answers committed per second, the latency of one action (from the update
being queued to the next question reaching the participant), p50 and p95, and the CPU
time per answer (bot and emulator together, one process).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application, is_handling_updates, running
from bot.settings import Settings
from flows.journey import Journey
from flows.journey_file import default_journey
from tgemu import BotApiEmulator, EmulatedUser

ORGANISER_ID = 1
START_LINK = "start="


@dataclass
class Result:
    mode: str
    participants: int
    seconds: float
    answers: int
    latencies: list[float]
    cpu_seconds: float

    def row(self) -> str:
        ordered = sorted(self.latencies)
        p95 = ordered[int(0.95 * (len(ordered) - 1))]
        return (
            f"| {self.mode} | {self.participants} | {self.seconds:.1f} s "
            f"| {self.answers / self.seconds:.0f} | {statistics.median(ordered) * 1000:.0f} ms "
            f"| {p95 * 1000:.0f} ms | {self.cpu_seconds / self.answers * 1000:.1f} ms |"
        )


async def _act(
    user: EmulatedUser, action: str, value: str, latencies: list[float], *, sent: bool = False
) -> None:
    """One action, timed until the next question shows: edited into the pressed message,
    or (`sent`, and for any typed answer) sent as a new one."""
    before, count = user.changes, len(user.messages)
    started = time.monotonic()
    if action == "press":
        await user.press(value)
    else:
        await user.send(value)
    async with asyncio.timeout(60):
        if sent or action != "press":
            await user.wait_for_messages(count + 1)
        else:
            await user.wait_for_change(before)
    latencies.append(time.monotonic() - started)


async def _participant(
    user: EmulatedUser, journey: Journey, code: str, index: int, latencies: list[float]
) -> int:
    category = journey.categories[index % len(journey.categories)].label["fr"]
    await _act(user, "send", f"/start {code}", latencies)
    # The terms stay readable, marked agreed: the category question comes below them.
    await _act(user, "press", "✅ J'accepte", latencies, sent=True)
    for label in (category, "Français"):
        await _act(user, "press", label, latencies)
    for number, prompt in enumerate(journey.live_prompts()):
        if prompt.kind == "scale":
            await _act(user, "press", str(1 + (index + number) % 5), latencies)
        elif prompt.kind == "choice":
            await _act(
                user, "press", prompt.options[index % len(prompt.options)].label["fr"], latencies
            )
        else:
            await _act(user, "send", f"Réflexion {index}-{number} sur la coopération.", latencies)
    return len(journey.live_prompts())


async def run_once(participants: int, latency: float, concurrent: bool, folder: Path) -> Result:
    journey = default_journey()
    async with BotApiEmulator(latency=latency) as emulator:
        settings = Settings(
            token=emulator.token,
            api_base_url=emulator.base_url,
            database=str(folder / f"bench-{concurrent}-{participants}.sqlite3"),
            organisers=frozenset({ORGANISER_ID}),
        )
        application = build_application(settings, max_concurrent_updates=64 if concurrent else 1)
        emulator.watch(lambda: is_handling_updates(application))
        async with running(application):
            organiser = emulator.user(ORGANISER_ID, language_code="fr")
            await organiser.send("/newsession Banc d'essai")
            await emulator.wait_idle(quiet=0.05)
            link = next(m.text or "" for m in organiser.messages if START_LINK in (m.text or ""))
            code = link.split(START_LINK, 1)[1].split()[0]
            latencies: list[float] = []
            started = time.monotonic()
            cpu_started = time.process_time()
            answered = await asyncio.gather(
                *(
                    _participant(
                        emulator.user(10_000 + i, language_code="fr"), journey, code, i, latencies
                    )
                    for i in range(participants)
                )
            )
            seconds = time.monotonic() - started
            cpu_seconds = time.process_time() - cpu_started
        assert not emulator.rejected, emulator.rejected[:3]
    return Result(
        "concurrent per chat" if concurrent else "one update at a time",
        participants,
        seconds,
        sum(answered),
        latencies,
        cpu_seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--latency", type=float, default=0.05, help="Bot API round trip, seconds")
    arguments = parser.parse_args()
    print(f"machine: {platform.machine()}, {_cpu()}, Python {platform.python_version()}")
    print(f"Bot API latency: {arguments.latency * 1000:.0f} ms per call\n")
    print(
        "| mode | participants | wall time | answers/s | action p50 | action p95 | CPU per answer |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for count in arguments.participants:
            for concurrent in (True, False):
                result = asyncio.run(run_once(count, arguments.latency, concurrent, Path(folder)))
                print(result.row(), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of the process: {peak:.0f} MB")


def _cpu() -> str:
    try:
        cores = len(
            [
                line
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("processor")
            ]
        )
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        return f"{cores} cores ({model})"
    except (OSError, StopIteration):
        return "unknown CPU"


if __name__ == "__main__":
    main()
