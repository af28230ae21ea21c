"""The bot killed (SIGKILL) at random moments while 40 participants go through phases 1 to
3, and started again each time: at the end the stored answers, statements and votes are
exactly those the participants saw acknowledged, none doubled, and everyone finished.

The bot runs as in production (`python -m bot.cli run`, a process of its own, a real
SQLite file) against the emulator, which keeps every update the bot has not confirmed
and hands it out again after a restart, as Telegram does. The workshop has review and
caucus off (`/review off`, `/caucus off`): every statement goes to the agora as written,
which keeps the script to the participants' own inputs. Participants act in lockstep
rounds (one tap or message each, then the bot answers all of them); in some rounds,
chosen by a seeded generator (`COOPBOT_CRASH_SEED` to replay one), the bot is killed a
random fraction of a second after the round's updates were sent, and started again; then
half of that round's updates (chosen by the same generator) are delivered again, as
Telegram does with those the bot had not confirmed, handled or not. A participant who
did not see their input acknowledged sends it again (the same button on the same
message, the same text); one who saw it taken but not what comes next sends
/resume, as a person would.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

from bench.broadcast import start_bot
from bot.views.prompts import list_added_text
from flows.engine import DONE
from flows.journey import Journey
from flows.journey_file import default_journey
from reports.text import translator
from tests import stored
from tests.conftest import START_LINK
from tests.helpers import (
    CONSENT_LABEL,
    DONE_LABEL,
    LANGUAGE_LABEL,
    VOTE_LABELS,
    peer_prompt_text,
    reflection,
)
from tests.test_agora_e2e import ballot, offered, vote_for
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import SentMessage

log = logging.getLogger(__name__)

ORGANISER = 500
SIZE = 40
FIRST_ID = 30_000
KILLS = 6  # four while phases 1 and 2 are answered, two during the agora's votes
SEED = int(os.environ.get("COOPBOT_CRASH_SEED", "20261201"))
MOST_TRIES = 4  # inputs sent for one step before the participant gives up (a bug)


@dataclass(frozen=True)
class Seen:
    """The chat as it was just before an input: to tell whether the bot reacted to it."""

    last_id: int
    messages: tuple[tuple[int, str, tuple[str, ...]], ...]
    callback_answers: int


def seen(user: EmulatedUser) -> Seen:
    return Seen(
        user.messages[-1].message_id if user.messages else 0,
        tuple((m.message_id, m.text or "", tuple(m.labels)) for m in user.messages),
        len(user.callback_answers),
    )


def reacted(user: EmulatedUser, before: Seen) -> bool:
    """Whether the bot showed anything since `before` (it only does once the input is
    committed): a message, an edit, an answer to the button."""
    return seen(user) != before


Check = Callable[[EmulatedUser, Seen], bool]


def last_text(user: EmulatedUser) -> str:
    return (user.messages[-1].text or "") if user.messages else ""


def last_labels(user: EmulatedUser) -> list[str]:
    return user.messages[-1].labels if user.messages else []


def showing(text: str) -> Check:
    """The newest message shows `text` (the next question, the end of a phase)."""
    return lambda user, before: text in last_text(user)


def shown_again(text: str) -> Check:
    """A newer message than before shows `text` (a step presented again, as it stays)."""
    return lambda user, before: seen(user).last_id > before.last_id and text in last_text(user)


def ticked(label: str) -> Check:
    return lambda user, before: "☑️ " + label in last_labels(user)


@dataclass
class Act:
    """One tap or message, sent again until the participant sees it acknowledged."""

    kind: str  # "press" (a button, by label) or "send" (a text)
    value: str
    done: Check
    record: Callable[[], None] = lambda: None
    message: SentMessage | None = None  # the message the button is on (found at first press)
    data: str | None = None


@dataclass
class Person:
    user: EmulatedUser
    language: str
    category: str
    acts: list[Act] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    statements: Counter[tuple[str, str | None, str]] = field(default_factory=Counter)
    votes: dict[int, str] = field(default_factory=dict)
    pending: Act | None = None
    before: Seen | None = None
    resume: bool = False
    tries: int = 0
    resends: int = 0
    resumes: int = 0
    history: list[str] = field(default_factory=list)  # what happened, for a failure's message
    sent: int = 0  # the update_id of the last input

    async def act(self) -> bool:
        """Send the next input (or the last one again, or /resume); False if none is due."""
        if self.pending is None:
            if not self.acts:
                return False
            self.pending = self.acts.pop(0)
        act, user = self.pending, self.user
        self.before = seen(user)
        self.tries += 1
        if self.resume:
            self.resume = False
            self.resumes += 1
            update_id = await user.send("/resume")
            self.history.append(f"{update_id}: /resume")
        elif act.kind == "send":
            update_id = await user.send(act.value)
            self.history.append(f"{update_id}: sent {act.value!r}")
        else:
            if act.data is None:
                act.message, act.data = _button(user, act.value, act.message)
            update_id = await user.press_data(act.data, message=act.message)
            assert act.message is not None
            self.history.append(f"{update_id}: pressed {act.data} on {act.message.message_id}")
        self.sent = update_id
        return True

    def acknowledged(self) -> bool:
        act, before = self.pending, self.before
        assert act is not None and before is not None
        return act.done(self.user, before)

    def settle(self) -> None:
        """After the bot answered the round: record what was acknowledged, or plan the next
        try (the same input again if the bot showed nothing, else /resume)."""
        act, before = self.pending, self.before
        assert act is not None and before is not None
        shows = f"{seen(self.user).last_id} {last_labels(self.user)}"
        if act.done(self.user, before):
            self.history.append(f"acknowledged; the chat shows {shows}")
            act.record()
            self.pending, self.tries = None, 0
            return
        assert self.tries < MOST_TRIES, (
            f"participant {self.user.id} never saw {act.kind} {act.value!r} acknowledged; "
            f"the chat shows: {last_text(self.user)!r} {last_labels(self.user)}; {self.history}"
        )
        if reacted(self.user, before):
            self.resume = True
        else:
            self.resends += 1
        self.history.append(f"not acknowledged; the chat shows {shows} {last_text(self.user)!r}")


def _button(user: EmulatedUser, label: str, message: SentMessage | None) -> tuple[SentMessage, str]:
    """The message and callback data of the button labelled `label` (newest first)."""
    for candidate in [message] if message is not None else reversed(user.messages):
        for row in candidate.buttons:
            for text, data in row:
                if text == label and data:
                    return candidate, data
    raise LookupError(f"no button {label!r} in chat {user.id}: {last_labels(user)}")


# -- the script ---------------------------------------------------------------------


def next_screens(texts: list[str], end: str) -> list[str]:
    return [*texts[1:], end]


def plan_onboarding(person: Person, journey: Journey, code: str) -> None:
    category = journey.category(person.category)
    assert category is not None
    language, first = person.language, journey.live_prompts()[0].text[person.language]
    has = lambda label: lambda user, before: label in last_labels(user)  # noqa: E731
    person.acts += [
        Act("send", f"/start {code}", has(CONSENT_LABEL[language])),
        Act("press", CONSENT_LABEL[language], has(category.label[language])),
        Act("press", category.label[language], has(LANGUAGE_LABEL[language])),
        Act("press", LANGUAGE_LABEL[language], showing(first)),
    ]


def plan_phase_one(person: Person, journey: Journey) -> None:
    """Every question of phase 1; the workshop's phase 2 follows it at once (the default)."""
    language, uid = person.language, person.user.id
    prompts = journey.live_prompts()
    first = journey.peer_prompts(person.category)[0]
    end = peer_prompt_text(journey, first, person.category, language)
    asked = [peer_prompt_text(journey, p, person.category, language) for p in prompts]
    screens = next_screens(asked, end)
    for index, (prompt, then) in enumerate(zip(prompts, screens, strict=True)):
        if prompt.kind == "scale":
            kind, value = "press", str(1 + (index + uid) % 5)
            label = value
        elif prompt.kind == "choice":
            option = prompt.options[(index + uid) % len(prompt.options)]
            kind, value, label = "press", option.id, option.label[language]
        else:
            kind, value = "send", reflection(prompt, language)
            label = value
        person.acts.append(
            Act(kind, label, showing(then), _answer(person, prompt.id, value)),
        )


