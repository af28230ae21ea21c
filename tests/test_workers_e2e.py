"""Two webhook workers on one PostgreSQL database, one of them killed (SIGKILL) half way
and started again, while 40 participants go through the workshop: every answer, statement
and vote is stored once, everyone finishes, the reminder the organiser scheduled at the
start reaches each participant once, and the synthesis is the one a single process on a
SQLite file makes of the same script.

The workers are `coopbot run` as in production (processes of their own, on a database of
their own on the server), behind the emulator's stand-in for the load balancer, which
posts the updates to one worker, then the other. The script is `test_crash_e2e.py`'s
(onboarding, phase 1, phase 2 with 30 statements) with every phase after it: the review
(the organiser approves each statement), the caucus (each group chooses among its
members' statements, votes given from the statements' texts so that no two tie), then
the agora's votes on what the groups chose. One kill: in the middle round of phases 1
and 2, a seeded fraction of a second after the round's updates were sent
(`COOPBOT_CRASH_SEED` to replay it), before anyone writes a statement (so that each one's
batch for review must reach the organiser once). The updates the killed worker held
unanswered fail and Telegram (the emulator) posts them again, to the other worker or to
the first once it is back; half of the round's updates are delivered again as well,
handled or not, as after any failure. Then the same script, without the kill, against one
`coopbot run` polling a SQLite file; both workshops are exported (`coopbot export`) and
their files compared.

The reminder (`/remind <code> +1min ...`, the shortest delay, scheduled right after the
workshop is created, so stored before the kill by whichever worker took the command) is
due once phases 1 and 2 are over, during the caucus, the agora or after them, and is sent
by whichever worker claims it. Not during phases 1 and 2: arriving then, it would be the
newest message a participant reads their reply from (phases 1 and 2 take half that
minute here). The kill is never while it is being sent (see `Workers.kill`).
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import io
import logging
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.export import pseudonym
from flows.journey_file import default_journey
from reports.text import number, translator
from storage.models import Workshop
from tests.conftest import START_LINK
from tests.helpers import VOTE_LABELS
from tests.test_agora_e2e import ballot, offered
from tests.test_crash_e2e import (
    ORGANISER,
    SEED,
    Act,
    Bot,
    Check,
    Crashes,
    Person,
    Restartable,
    Seen,
    agora_authors,
    assert_acknowledged_once,
    assert_agora_votes_once,
    command,
    plan_onboarding,
    plan_phase_one,
    plan_phase_two,
    play,
    stored_rows,
    until,
)
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import SentMessage

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SIZE = 40
STATEMENTS = 30  # written in phase 2 (`plan_phase_two`), all approved
# Put to the agora by the groups: two requests of each of the two groups that wrote any
# (each to one other group), three commitments of the one that wrote some.
CHOSEN = 2 + 2 + 3
CAUCUS_DATA = re.compile(r"^cv:(\d+):([adp])$")
STATEMENT = re.compile(r"(?:request|commitment) n°\d+ ")  # how `plan_phase_two` writes them
FIRST_ID = 31_000
PUBLIC = "https://workers.example.org"
FR = translator("fr")
REMINDER_WORDS = "Pensez à garder une heure"  # how the reminder is told from other messages
REMINDER = REMINDER_WORDS + " pour l'agora <b>& à ce soir</b>"  # escaped when sent
REMINDER_DELAY = 60.0  # seconds: "+1min", the shortest delay /remind reads
VOTES = ("agree", "disagree", "pass", "agree")
STAMPED = {"number", "created_at"}  # statements.csv's columns that follow arrival and the clock


@pytest.fixture(autouse=True)
def bots_never_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scripted participants answer faster than people (no flood control), and the
    reminder is due whatever the hour the test runs at (no quiet hours)."""
    monkeypatch.setenv("COOPBOT_FLOOD_LIMIT", "off")
    monkeypatch.setenv("COOPBOT_QUIET_HOURS", "off")


