"""Time and peak memory of the synthesis (`flows.synthesis.synthesise`) as a workshop grows.

Every participant has answered every question of both phases (scales, choices, texts
in French or English, ticks, one request to each other category and one commitment)
and voted on 30 statements of the agora. Rows are built in memory, as `storage/` would
return them; each size runs in a fresh process so that its peak memory is its own.

    .venv/bin/python -m bench.synthesis --participants 200 2000 20000

Reports per size: rows, seconds for the synthesis alone, and the process's peak memory
(rows included).
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

from flows.journey_file import default_journey
from flows.synthesis import synthesise
from storage.models import Answer, Participant, Statement, Vote

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
VOTES_EACH = 30
FRENCH = "confiance temps cadre règles projets associations élus moyens réunions habitants"
ENGLISH = "trust time frame rules projects associations officials means meetings residents"
WORDS = {"fr": FRENCH.split(" "), "en": ENGLISH.split(" ")}


def rows(size: int) -> tuple[list[Participant], list[Answer], list[Statement], list[Vote]]:
    journey = default_journey()
    randomness = random.Random(size)
    categories = [c.id for c in journey.categories]
    people = [
        Participant(
            id=pid,
            workshop_id=1,
            user_id=pid,
            category=categories[pid % 4],
            language="en" if pid % 5 == 0 else "fr",
            state="done",
            joined_at=T0,
            consented_at=T0,
            finished_at=T0,
            paused_at=None,
        )
        for pid in range(1, size + 1)
    ]
    answers: list[Answer] = []
    statements: list[Statement] = []

    def sentence(language: str) -> str:
        return " ".join(randomness.choices(WORDS[language], k=12))

    for p in people:
        language, category = p.language, p.category or ""
        for prompt in [*journey.live_prompts(), *journey.peer_prompts(category)]:
            if prompt.kind == "scale":
                value = str(randomness.randint(1, 5))
            elif prompt.kind == "choice":
                value = randomness.choice(prompt.options).id
            elif prompt.kind == "multi":
                value = ",".join(o.id for o in randomness.sample(prompt.options, 2))
            elif prompt.kind == "text":
                value = sentence(language)
            else:
                statements.append(
                    Statement(
                        id=len(statements) + 1,
                        workshop_id=1,
                        number=len(statements) + 1,
                        participant_id=p.id,
                        kind=prompt.statement or "request",
                        source_category=category,
                        target_category=prompt.about,
                        question_id=prompt.id,
                        text=sentence(language),
                        status="approved",
                        created_at=T0,
                        in_agora_at=T0,  # put to everyone (the caucus is left aside here)
                    )
                )
                continue
            answers.append(Answer(p.id, prompt.id, value, T0, None))
    votes = [
        Vote(statement_id, p.id, randomness.choice(("agree", "disagree", "pass")), T0)
        for p in people
        for statement_id in randomness.sample(range(1, len(statements) + 1), VOTES_EACH)
    ]
    return people, answers, statements, votes


def one(size: int) -> None:
    people, answers, statements, votes = rows(size)
    started = time.perf_counter()
    synthesis = synthesise(default_journey(), people, answers, statements, votes)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert synthesis.statements
    total = len(answers) + len(statements) + len(votes)
    print(f"| {size:,} | {total:,} | {seconds:.2f} s | {peak_mb:.0f} MB |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        one(arguments.one)
        return
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}")
    print("| participants | rows | synthesis | peak memory |")
    print("| --- | --- | --- | --- |", flush=True)
    for size in arguments.participants:
        subprocess.run([sys.executable, "-m", "bench.synthesis", "--one", str(size)], check=True)


if __name__ == "__main__":
    main()