def plan_phase_two(person: Person, journey: Journey, index: int) -> None:
    """Texts, choices, ticks (with an other answer about the first other category), a
    request to the first other category from every other participant, a commitment
    from every fourth: 30 statements in all."""
    language, uid = person.language, person.user.id
    others = [c.id for c in journey.categories if c.id != person.category]
    prompts = journey.peer_prompts(person.category)
    end = translator(language)("Thank you, you have answered every question.")
    texts = [peer_prompt_text(journey, p, person.category, language) for p in prompts]
    for number, (prompt, shown, then) in enumerate(
        zip(prompts, texts, next_screens(texts, end), strict=True)
    ):
        if prompt.kind == "text":
            value = f"{reflection(prompt, language)} (n°{uid * 37 % 9973})"
            person.acts.append(Act("send", value, showing(then), _answer(person, prompt.id, value)))
        elif prompt.kind == "choice":
            option = prompt.options[(number + uid) % len(prompt.options)]
            record = _answer(person, prompt.id, option.id)
            person.acts.append(Act("press", option.label[language], showing(then), record))
        elif prompt.kind == "multi":
            chosen = [prompt.options[0], prompt.options[2]]
            for option in chosen:
                label = option.label[language]
                person.acts.append(Act("press", "⬜ " + label, ticked(label)))
            if prompt.other and prompt.about == others[0]:
                other = f"autre frein <u>{uid * 37 % 9973}</u> & co"
                record = _answer(person, prompt.id + ".other", other)
                person.acts.append(Act("send", other, shown_again(shown), record))
            record = _answer(person, prompt.id, ",".join(o.id for o in chosen))
            person.acts.append(Act("press", DONE_LABEL[language], showing(then), record))
        else:
            assert prompt.kind == "list" and prompt.statement is not None
            writes = (
                index % 2 == 0 and prompt.about == others[0]
                if prompt.statement == "request"
                else index % 4 == 1
            )
            if writes:
                text = f"{prompt.statement} n°{uid * 37 % 9973} <b>&"
                added = list_added_text(1, language).splitlines()[0]
                key = (str(prompt.statement), prompt.about, text)
                person.acts.append(
                    Act("send", text, shown_again(added), _statement(person, key)),
                )
            person.acts.append(Act("press", DONE_LABEL[language], showing(then)))