# -- the reminder -------------------------------------------------------------------


@dataclass
class Reminder:
    """The reminder scheduled at the start: when it falls due, and who received it."""

    emulator: BotApiEmulator
    chats: set[int]
    due: float = 0.0  # time.monotonic() when it falls due (a little before, in fact)

    def received(self) -> Counter[int]:
        """How many times each participant was sent it (calls Telegram answered)."""
        return Counter(
            int(call.params["chat_id"])
            for call in self.emulator.calls
            if call.method == "sendMessage"
            and call.ok
            and int(call.params["chat_id"]) in self.chats
            and REMINDER_WORDS in str(call.params.get("text", ""))
        )

    def being_sent(self) -> bool:
        """From a little before it is due until every participant has it: the outbox
        wakes every second, so a worker may claim it from the moment it is due."""
        return time.monotonic() >= self.due - 3.0 and len(self.received()) < len(self.chats)

    async def schedule(self, organiser: EmulatedUser, code: str) -> None:
        """/remind with the shortest delay, then "Schedule" on its preview (its target,
        everyone, is the preview's default)."""
        self.due = time.monotonic() + REMINDER_DELAY
        await command(self.emulator, organiser, f"/remind {code} +1min {REMINDER}")
        await organiser.press("⏰ " + FR("Schedule"))
        cancel = "✖ " + FR("Cancel this reminder")
        await until(lambda: any(cancel in m.labels for m in organiser.messages), 30)
        await self.emulator.wait_idle(timeout=30)


# -- the workers ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_worker(
    emulator: BotApiEmulator, database: str, port: int, log_file: Path
) -> subprocess.Popen[bytes]:
    """One `coopbot run` in webhook mode, as in production, in a process of its own."""
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "COOPBOT_DB": database,
        "COOPBOT_ORGANISERS": str(ORGANISER),
        "COOPBOT_MESSAGES_PER_SECOND": "1000",
        "COOPBOT_WEBHOOK_URL": f"{PUBLIC}/telegram",
        "COOPBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
    }
    with log_file.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@dataclass
class Workers:
    """Two `coopbot run` webhook workers on one database, each on a port of its own behind
    the emulator's route; `kill` kills the first, `start` starts whichever is down, on its
    own port again."""

    emulator: BotApiEmulator
    database: str
    folder: Path
    reminder: Reminder
    ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: int = 0
    killed_at: float | None = None  # time.monotonic() of the kill

    def __post_init__(self) -> None:
        self.emulator.route_webhook(PUBLIC, [f"http://127.0.0.1:{port}" for port in self.ports])

    async def start(self) -> None:
        """Start each worker that is down, one after the other (the first to start makes
        the schema), and return once each has registered the webhook: it listens then."""
        for port in self.ports:
            if port in self.processes:
                continue
            registered = self._registrations()
            self.starts += 1
            log_file = self.folder / f"worker-{self.starts}.log"
            self.processes[port] = start_worker(self.emulator, self.database, port, log_file)
            await until(lambda: self._registrations() > registered, 60)  # noqa: B023

    def _registrations(self) -> int:
        return sum(1 for c in self.emulator.calls if c.method == "setWebhook" and c.ok)

    async def kill(self) -> None:
        """SIGKILL the first worker. Never while the reminder is being sent: a message
        Telegram may have shown before the sender died cannot be known sent, so the worker
        that takes the send over sends it again, marked possibly received twice; exactly
        once across a kill in the middle of a send cannot be had from Telegram's API. The
        script puts the kill long before the reminder is due; on a machine slow enough to
        reach it then, the kill waits for the send to end."""
        if self.reminder.being_sent():
            log.warning("the reminder is being sent: the kill waits for it")
            await until(lambda: not self.reminder.being_sent(), 60)
        process = self.processes.pop(self.ports[0])
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        self.killed_at = time.monotonic()
        await asyncio.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops a worker: each finishes what it holds."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            process.wait(30)
        self.processes.clear()

    def leads(self, start: int) -> bool:
        """Whether the worker of that start (1: the first) said it took the lead."""
        log_file = self.folder / f"worker-{start}.log"
        return "this worker now leads the others" in log_file.read_text()

    def errors(self) -> list[str]:
        """Lines the workers logged at ERROR."""
        return [
            line
            for path in sorted(self.folder.glob("worker-*.log"))
            for line in path.read_text().splitlines()
            if " ERROR " in line
        ]


