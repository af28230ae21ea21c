"""One and two webhook workers on PostgreSQL against one coopbot process on a SQLite file,
under the same load: sustained answers a second and latency to the next question.

`python -m bench.workers [--participants 100] [--rounds 1] [--write]`

Each configuration runs the real `coopbot run` as processes of their own against the
emulator (in this process, with the participants), on a fresh database: a SQLite file
polled by one process; a PostgreSQL database (`--server`, by default the one on this
machine) behind one webhook address that the emulator spreads over one or two workers,
as a load balancer does. Participants answer phase 1 as fast as replies come (closed
loop). The bots' CPU is the sum of their processes', read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench.load import (
    FIRST_PARTICIPANT,
    ROOT,
    Load,
    Result,
    _closed_loop,
    _cpu,
    _setup,
    answers,
    bot_environment,
    cpu_seconds,
    joining,
    open_workshop,
    participant,
    peak_rss,
    start_bot,
    stop_bot,
    until,
    write,
)
from flows.journey_file import default_journey
from storage.postgres import scratch_database
from tgemu import BotApiEmulator

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PUBLIC = "https://bench.example.org"
CONFIGURATIONS = (
    ("SQLite file, polling", 0),
    ("PostgreSQL, webhook", 1),
    ("PostgreSQL, webhook", 2),
)
HEADING = "## One and two workers on PostgreSQL, one process on SQLite (`bench.workers`)"
METHOD = (
    "Each configuration runs `coopbot run` as processes of their own against the emulator "
    "(in the benchmark's process, with the participants), on a fresh database: a SQLite "
    "file polled by one process; a PostgreSQL database behind one webhook address that "
    "the emulator spreads over the workers in turn, as a load balancer does. Participants "
    "answer phase 1 as fast as replies come (closed loop), rate limits off. CPU is the sum "
    "of the bot processes'. Every write transaction takes the database's one write lock "
    "(serialised across workers), so a second worker adds handling, not writing."
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def measure(
    workers: int, participants: int, limit: float, folder: Path, server: str
) -> Result:
    """One configuration (0 workers: one polling process on a SQLite file)."""
    prompts = default_journey().live_prompts()
    categories = [c.label["fr"] for c in default_journey().categories]
    label = f"{workers} worker{'s' * (workers > 1)}" if workers else "SQLite"
    file = folder / f"bench-{time.monotonic_ns()}.sqlite3"
    async with (
        scratch_database(server, prefix="coopbot_bench_")
        if workers
        else _nothing(str(file)) as target,
        BotApiEmulator(webhook_retry_delay=0.2) as emulator,
    ):
        environment = bot_environment("coopbot", folder, file, limits=False)
        environment["COOPBOT_DB"] = target
        processes = []
        try:
            if workers:
                ports = [free_port() for _ in range(workers)]
                emulator.route_webhook(PUBLIC, [f"http://127.0.0.1:{port}" for port in ports])
                for port in ports:
                    extra = environment | {
                        "COOPBOT_WEBHOOK_URL": f"{PUBLIC}/telegram",
                        "COOPBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
                    }
                    processes.append(start_bot("coopbot", emulator, folder, extra))
                    # One after the other: the first creates the schema.
                    await until(partial(_registered, emulator, len(processes)), 60, "the webhook")
            else:
                processes.append(start_bot("coopbot", emulator, folder, environment))
                await emulator.wait_polling(60)
            code = await open_workshop(emulator)
            people = [participant(emulator, FIRST_PARTICIPANT + i) for i in range(participants)]
            setup = [
                joining("coopbot", prompts, code, categories[i % len(categories)])
                for i in range(len(people))
            ]
            await _setup(people, setup, limit)
            await emulator.wait_idle(quiet=0.3, timeout=120)
            scripts = [answers(prompts, i, False) for i in range(len(people))]
            result = Result(label, "closed", len(people))
            since = len(emulator.calls)
            cpu = sum(cpu_seconds(process.pid) for process, _ in processes)
            started = time.monotonic()
            replies = await _closed_loop(
                people, scripts, Load("closed", participants, limit), result
            )
            result.seconds = max(replies, default=started) - started
            await emulator.wait_idle(quiet=0.3, timeout=120)
            result.cpu = sum(cpu_seconds(process.pid) for process, _ in processes) - cpu
            result.rss = max(peak_rss(process.pid) for process, _ in processes)
            window = [c for c in emulator.calls[since:] if c.method != "getUpdates"]
            result.calls = Counter(c.method for c in window)
            result.refused = Counter(c.error_code or 0 for c in window if not c.ok)
        except BaseException:
            for process, log in processes:
                await stop_bot(process)
                sys.stderr.write(f"{label}: {log.name} ends with\n")
                sys.stderr.write("".join(log.read_text().splitlines(keepends=True)[-20:]))
            raise
        for process, _ in processes:
            await stop_bot(process)
    return result


def _registered(emulator: BotApiEmulator, workers: int) -> bool:
    """Whether `workers` workers have registered the webhook (each does at start)."""
    return sum(1 for call in emulator.calls if call.method == "setWebhook" and call.ok) >= workers


@asynccontextmanager
async def _nothing(value: str) -> AsyncIterator[str]:
    yield value


def table(results: Sequence[Result], baseline: Result) -> str:
    lines = [
        "| configuration | answers | answers/s | × SQLite | CPU ms/answer (all workers) "
        "| p50 ms | p95 ms | p99 ms | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        notes = f"{result.lost} lost" if result.lost else "—"
        lines.append(
            f"| {result.bot} | {result.answers} | {result.rate:.0f} "
            f"| {result.rate / baseline.rate if baseline.rate else float('nan'):.2f} "
            f"| {result.cpu_ms:.2f} | {result.percentile(0.5) * 1000:.0f} "
            f"| {result.percentile(0.95) * 1000:.0f} | {result.percentile(0.99) * 1000:.0f} "
            f"| {notes} |"
        )
    return "\n".join(lines)


async def run(participants: int, rounds: int, limit: float, server: str) -> list[Result]:
    """Every configuration, `rounds` times, alternating (the machine's drift shared)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="coopbot-workers-") as scratch:
        for _ in range(rounds):
            for label, workers in CONFIGURATIONS:
                result = await measure(workers, participants, limit, Path(scratch), server)
                print(f"{label:>22}  {table([result], result).splitlines()[-1]}", flush=True)
                results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--server", default=SERVER, help="a PostgreSQL server's address")
    parser.add_argument("--write", action="store_true", help="into docs/PERFORMANCE.md")
    arguments = parser.parse_args(argv)
    results = asyncio.run(
        run(arguments.participants, arguments.rounds, arguments.timeout, arguments.server)
    )
    baseline = next(r for r in results if r.bot == "SQLite")
    machine = f"{platform.machine()}, {_cpu()}, Python {platform.python_version()}"
    command = "python -m bench.workers " + " ".join(argv if argv is not None else sys.argv[1:])
    body = (
        f"Measured on {machine}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, with "
        f"`{command.strip()}`; {arguments.participants} participants, closed loop.\n\n"
        f"{table(results, baseline)}\n"
    )
    print(body)
    if arguments.write:
        write(ROOT / "docs" / "PERFORMANCE.md", body, heading=HEADING, method=METHOD)


if __name__ == "__main__":
    main()