def _answer(person: Person, question: str, value: str) -> Callable[[], None]:
    def record() -> None:
        person.answers[question] = value

    return record


def _statement(person: Person, key: tuple[str, str | None, str]) -> Callable[[], None]:
    def record() -> None:
        person.statements[key] += 1

    return record


def plan_vote(person: Person) -> bool:
    """The vote on the statement the participant's agora message offers; False once
    nothing is offered any more (caught up)."""
    message = ballot(person.user)
    statement = offered(message) if message is not None else None
    if message is None or statement is None:
        return False
    assert statement not in person.votes, (person.user.id, statement, person.history)
    value = vote_for(person.user, statement)

    def moved_on(user: EmulatedUser, before: Seen) -> bool:
        now = ballot(user)
        return now is None or offered(now) != statement

    def record() -> None:
        person.votes[statement] = value

    label = VOTE_LABELS[person.language][value]
    person.acts.append(Act("press", label, moved_on, record, message=message))
    return True


# -- the bot, killed and started again ----------------------------------------------


@dataclass
class Bot:
    emulator: BotApiEmulator
    database: Path
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    async def start(self) -> None:
        """Start the bot and return once it polls (its services open, its first poll
        made), so that what it had not confirmed is being handed to it again."""
        since = len(self.emulator.calls)
        self.starts += 1
        log_file = self.folder / f"bot-{self.starts}.log"
        self.process = start_bot(self.emulator, self.database, 1000, log_file, organiser=ORGANISER)
        calls, updates = self.emulator.calls, self.emulator.state.updates
        await until(lambda: any(c.method == "setMyCommands" for c in calls[since:]), 60)
        await until(
            lambda: any(c.method == "getUpdates" for c in calls[since:]) or updates.waiting > 0,
            30,
        )

    async def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None
        await asyncio.sleep(0.2)  # the emulator notices the dropped long poll

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(30)
        self.process = None

    def errors(self) -> list[str]:
        """Lines the bots logged at ERROR (python-telegram-bot's complaint about its last
        poll aside)."""
        return [
            line
            for path in sorted(self.folder.glob("bot-*.log"))
            for line in path.read_text().splitlines()
            if " ERROR " in line and "get_updates" not in line
        ]