# -- the script -----------------------------------------------------------------------


def vote_by_text(texts: dict[int, str]) -> Callable[[Person], bool]:
    """Plans each participant's vote on the statement their agora message offers, chosen
    by its text (statement ids follow arrival order, which differs from run to run);
    False once nothing is offered any more."""

    def plan(person: Person) -> bool:
        message = ballot(person.user)
        statement = offered(message) if message is not None else None
        if message is None or statement is None:
            return False
        assert statement not in person.votes, (person.user.id, statement, person.history)
        value = VOTES[zlib.crc32(f"{person.user.id} {texts[statement]}".encode()) % 4]

        def moved_on(user: EmulatedUser, before: Seen) -> bool:
            now = ballot(user)
            return now is None or offered(now) != statement

        def record() -> None:
            person.votes[statement] = value

        label = VOTE_LABELS[person.language][value]
        person.acts.append(Act("press", label, moved_on, record, message=message))
        return True

    return plan


def shown_for_review(emulator: BotApiEmulator) -> Counter[str]:
    """How many times each statement was in a batch sent to the organiser for review."""
    return Counter(
        found
        for call in emulator.calls
        if call.method == "sendMessage" and call.ok and int(call.params["chat_id"]) == ORGANISER
        for found in STATEMENT.findall(str(call.params.get("text", "")))
    )


def thanked(end: str) -> Check:
    """Phase 2 is over: its last screen thanked them (their caucus message may follow)."""
    return lambda user, before: any(end in (m.text or "") for m in user.messages)


def caucus_statement(user: EmulatedUser) -> tuple[SentMessage, int] | None:
    """The participant's caucus message and the statement it puts to the vote, if any."""
    for message in reversed(user.messages):
        for row in message.buttons:
            for _, data in row:
                if match := CAUCUS_DATA.match(data or ""):
                    return message, int(match.group(1))
    return None


def caucus_plan(database: str) -> dict[tuple[int, int], str]:
    """How each member votes on each statement of their group, from the statements' texts
    only (their ids and numbers follow arrival order): in a pool of statements (a group's
    requests to one other group, or its commitments), ranked by text, the r-th is agreed
    with by all but r of the others, the rest pass, and the last three are disagreed with
    by the rest instead. No two statements of a pool tie, so the group's choice is the
    same whatever order they came in."""
    found = stored_rows(
        database,
        "SELECT s.id, s.kind, s.target_category, coalesce(s.written, s.text), p.user_id,"
        " p.category FROM statements s JOIN participants p ON p.id = s.participant_id",
    )
    members: dict[str, list[int]] = {}
    for user_id, category in stored_rows(database, "SELECT user_id, category FROM participants"):
        members.setdefault(category, []).append(user_id)
    pools: dict[tuple[str, str, str | None], list[tuple[str, int, int]]] = {}
    for statement, kind, target, text, author, category in found:
        about = target if kind == "request" else None
        pools.setdefault((category, kind, about), []).append((text, statement, author))
    plan = {}
    for (category, _, _), pool in pools.items():
        for rank, (_, statement, author) in enumerate(sorted(pool)):
            others = sorted(u for u in members[category] if u != author)
            for place, voter in enumerate(others):
                if place < len(others) - rank:
                    value = "agree"
                else:
                    value = "disagree" if rank >= len(pool) - 3 else "pass"
                plan[(voter, statement)] = value
    return plan


