"""How the agora's two hot paths scale: choosing the next statement, and casting a vote.

A workshop of P participants, each with two statements put to everyone (a request and a
commitment, as if the caucus had kept them all), where every participant has already voted
on half of the statements: the middle of a busy agora. Rows are seeded straight into
SQLite (quick to build); the measurements go through `AgoraService`, on a real file (WAL,
synchronous = FULL).

    .venv/bin/python -m bench.agora --participants 50 200 500

Reports per size: statements, votes stored, and the median and p95 time of
`next_offer` and of `vote` (a vote commits, with its update in the ledger).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from flows.agora import AgoraService
from flows.engine import JourneyEngine
from flows.journey_file import default_journey
from storage import participants
from storage.db import Database

SAMPLES = 200
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC).isoformat()


def seed(path: Path, size: int) -> int:
    """The busy agora, written in bulk; returns the number of votes stored."""
    categories = ("elu", "agent", "socio_eco", "etat")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO workshops (id, code, facilitator_code, title, journey_id, created_by,"
            " created_at, peers_opened_at, agora_opened_at, statements_made)"
            " VALUES (1, 'c', 'f', 'Bench', 'cooperation', 1, ?, ?, ?, ?)",
            (NOW, NOW, NOW, 2 * size),
        )
        conn.executemany(
            "INSERT INTO participants (id, workshop_id, user_id, category, language, state,"
            " joined_at, consented_at, finished_at) VALUES (?, 1, ?, ?, 'fr', 'done', ?, ?, ?)",
            [(p, 10_000 + p, categories[p % 4], NOW, NOW, NOW) for p in range(1, size + 1)],
        )
        conn.executemany(
            "INSERT INTO users (user_id, current_participant_id, updated_at) VALUES (?, ?, ?)",
            [(10_000 + p, p, NOW) for p in range(1, size + 1)],
        )
        statements = []
        for p in range(1, size + 1):
            for kind in ("request", "commitment"):
                number = len(statements) + 1
                statements.append(
                    (number, number, p, kind, categories[p % 4], f"{kind} {number}", NOW, NOW)
                )
        conn.executemany(
            "INSERT INTO statements (id, workshop_id, number, participant_id, kind,"
            " source_category, text, status, created_at, in_agora_at)"
            " VALUES (?, 1, ?, ?, ?, ?, ?, 'approved', ?, ?)",
            statements,
        )
        randomness = random.Random(size)
        votes = []
        for p in range(1, size + 1):
            others = [s[0] for s in statements if s[2] != p]
            for statement_id in randomness.sample(others, len(others) // 2):
                votes.append((statement_id, p, randomness.choice(("agree", "disagree", "pass"))))
        conn.executemany(
            "INSERT INTO votes (statement_id, participant_id, value, voted_at)"
            " VALUES (?, ?, ?, '" + NOW + "')",
            votes,
        )
    return len(votes)


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"{statistics.median(ordered) * 1000:.2f} ms | {p95 * 1000:.2f} ms"


async def measure(size: int) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "agora.sqlite3"
        db = await Database.open(path)
        await db.close()
        votes = seed(path, size)
        db = await Database.open(path)
        agora = AgoraService(db, JourneyEngine(default_journey()))
        randomness = random.Random(0)
        offers, casts = [], []
        for sample in range(SAMPLES):
            participant_id = randomness.randint(1, size)
            participant = await participants.get(db, participant_id=participant_id)
            assert participant is not None
            started = time.perf_counter()
            offer = await agora.next_offer(participant)
            offers.append(time.perf_counter() - started)
            assert offer is not None
            started = time.perf_counter()
            await agora.vote(
                user_id=participant.user_id,
                update_id=1_000_000 + sample,
                statement_id=offer.statement.id,
                value="agree",
            )
            casts.append(time.perf_counter() - started)
        await db.close()
    return f"| {size} | {2 * size} | {votes} | {summary(offers)} | {summary(casts)} |"


async def main(sizes: list[int]) -> None:
    print(
        f"Machine: {platform.machine()}, {platform.processor() or 'unknown CPU'}, "
        f"Python {platform.python_version()}"
    )
    print("| participants | statements | votes stored | next_offer p50 | p95 | vote p50 | p95 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in sizes:
        print(await measure(size), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, nargs="+", default=[50, 200, 500])
    asyncio.run(main(parser.parse_args().participants))