async def until(check: Callable[[], bool], limit: float) -> None:
    async with asyncio.timeout(limit):
        while not check():  # noqa: ASYNC110 (a condition on the emulator's state)
            await asyncio.sleep(0.02)


@dataclass
class Crashes:
    """Which rounds of a phase the bot is killed in, and how long after the round's
    updates were sent."""

    randomness: random.Random

    def plan(self, rounds: int, kills: int) -> dict[int, float]:
        chosen = self.randomness.sample(range(2, rounds), kills)
        return {number: self.randomness.uniform(0.0, 0.4) for number in chosen}


class Restartable(Protocol):
    """What `play` needs of the bot: the emulator it talks to, a kill and a start (one
    process here, several workers in `test_workers_e2e.py`)."""

    emulator: BotApiEmulator

    async def start(self) -> None: ...

    async def kill(self) -> None: ...


async def play(
    bot: Restartable,
    people: list[Person],
    crashes: Crashes,
    kills: dict[int, float],
    refill: Callable[[Person], bool],
) -> int:
    """Rounds until nobody has anything to send; `refill` plans a person's next input when
    their list is empty (the agora's votes). Returns the number of kills made."""
    emulator, made, number = bot.emulator, 0, 0
    while True:
        number += 1
        actors = [p for p in people if (p.pending or p.acts or refill(p))]
        if not actors:
            return made
        assert number < 400, "the script does not end"
        for person in actors:
            await person.act()
        killed = number in kills
        if killed:
            await asyncio.sleep(kills.pop(number))
            log.warning("round %d: killing the bot", number)
            await bot.kill()
            made += 1
            for person in actors:
                person.history.append(f"the bot was killed ({made})")
            await bot.start()
            # Telegram hands out again what the bot had not confirmed: here half of the
            # round's updates, handled or not (the others, if the bot had not handled
            # them, are lost: their senders see nothing and send them again).
            for person in actors:
                if crashes.randomness.random() < 0.5:
                    emulator.redeliver(person.sent)
                    person.history.append(f"{person.sent} delivered again")
        await emulator.wait_idle(quiet=1.0 if killed else 0.2, timeout=60)
        if not killed:
            # The bot was not killed: it answers every input, maybe slowly.
            try:
                await until(lambda: all(p.acknowledged() for p in actors), 10)  # noqa: B023
            except TimeoutError:
                log.warning("round %d: not everyone saw their input acknowledged", number)
        for person in actors:
            person.settle()


async def command(
    emulator: BotApiEmulator, user: EmulatedUser, text: str, replies: int = 1
) -> None:
    """A command, once the bot answered it (a process of its own: `wait_idle` alone may
    return before it even started)."""
    count = len(user.messages)
    await user.send(text)
    await until(lambda: len(user.messages) >= count + replies, 30)
    await emulator.wait_idle(timeout=30)


def stored_rows(database: Path | str, sql: str) -> list[tuple]:
    with stored.connect(database) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