def most_agreed(database: str) -> set[int]:
    """What the groups put to the agora under `caucus_plan`: in each pool, the first by
    text, as many as a group keeps (requests to each other group, commitments)."""
    ((keep, commitments),) = stored_rows(
        database, "SELECT caucus_keep, caucus_commitments FROM workshops"
    )
    pools: dict[tuple[str, str, str | None], list[tuple[str, int]]] = {}
    for statement, kind, target, text, category in stored_rows(
        database,
        "SELECT s.id, s.kind, s.target_category, coalesce(s.written, s.text), p.category"
        " FROM statements s JOIN participants p ON p.id = s.participant_id",
    ):
        pools.setdefault((category, kind, target if kind == "request" else None), []).append(
            (text, statement)
        )
    return {
        statement
        for (_, kind, _), pool in pools.items()
        for _, statement in sorted(pool)[: keep if kind == "request" else commitments]
    }


def vote_in_caucus(
    planned: dict[tuple[int, int], str], recorded: dict[int, dict[int, str]]
) -> Callable[[Person], bool]:
    """Plans each member's vote on the statement their caucus message shows; False once it
    shows none."""

    def plan(person: Person) -> bool:
        shown = caucus_statement(person.user)
        if shown is None:
            return False
        message, statement = shown
        votes = recorded.setdefault(person.user.id, {})
        assert statement not in votes, (person.user.id, statement, person.history)
        value = planned[(person.user.id, statement)]

        def moved_on(user: EmulatedUser, before: Seen) -> bool:
            now = caucus_statement(user)
            return now is None or now[1] != statement

        def record() -> None:
            votes[statement] = value

        label = VOTE_LABELS[person.language][value]
        person.acts.append(Act("press", label, moved_on, record, message=message))
        return True

    return plan


@dataclass
class Outcome:
    """What one run leaves for the checks: its workshop's code and its participants."""

    code: str
    people: list[Person]
    caucus_votes: dict[int, dict[int, str]]  # user id -> statement id -> value seen taken


async def run_workshop(
    bot: Restartable, database: str, reminder: Reminder, *, kill: bool
) -> Outcome:
    """The whole script, from /newsession to the last vote and the reminder received; one
    kill in the middle round of phases 1 and 2 when `kill`."""
    emulator, journey = bot.emulator, default_journey()
    organiser = emulator.user(ORGANISER, first_name="Org", language_code="fr")
    await command(emulator, organiser, "/newsession Atelier à deux voix", 2)
    links = [m.text or "" for m in organiser.messages if "start=" in (m.text or "")]
    code = START_LINK.findall(links[-2])[0]
    await reminder.schedule(organiser, code)

    people = []
    for index in range(SIZE):
        language = "en" if index % 3 == 2 else "fr"
        user = emulator.user(FIRST_ID + index, language_code=language)
        person = Person(user, language, journey.categories[index % 4].id)
        plan_onboarding(person, journey, code)
        plan_phase_one(person, journey)
        plan_phase_two(person, journey, index)
        # Done with phase 2, they are thanked, then handed their group's caucus message.
        end = translator(language)("Thank you, you have answered every question.")
        person.acts[-1].done = thanked(end)
        people.append(person)
    randomness = random.Random(SEED)
    rounds = min(len(p.acts) for p in people)
    kills = {rounds // 2: randomness.uniform(0.0, 0.4)} if kill else {}
    # The kill comes before anyone writes a statement (round n sends each one's n-th act):
    # no batch for review is being shown then, so each must reach the organiser once.
    writes = [n + 1 for p in people for n, act in enumerate(p.acts) if STATEMENT.match(act.value)]
    assert all(number < min(writes) for number in kills)
    began = time.monotonic()
    made = await play(bot, people, Crashes(randomness), kills, lambda person: False)
    print(f"phases 1 and 2: {time.monotonic() - began:.0f} s")
    assert made == (1 if kill else 0)
    # Phases 1 and 2 are over before the reminder is due: it reaches nobody mid-question
    # (where a participant would take it for the bot's reply to their input).
    assert reminder.received() == Counter(), "the reminder came during phases 1 and 2"

    # The review: the statements reached the organiser, who facilitates, in batches, each
    # once whichever worker showed it; the organiser approves each by its number (the
    # batches are left as they are).
    numbers = [n for (n,) in stored_rows(database, "SELECT number FROM statements ORDER BY number")]
    assert len(numbers) == STATEMENTS
    await until(lambda: len(shown_for_review(emulator)) == STATEMENTS, 30)
    await emulator.wait_idle(timeout=30)
    assert shown_for_review(emulator) == Counter(dict.fromkeys(shown_for_review(emulator), 1))
    for statement_number in numbers:
        await organiser.send(f"/approve {statement_number} {code}")
    approved = "SELECT COUNT(*) FROM statements WHERE status = 'approved'"
    await until(lambda: stored_rows(database, approved) == [(STATEMENTS,)], 60)
    await emulator.wait_idle(timeout=60)

    # The caucus: each member votes on the others' statements of their group, on one
    # message edited in place, until it shows nothing more.
    texts = dict(stored_rows(database, "SELECT id, coalesce(written, text) FROM statements"))
    planned = caucus_plan(database)
    caucus_votes: dict[int, dict[int, str]] = {}
    began = time.monotonic()
    await play(bot, people, Crashes(randomness), {}, vote_in_caucus(planned, caucus_votes))
    print(f"the caucus: {time.monotonic() - began:.0f} s")

    await command(emulator, organiser, f"/agora {code}")
    await until(lambda: all(ballot(p.user) is not None for p in people), 60)
    await emulator.wait_idle(timeout=60)
    began = time.monotonic()
    await play(bot, people, Crashes(randomness), {}, vote_by_text(texts))
    print(f"the agora: {time.monotonic() - began:.0f} s")

    # The reminder, due meanwhile or soon: each participant gets it, then the organiser
    # its report.
    await until(lambda: len(reminder.received()) == SIZE, REMINDER_DELAY + 60)
    done = FR("Done: {sent} of {total} sent.").format(
        sent=number(SIZE, "fr"), total=number(SIZE, "fr")
    )
    await until(lambda: any(done in (m.text or "") for m in organiser.messages), 30)
    await emulator.wait_idle(quiet=1.5, timeout=30)  # nothing more comes (one tick after)
    return Outcome(code, people, caucus_votes)


# -- the checks -----------------------------------------------------------------------


def assert_stored_once(database: str, outcome: Outcome) -> None:
    """Exactly what each participant saw acknowledged, nothing doubled, everyone at the
    end with a vote in the caucus on every other statement of their group, and in the
    agora on every statement but their own (as `test_crash_e2e.py`); the groups chose
    what `caucus_plan` makes them choose."""
    people = outcome.people
    assert_acknowledged_once(database, people, statements=STATEMENTS, size=SIZE)
    in_agora = agora_authors(database)
    assert len(in_agora) == CHOSEN
    # The caucus: each member's votes as they saw them taken, once each, on every statement
    # of their group but their own; and the groups chose the most agreed with.
    planned = caucus_plan(database)
    caucus: dict[int, dict[int, str]] = {}
    for user_id, statement, value, author in stored_rows(
        database,
        "SELECT p.user_id, v.statement_id, v.value, a.user_id FROM caucus_votes v"
        " JOIN participants p ON p.id = v.participant_id"
        " JOIN statements s ON s.id = v.statement_id"
        " JOIN participants a ON a.id = s.participant_id",
    ):
        assert statement not in caucus.setdefault(user_id, {})
        if author == user_id:  # writing it was agreeing with it, stored for them
            assert value == "agree"
            continue
        caucus[user_id][statement] = value
    for person in people:
        uid = person.user.id
        mine = {s: v for (voter, s), v in planned.items() if voter == uid}
        assert caucus.get(uid, {}) == outcome.caucus_votes.get(uid, {}) == mine, uid
    assert set(in_agora) == most_agreed(database)
    assert_agora_votes_once(database, people, in_agora)


def assert_reminder_once(database: str, reminder: Reminder) -> None:
    """Each participant was sent the reminder once, on time, and its deliveries say so."""
    assert reminder.received() == Counter(dict.fromkeys(reminder.chats, 1))
    deliveries = stored_rows(
        database,
        "SELECT d.user_id, d.status, d.doubled, d.late FROM deliveries d"
        " JOIN mailings m ON m.id = d.mailing_id WHERE m.kind = 'reminder'",
    )
    assert sorted(user for user, *_ in deliveries) == sorted(reminder.chats)
    assert {(status, doubled, late) for _, status, doubled, late in deliveries} == {("sent", 0, 0)}


def assert_nothing_refused(emulator: BotApiEmulator) -> None:
    """Only edits that found the message as they would leave it (an edit the kill
    interrupted may have been made already)."""
    refused = [c for c in emulator.rejected if c.method != "answerCallbackQuery"]
    assert [c for c in refused if "message is not modified" not in (c.error or "")] == []


def export(database: str, code: str, folder: Path) -> dict[str, str]:
    """`coopbot export`'s answers.csv, statements.csv and synthesis.md, by name."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COOPBOT_", "TELEGRAM_"))
    }
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "export", code, "--out", str(folder)],
        env=environment | {"COOPBOT_DB": database},
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return {
        name: (folder / name).read_text()
        for name in ("answers.csv", "statements.csv", "synthesis.md")
    }


def who_is_who(database: str) -> dict[str, str]:
    """Each participant's pseudonym in the export, and who they are (their Telegram id,
    the same in both runs): pseudonyms are keyed by the workshop's own secret and the
    participant's row id, which two workshops never share."""
    ((workshop_id, code, facilitator_code, export_key),) = stored_rows(
        database, "SELECT id, code, facilitator_code, export_key FROM workshops"
    )
    workshop = Workshop(
        id=workshop_id,
        code=code,
        facilitator_code=facilitator_code,
        title="",
        journey_id="",
        created_by=ORGANISER,
        created_at=datetime.now(UTC),
        closed_at=None,
        export_key=export_key,
    )
    return {
        pseudonym(workshop, participant_id): f"user {user_id}"
        for participant_id, user_id in stored_rows(database, "SELECT id, user_id FROM participants")
    }