def assert_acknowledged_once(
    database: Path | str, people: list[Person], *, statements: int, size: int
) -> None:
    """Each participant's answers and statements stored exactly as they saw them
    acknowledged, none doubled (`statements` in all), and all `size` at the end."""
    by_user: dict[int, dict[str, str]] = {}
    for user_id, question, value in stored_rows(
        database,
        "SELECT p.user_id, a.question_id, a.value FROM answers a"
        " JOIN participants p ON p.id = a.participant_id",
    ):
        assert question not in by_user.setdefault(user_id, {})
        by_user[user_id][question] = value
    for person in people:
        assert by_user.get(person.user.id) == person.answers, person.user.id
    made: dict[int, Counter[tuple[str, str | None, str]]] = {}
    for user_id, kind, about, text in stored_rows(
        database,
        "SELECT p.user_id, s.kind, s.target_category, coalesce(s.written, s.text)"
        " FROM statements s JOIN participants p ON p.id = s.participant_id",
    ):
        made.setdefault(user_id, Counter())[(kind, about, text)] += 1
    assert sum(map(len, made.values())) == statements
    for person in people:
        assert made.get(person.user.id, Counter()) == person.statements, person.user.id
    states = stored_rows(database, "SELECT user_id, state, finished_at FROM participants")
    assert len(states) == size and all(s == DONE and at for _, s, at in states)


def agora_authors(database: Path | str) -> dict[int, int]:
    """Each statement in the agora, and the user who wrote it."""
    return dict(
        stored_rows(
            database,
            "SELECT s.id, p.user_id FROM statements s JOIN participants p"
            " ON p.id = s.participant_id WHERE s.in_agora_at IS NOT NULL",
        )
    )


def assert_agora_votes_once(
    database: Path | str, people: list[Person], in_agora: dict[int, int]
) -> None:
    """Each participant's agora votes as they saw them taken, once, on every statement in
    the agora but their own."""
    votes: dict[int, dict[int, str]] = {}
    for user_id, statement, value in stored_rows(
        database,
        "SELECT p.user_id, v.statement_id, v.value FROM votes v"
        " JOIN participants p ON p.id = v.participant_id",
    ):
        if in_agora[statement] != user_id:
            votes.setdefault(user_id, {})[statement] = value
    for person in people:
        uid = person.user.id
        assert set(person.votes) == {s for s, author in in_agora.items() if author != uid}
        assert votes.get(uid) == person.votes, uid


@pytest.fixture(autouse=True)
def no_flood_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scripted participant answers faster than a person: flood control (tested in
    `test_abuse_e2e.py`) stays out of the way of the bot's own process."""
    monkeypatch.setenv("COOPBOT_FLOOD_LIMIT", "off")