def table_by_content(table: str, people: dict[str, str], dropped: set[str]) -> list[tuple]:
    """A CSV's rows, sorted, with each pseudonym replaced by who it stands for, the
    `dropped` columns left out, and the step of a vote (the statement's number)
    blanked; the header first."""
    reader = csv.DictReader(io.StringIO(table))
    header = [name for name in reader.fieldnames or () if name not in dropped]
    found = []
    for row in reader:
        row["participant"] = people[row["participant"]]
        if row.get("phase") in ("agora", "caucus"):
            row["step"] = "·"
        found.append(tuple(row[name] for name in header))
    return [tuple(header), *sorted(found)]


# The synthesis's table of statements: `| 12 | Demande | ...`.
NUMBERED_ROW = re.compile(r"^\| \d+ \|")


def synthesis_by_content(text: str) -> str:
    """synthesis.md with its statements' numbers left out and their rows sorted:
    statements are numbered in the order they came (by kind), which two runs of the same
    script need not share. Nothing else is touched."""
    lines, run = [], []
    for line in [*text.splitlines(), ""]:
        if NUMBERED_ROW.match(line):
            run.append("| · |" + line.split("|", 2)[2])
            continue
        lines += [*sorted(run), line]
        run = []
    return "\n".join(lines)


# -- the test -------------------------------------------------------------------------


async def test_two_workers_one_killed_make_the_synthesis_of_one_process(
    tmp_path: Path, server_database: str
) -> None:
    started = time.monotonic()
    print(f"crash test seed: {SEED} (COOPBOT_CRASH_SEED={SEED} replays the kill's moment)")
    chats = set(range(FIRST_ID, FIRST_ID + SIZE))

    # Two workers on PostgreSQL, one killed half way.
    (tmp_path / "workers").mkdir()
    async with BotApiEmulator(webhook_retry_delay=0.2, webhook_timeout=30.0) as emulator:
        reminder = Reminder(emulator, chats)
        workers = Workers(emulator, server_database, tmp_path / "workers", reminder)
        try:
            await workers.start()
            outcome = await run_workshop(workers, server_database, reminder, kill=True)
        finally:
            workers.stop()
        assert workers.starts == 3
        assert not any(c.method == "getUpdates" for c in emulator.calls)
        assert_stored_once(server_database, outcome)
        assert_reminder_once(server_database, reminder)
        assert_nothing_refused(emulator)
        assert workers.errors() == []
        # The first worker led from its start; killed, it left the lead to one other: the
        # one still running or the one started again, whichever asked first.
        assert workers.leads(1)
        assert [workers.leads(2), workers.leads(3)] in ([True, False], [False, True])
        # Both workers took their share; the killed one left updates unanswered, posted
        # again; started again, it took its share again.
        assert {d.target for d in emulator.deliveries} == {
            f"http://127.0.0.1:{port}" for port in workers.ports
        }
        failed = [d for d in emulator.deliveries if not d.ok]
        print("deliveries failed by the kill (and made again):", len(failed))
        assert failed
        first, killed_at = f"http://127.0.0.1:{workers.ports[0]}", workers.killed_at
        assert killed_at is not None
        assert any(
            d.ok and d.target == first and d.started > killed_at for d in emulator.deliveries
        )
    exported = export(server_database, outcome.code, tmp_path / "export-workers")
    print(f"two workers: {time.monotonic() - started:.0f} s")

    # The same script, one process polling a SQLite file, no kill.
    (tmp_path / "single").mkdir()
    database = tmp_path / "single" / "coopbot.sqlite3"
    async with BotApiEmulator() as emulator:
        reminder = Reminder(emulator, chats)
        bot = Bot(emulator, database, tmp_path / "single")
        try:
            await bot.start()
            single = await run_workshop(bot, str(database), reminder, kill=False)
        finally:
            bot.stop()
        assert_stored_once(str(database), single)
        assert_reminder_once(str(database), reminder)
        assert_nothing_refused(emulator)
        assert bot.errors() == []
    expected = export(str(database), single.code, tmp_path / "export-single")
    print(f"both runs: {time.monotonic() - started:.0f} s")

    # The same participants made the same inputs: the same files, but for what must
    # differ between two workshops: the pseudonyms (keyed by each workshop's secret), the
    # minute things were stored at (`answered_at`, `created_at`), the statements' numbers
    # (the order they came in), and the order of the rows (the same).
    workers_people, single_people = who_is_who(server_database), who_is_who(str(database))
    for name, dropped in (("answers.csv", {"answered_at"}), ("statements.csv", STAMPED)):
        assert table_by_content(exported[name], workers_people, dropped) == table_by_content(
            expected[name], single_people, dropped
        ), name
    # The synthesis, last: where it differs, the lines that do.
    ours, theirs = (synthesis_by_content(e["synthesis.md"]) for e in (exported, expected))
    difference = difflib.unified_diff(
        theirs.splitlines(), ours.splitlines(), "one process", "two workers", lineterm="", n=1
    )
    assert ours == theirs, "\n".join(list(difference)[:60])