async def test_forty_participants_through_six_kills(tmp_path: Path) -> None:
    randomness = random.Random(SEED)
    print(f"crash test seed: {SEED} (COOPBOT_CRASH_SEED={SEED} replays these kill moments)")
    journey = default_journey()
    database = tmp_path / "coopbot.sqlite3"
    async with BotApiEmulator() as emulator:
        bot = Bot(emulator, database, tmp_path)
        organiser = emulator.user(ORGANISER, first_name="Org", language_code="fr")
        try:
            await bot.start()
            await command(emulator, organiser, "/newsession Atelier sous tension", 2)
            links = [m.text or "" for m in organiser.messages if "start=" in (m.text or "")]
            code = START_LINK.findall(links[-2])[0]
            for line in (f"/review off {code}", f"/caucus off {code}"):
                await command(emulator, organiser, line)

            people = []
            for index in range(SIZE):
                language = "en" if index % 3 == 2 else "fr"
                user = emulator.user(FIRST_ID + index, language_code=language)
                person = Person(user, language, journey.categories[index % 4].id)
                plan_onboarding(person, journey, code)
                plan_phase_one(person, journey)
                plan_phase_two(person, journey, index)
                people.append(person)
            crashes = Crashes(randomness)
            nothing = lambda person: False  # noqa: E731
            rounds = min(len(p.acts) for p in people)
            kills = await play(bot, people, crashes, crashes.plan(rounds, 4), nothing)

            await command(emulator, organiser, f"/agora {code}")
            await until(lambda: all(ballot(p.user) is not None for p in people), 60)
            await emulator.wait_idle(timeout=60)
            kills += await play(bot, people, crashes, crashes.plan(SIZE // 2, 2), plan_vote)
            assert kills == KILLS
        finally:
            bot.stop()

        # Exactly what each participant saw acknowledged, nothing doubled; everyone
        # finished, with a vote on every statement in the agora but their own (their
        # agreement with their own was stored for them).
        assert_acknowledged_once(database, people, statements=30, size=SIZE)
        in_agora = agora_authors(database)
        assert len(in_agora) == 30
        assert_agora_votes_once(database, people, in_agora)
        # The crashes did happen where they should: inputs were sent again or resumed.
        print(
            "inputs sent again:",
            sum(p.resends for p in people),
            "/resume:",
            sum(p.resumes for p in people),
        )
        assert bot.starts == 1 + KILLS
        assert bot.errors() == []
        # Refused calls: only edits that found the message as they would leave it (an
        # edit the kill interrupted may have been made already).
        refused = [c for c in emulator.rejected if c.method != "answerCallbackQuery"]
        print("edits refused as not modifying the message:", len(refused))
        assert [c for c in refused if "message is not modified" not in (c.error or "")] == []


async def killed_after_the_commit(bot: Bot, person: Person, text: str, *, again: str) -> None:
    """Send `text` and kill the bot once it has stored it but before the participant sees
    anything: its first reply in that chat is held by the emulator (as by a slow network)
    and the bot is killed while it waits. Then start it again, and have the update
    delivered again (`again="redelivered"`, as Telegram does when the bot had not
    confirmed it) or the participant send the text again (`"sent again"`)."""
    emulator, user = bot.emulator, person.user
    emulator.time_out(user.id, times=1)
    before = seen(user)
    update_id = await user.send(text)
    await until(lambda: emulator.state.in_flight > 0, 10)
    await bot.kill()
    await bot.start()
    await emulator.wait_idle(quiet=1.0, timeout=30)
    assert not reacted(user, before)  # nothing shown
    if again == "redelivered":
        emulator.redeliver(update_id)
    else:
        await user.send(text)
    await until(lambda: reacted(user, before), 10)
    await emulator.wait_idle(quiet=0.5, timeout=30)


@pytest.mark.parametrize(
    ("which", "again"),
    [
        ("text", "redelivered"),
        ("statement", "redelivered"),
        ("text", "sent again"),
        ("statement", "sent again"),
    ],
)
async def test_a_text_committed_before_a_kill_is_taken_once(
    tmp_path: Path, which: str, again: str
) -> None:
    """The window the random kills rarely hit: the answer committed, the bot killed before
    its reply. Delivered again, or sent again by the participant who saw nothing, the text
    must not become the answer to the next question (phase 2 opens with three texts in a
    row), nor a second statement at a list step."""
    journey = default_journey()
    database = tmp_path / "coopbot.sqlite3"
    async with BotApiEmulator() as emulator:
        bot = Bot(emulator, database, tmp_path)
        organiser = emulator.user(ORGANISER, first_name="Org", language_code="fr")
        try:
            await bot.start()
            await command(emulator, organiser, "/newsession Atelier sous tension", 2)
            links = [m.text or "" for m in organiser.messages if "start=" in (m.text or "")]
            code = START_LINK.findall(links[-2])[0]
            user = emulator.user(FIRST_ID, language_code="fr")
            person = Person(user, "fr", journey.categories[0].id)
            plan_onboarding(person, journey, code)
            plan_phase_one(person, journey)
            plan_phase_two(person, journey, 0)  # a request, at the seventh question
            phase_two = person.acts[4 + len(journey.live_prompts()) :]  # after onboarding
            if which == "text":
                chosen = next(a for a in phase_two if a.kind == "send")
            else:
                chosen = next(a for a in phase_two if a.kind == "send" and "<b>&" in a.value)
            person.acts = person.acts[: person.acts.index(chosen)]
            await play(bot, [person], Crashes(random.Random(SEED)), {}, lambda person: False)
            await killed_after_the_commit(bot, person, chosen.value, again=again)
            peers = journey.peer_prompts(person.category)
            if which == "text":
                answers = dict(stored_rows(database, "SELECT question_id, value FROM answers"))
                assert answers.get(peers[1].id) is None  # not taken for the next question
                assert answers[peers[0].id] == chosen.value
            else:
                made = stored_rows(database, "SELECT text FROM statements")
                assert made == [(chosen.value,)]  # one statement, not two
        finally:
            bot.stop()
