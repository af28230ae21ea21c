"""coopbot under load, side by side with python-telegram-bot's own examples.

Three bots, each in a process of its own, take the same load in the same run, one after
the other, each against a fresh Bot API emulator that runs here with the simulated
participants (so the emulator's work never counts as the bot's):

1. `echo`: python-telegram-bot's echo bot (`bench/baselines/echo_bot.py`), one reply per
   update: the ceiling;
2. `conversation`: the phase 1 questions written as the examples write a questionnaire
   (`bench/baselines/conversation_bot.py`: `ConversationHandler`, `PicklePersistence`),
   which writes its file once a minute: a crash loses up to a minute of answers;
3. `saved`: the same bot saving its file after each answer, the guarantee coopbot gives
   (an answer is stored before it is acknowledged);
4. `coopbot`: `python -m bot.cli run` on a fresh SQLite file, a workshop created by an
   organiser and every participant joined (consent, category, language) before the
   measured window opens.

Each participant then answers phase 1 (scales and choices by button, reflections by
text). The parts:

- `closed`: each participant answers as soon as its next question arrives (100 and 300);
- `open`: answers arrive at random (Poisson) at a set rate, each from a participant
  whose question is showing (200 participants, 50 answers a second, 20 seconds);
- `limits`: coopbot only, 60 participants answering as fast as they can with the
  emulator refusing what Telegram refuses (30 messages a second in all, one a second per
  chat) and coopbot's own `COOPBOT_MESSAGES_PER_SECOND` left at its default;
- `rss`: coopbot only, 10,000 participants registered (one joins through the bot, the
  others are copies of its rows) and 1,000 of them answering; the bot's peak memory.

Measured over the window, from the first answer to the bot being quiet after the last:
answers a second, the bot's CPU per answer (`/proc/<pid>/stat`), its Bot API calls per
answer by method (getUpdates aside), the latency from an answer's update being queued to
the next question reaching the emulator (a message sent, or edited, showing it), p50,
p95 and p99, and the bot's peak RSS (`VmHWM`).

    .venv/bin/python -m bench.load                 # everything, a few minutes
    .venv/bin/python -m bench.load --only closed --participants 100
    .venv/bin/python -m bench.load --write         # and into docs/PERFORMANCE.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flows.journey import Prompt
from flows.journey_file import default_journey
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import ApiCall, SentMessage

ROOT = Path(__file__).resolve().parents[1]
ORGANISER_ID = 1
FIRST_PARTICIPANT = 100_000
BOTS = ("echo", "conversation", "saved", "coopbot")
QUESTIONNAIRES = ("conversation", "saved")  # the same bot, saved once a minute or each answer
PARTS = ("closed", "open", "limits", "rss")
# The calls Telegram paces: what sends or edits a message.
PACED = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "sendPhoto",
        "sendDocument",
    }
)
SHORT = {
    "sendMessage": "send",
    "editMessageText": "edit",
    "editMessageReplyMarkup": "markup",
    "editMessageCaption": "caption",
    "answerCallbackQuery": "cbq",
    "sendChatAction": "action",
    "sendPhoto": "photo",
    "sendDocument": "doc",
    "deleteMessage": "delete",
}
SECTION = "## Side by side: coopbot, an echo bot and a ConversationHandler (`bench.load`)"
FRAGMENT = 32  # characters of a question that identify it in the chat
# How the section in docs/PERFORMANCE.md says the figures were taken.
METHOD = (
    "`bench/load.py` gives the same load, in the same run, to python-telegram-bot's echo "
    "bot (`bench/baselines/echo_bot.py`, one reply per update: the ceiling), to the "
    "phase 1 questions written as the library's examples write a questionnaire "
    "(`bench/baselines/conversation_bot.py`: `ConversationHandler`, one state per "
    "question, `PicklePersistence`, which writes its file once a minute; and again saving "
    "it at each answer, the guarantee coopbot gives) and to coopbot (`python -m bot.cli "
    "run`, a workshop "
    "created and every participant joined before the window opens). Each bot runs in a "
    "process of its own against a fresh Bot API emulator, which runs with the simulated "
    "participants in the benchmark's process. Closed loop: each participant answers as "
    "soon as its next question arrives. Open loop: answers arrive at random (Poisson) at "
    "a set rate. Limits (coopbot only): the emulator answers 429 beyond Telegram's rates "
    "(in all, and per chat) and coopbot keeps its default "
    "`COOPBOT_MESSAGES_PER_SECOND`; elsewhere it is 1000. RSS (coopbot only): 10,000 "
    "participants registered, 1,000 answering (by default). Figures over the measured "
    "window: the bot's CPU from `/proc`, its peak RSS (`VmHWM`), its Bot API calls per answer "
    "(getUpdates aside; `cbq` is answerCallbackQuery; paced calls are the sends and "
    "edits Telegram rate-limits), the latency from an answer's update being queued to "
    "the next question reaching the emulator, and the CPU of the benchmark's own process "
    "(emulator and participants), to show it was not the bottleneck."
)


# What a participant sees and does.

Expectation = Callable[["Participant"], bool]


@dataclass(frozen=True)
class Step:
    """One update a participant makes, and what tells it the bot has answered."""

    action: str  # "send" | "press"
    value: str
    expect: Expectation


class Participant(EmulatedUser):
    """An emulated user who notes when the bot's reply it waits for reaches the emulator:
    the method handlers call `add_bot_message` / `replace_bot_message` as each send or
    edit is answered."""

    waiting: tuple[Expectation, asyncio.Future[float]] | None = None
    position = 0  # the next answer of its script

    def add_bot_message(self, message: SentMessage) -> None:
        super().add_bot_message(message)
        self._changed()

    def replace_bot_message(self, message: SentMessage) -> None:
        super().replace_bot_message(message)
        self._changed()

    def _changed(self) -> None:
        if self.waiting is not None and self.waiting[0](self):
            future = self.waiting[1]
            self.waiting = None
            if not future.done():
                future.set_result(time.monotonic())

    async def take(self, step: Step, limit: float) -> float | None:
        """Make the step's update; the seconds from its being queued to the reply it
        expects, or None if that never came within `limit` seconds."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting = (step.expect, future)
        queued = time.monotonic()
        try:
            if step.action == "press":
                await self.press(step.value)
            else:
                await self.send(step.value)
            return await asyncio.wait_for(future, limit) - queued
        except (TimeoutError, LookupError):
            self.waiting = None
            return None


def participant(emulator: BotApiEmulator, user_id: int) -> Participant:
    """A participant registered with the emulator under `user_id`."""
    user = Participant(
        emulator.state, user_id, first_name="Test", language_code="fr", username=None
    )
    emulator.state.users[user_id] = user
    return user


def shows(text: str) -> Expectation:
    """The question is in one of the chat's last two messages (sent, or edited into it)."""
    fragment = text.strip()[:FRAGMENT]
    return lambda user: any(fragment in (m.text or "") for m in user.messages[-2:])


def moved_on(text: str) -> Expectation:
    """The last message no longer asks this question (the answer to the last one); a line
    recalling it, shortened, may remain."""
    whole = text.strip()
    return lambda user: bool(user.messages) and whole not in (user.messages[-1].text or "")


def has_button(label: str) -> Expectation:
    return lambda user: any(label in shown for m in user.messages for shown in m.labels)


def replied(user: Participant) -> bool:
    """Any message sent or edited: the echo bot's one reply."""
    return True


def answers(prompts: Sequence[Prompt], index: int, echo: bool) -> list[Step]:
    """Participant `index`'s answers to phase 1, each expecting the next question."""
    steps = []
    for number, prompt in enumerate(prompts):
        if prompt.kind == "scale":
            action, value = "press", str(1 + (index + number) % 5)
        elif prompt.kind == "choice" and not echo:
            action, value = "press", prompt.options[index % len(prompt.options)].label["fr"]
        elif prompt.kind == "choice":
            action, value = "press", str(1 + index % 5)
        else:
            action, value = "send", f"Réflexion {index}-{number} sur la coopération."
        expect: Expectation
        if echo:
            expect = replied
        elif number + 1 < len(prompts):
            expect = shows(prompts[number + 1].text["fr"])
        else:
            expect = moved_on(prompt.text["fr"])
        steps.append(Step(action, value, expect))
    return steps


def joining(bot: str, prompts: Sequence[Prompt], code: str, category: str) -> list[Step]:
    """What a participant does before the measured window: reach the first question."""
    first = shows(prompts[0].text["fr"])
    if bot == "echo":
        return [Step("send", "/start", has_button("1"))]
    if bot in QUESTIONNAIRES:
        return [Step("send", "/start", first)]
    return [
        Step("send", f"/start {code}", has_button("J'accepte")),
        Step("press", "✅ J'accepte", has_button(category)),
        Step("press", category, has_button("Français")),
        Step("press", "Français", first),
    ]


# The bots.


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid: int) -> float:
    """A process's peak resident memory so far, in MB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_bot(
    bot: str, emulator: BotApiEmulator, folder: Path, extra: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start one bot as a process of its own against the emulator; its log file."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COOPBOT_", "TELEGRAM_", "BENCH_"))
    }
    environment |= {
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        **extra,
    }
    module = {
        "echo": "bench.baselines.echo_bot",
        "conversation": "bench.baselines.conversation_bot",
        "saved": "bench.baselines.conversation_bot",
        "coopbot": "bot.cli",
    }[bot]
    log = folder / f"{bot}-{len(list(folder.glob(f'{bot}-*.log')))}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *(["run"] if bot == "coopbot" else [])],
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, log


async def stop_bot(process: subprocess.Popen[bytes]) -> None:
    """Interrupt the bot and wait for it, the emulator answering its last calls."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 30
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            return
        await asyncio.sleep(0.02)


def bot_environment(bot: str, folder: Path, database: Path, limits: bool) -> dict[str, str]:
    if bot in QUESTIONNAIRES:
        prompts = [
            {
                "kind": p.kind,
                "text": p.text["fr"],
                "options": [option.label["fr"] for option in p.options],
            }
            for p in default_journey().live_prompts()
        ]
        (folder / "prompts.json").write_text(json.dumps(prompts, ensure_ascii=False))
        return {
            "BENCH_PROMPTS": str(folder / "prompts.json"),
            "BENCH_PERSISTENCE": str(folder / f"conversation-{time.monotonic_ns()}.pickle"),
            **({"BENCH_SAVE_EACH_ANSWER": "1"} if bot == "saved" else {}),
        }
    if bot == "coopbot":
        return {
            "COOPBOT_DB": str(database),
            "COOPBOT_ORGANISERS": str(ORGANISER_ID),
            **({} if limits else {"COOPBOT_MESSAGES_PER_SECOND": "1000"}),
        }
    return {}


async def until(check: Callable[[], bool], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {limit:.0f} s")
        await asyncio.sleep(0.02)


async def open_workshop(emulator: BotApiEmulator) -> str:
    """An organiser creates the workshop; its join code."""
    organiser = emulator.user(ORGANISER_ID, language_code="fr")
    await organiser.send("/newsession Banc d'essai")
    link = re.compile(r"start=([A-Za-z0-9_-]+)")
    await until(
        lambda: any(link.search(m.text or "") for m in organiser.messages), 60, "/newsession"
    )
    return next(found.group(1) for m in organiser.messages if (found := link.search(m.text or "")))


# One measurement.


@dataclass
class Result:
    bot: str
    part: str
    participants: int
    answers: int = 0
    lost: int = 0  # answers whose next question never came
    seconds: float = 0.0
    cpu: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    refused: Counter[int] = field(default_factory=Counter)  # by error code
    driver: float = 0.0  # CPU seconds of this process: the emulator and the participants
    latencies: list[float] = field(default_factory=list)
    rss: float = 0.0
    offered: float | None = None  # open loop: answers a second offered
    missed: int = 0  # open loop: arrivals with no question showing
    think: float = 0.0  # closed loop: mean reading time before answering
    chat_limited: int = 0  # 429s that came within a second of the chat's previous message

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.answers * 1000 if self.answers else float("nan")

    def per_answer(self, method: str) -> float:
        return self.calls[method] / self.answers if self.answers else float("nan")

    @property
    def paced(self) -> float:
        return sum(self.per_answer(m) for m in PACED if m in self.calls)

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    def label(self) -> str:
        if self.part == "open":
            return f"open, {self.participants} at {self.offered:g}/s"
        if self.part == "rss":
            return f"rss, {self.participants} answering"
        if self.think:
            return f"{self.part}, {self.participants}, reading {self.think:g} s"
        return f"{self.part}, {self.participants}"

    def row(self) -> str:
        calls = ", ".join(
            f"{SHORT.get(method, method)} {self.per_answer(method):.2f}"
            for method, _ in self.calls.most_common()
        )
        notes = []
        if self.lost:
            notes.append(f"{self.lost} lost")
        if self.refused:
            codes = ", ".join(f"{n} × {code}" for code, n in sorted(self.refused.items()))
            notes.append(f"refused: {codes}")
        if self.chat_limited:
            notes.append(f"{self.chat_limited} of the 429s within 1 s of the chat's last message")
        if self.missed:
            notes.append(f"{self.missed} arrivals missed")
        return (
            f"| {self.label()} | {self.answers} | {self.rate:.0f} | {self.cpu_ms:.2f} "
            f"| {self.paced:.2f} | {calls or '—'} | {self.percentile(0.5) * 1000:.0f} "
            f"| {self.percentile(0.95) * 1000:.0f} | {self.percentile(0.99) * 1000:.0f} "
            f"| {self.rss:.0f} | {self.driver / self.answers * 1000 if self.answers else 0:.2f} "
            f"| {'; '.join(notes) or '—'} |"
        )


HEADER = (
    "| part, participants | answers | answers/s | CPU ms/answer | paced calls/answer "
    "| calls/answer by method | p50 ms | p95 ms | p99 ms | peak RSS MB "
    "| emulator CPU ms/answer | notes |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


@dataclass
class Load:
    """What one part asks of a bot."""

    part: str
    participants: int
    limit: float  # seconds a participant waits for its next question before giving up
    rate: float = 0.0  # open loop
    duration: float = 0.0  # open loop
    registered: int = 0  # rss
    answers_each: int = 0  # rss: answers per active participant (0: all of phase 1)
    seed: int = 14
    telegram: tuple[int, int] = (30, 1)  # limits: messages a second in all, and per chat
    think: float = 0.0  # closed loop: mean seconds a participant reads before answering


async def measure(bot: str, load: Load, folder: Path) -> Result:
    """One bot under one load, on a fresh emulator (and database)."""
    limits = load.part == "limits"
    prompts = default_journey().live_prompts()
    categories = [c.label["fr"] for c in default_journey().categories]
    database = folder / f"{bot}-{load.part}-{load.participants}-{time.monotonic_ns()}.sqlite3"
    overall, per_chat = load.telegram
    rates = {"chat_rate": (per_chat, 1.0), "global_rate": (overall, 1.0)} if limits else {}
    async with BotApiEmulator(**rates) as emulator:  # type: ignore[arg-type]
        environment = bot_environment(bot, folder, database, limits)
        process, log = start_bot(bot, emulator, folder, environment)
        try:
            await emulator.wait_polling(60)
            if load.part == "rss":
                people = await registered(emulator, load, database, process, prompts)
                process, log = start_bot(bot, emulator, folder, environment)
                await emulator.wait_polling(60)
                setup = [[Step("send", "/resume", shows(prompts[0].text["fr"]))] for _ in people]
            else:
                code = await open_workshop(emulator) if bot == "coopbot" else ""
                people = [
                    participant(emulator, FIRST_PARTICIPANT + i) for i in range(load.participants)
                ]
                setup = [
                    joining(bot, prompts, code, categories[i % len(categories)])
                    for i in range(len(people))
                ]
            await _setup(people, setup, load.limit)
            await emulator.wait_idle(quiet=0.3, timeout=120)
            scripts = [answers(prompts, i, bot == "echo") for i in range(len(people))]
            if load.answers_each:
                scripts = [script[: load.answers_each] for script in scripts]
            result = Result(bot, load.part, len(people), think=load.think)
            since = len(emulator.calls)
            cpu = cpu_seconds(process.pid)
            driver = time.process_time()
            started = time.monotonic()
            if load.part == "open":
                result.offered = load.rate
                replies = await _open_loop(people, scripts, load, result)
            else:
                replies = await _closed_loop(people, scripts, load, result)
            result.seconds = max(replies, default=started) - started
            await emulator.wait_idle(quiet=0.3, timeout=120)
            result.cpu = cpu_seconds(process.pid) - cpu
            result.rss = peak_rss(process.pid)
            window = [c for c in emulator.calls[since:] if c.method != "getUpdates"]
            result.calls = Counter(c.method for c in window)
            result.refused = Counter(c.error_code or 0 for c in window if not c.ok)
            result.chat_limited = chat_limited(window)
            result.driver = time.process_time() - driver
        except BaseException:
            await stop_bot(process)
            sys.stderr.write(f"{bot}, {load.part}: the bot's log ends with\n")
            sys.stderr.write("".join(log.read_text().splitlines(keepends=True)[-30:]))
            raise
        await stop_bot(process)
    return result


def chat_limited(calls: Sequence[ApiCall]) -> int:
    """How many 429s met a message call less than a second after a message the same chat
    was sent (the limit per chat, rather than the one over all chats)."""
    last: dict[object, float] = {}
    count = 0
    for call in sorted(calls, key=lambda c: c.at):
        if call.method not in PACED:
            continue
        chat = call.params.get("chat_id")
        if call.error_code == 429:
            count += chat in last and call.at - last[chat] < 1.0
        elif call.ok:
            last[chat] = call.at
    return count


async def _setup(people: list[Participant], scripts: list[list[Step]], limit: float) -> None:
    async def one(user: Participant, steps: list[Step]) -> None:
        for step in steps:
            if await user.take(step, limit) is None:
                raise RuntimeError(f"participant {user.id} got no answer to {step.value!r}")

    await asyncio.gather(*(one(user, steps) for user, steps in zip(people, scripts, strict=True)))


async def _closed_loop(
    people: list[Participant], scripts: list[list[Step]], load: Load, result: Result
) -> list[float]:
    """Each participant answers as soon as its next question arrives (or after reading
    it a random while, `load.think` seconds on average)."""
    replies: list[float] = []
    rng = random.Random(load.seed)

    async def one(user: Participant, steps: list[Step]) -> None:
        for step in steps:
            if load.think:
                await asyncio.sleep(rng.expovariate(1 / load.think))
            queued = time.monotonic()
            latency = await user.take(step, load.limit)
            if latency is None:
                result.lost += 1
                return  # it never saw its next question: it stops there
            result.answers += 1
            result.latencies.append(latency)
            replies.append(queued + latency)

    await asyncio.gather(*(one(user, steps) for user, steps in zip(people, scripts, strict=True)))
    return replies


async def _open_loop(
    people: list[Participant], scripts: list[list[Step]], load: Load, result: Result
) -> list[float]:
    """Answers arrive at random at `load.rate` a second, each from a participant chosen
    among those whose next question is showing."""
    rng = random.Random(load.seed)
    ready = list(people)
    script = {user.id: steps for user, steps in zip(people, scripts, strict=True)}
    replies: list[float] = []
    running: set[asyncio.Task[None]] = set()

    async def one(user: Participant) -> None:
        step = script[user.id][user.position]
        user.position += 1
        queued = time.monotonic()
        latency = await user.take(step, load.limit)
        if latency is None:
            result.lost += 1
            return
        result.answers += 1
        result.latencies.append(latency)
        replies.append(queued + latency)
        if user.position < len(script[user.id]):
            ready.append(user)

    started = time.monotonic()
    arrival = started
    while True:
        arrival += rng.expovariate(load.rate)
        if arrival > started + load.duration:
            break
        await asyncio.sleep(max(0.0, arrival - time.monotonic()))
        if not ready:
            result.missed += 1
            continue
        user = ready.pop(rng.randrange(len(ready)))
        task = asyncio.create_task(one(user))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    return replies


async def registered(
    emulator: BotApiEmulator,
    load: Load,
    database: Path,
    process: subprocess.Popen[bytes],
    prompts: Sequence[Prompt],
) -> list[Participant]:
    """`load.registered` participants at their first question: one joins through the bot,
    which then stops, and the others are copies of its rows; the first
    `load.participants` of them are returned, to answer once the bot is started again."""
    code = await open_workshop(emulator)
    first = participant(emulator, FIRST_PARTICIPANT)
    category = default_journey().categories[0].label["fr"]
    await _setup([first], [joining("coopbot", prompts, code, category)], load.limit)
    await emulator.wait_idle(quiet=0.3, timeout=60)
    await stop_bot(process)
    others = range(FIRST_PARTICIPANT + 1, FIRST_PARTICIPANT + load.registered)
    with closing(sqlite3.connect(database)) as conn, conn:
        template = conn.execute(
            "SELECT id FROM participants WHERE user_id = ?", (FIRST_PARTICIPANT,)
        ).fetchone()[0]
        columns = [
            row[1]
            for row in conn.execute("PRAGMA table_info(participants)")
            if row[1] not in ("id", "user_id")
        ]
        listed = ", ".join(columns)
        user_columns = [
            row[1]
            for row in conn.execute("PRAGMA table_info(users)")
            if row[1] not in ("user_id", "current_participant_id")
        ]
        user_listed = ", ".join(user_columns)
        for user_id in others:
            cursor = conn.execute(
                f"INSERT INTO participants (user_id, {listed})"
                f" SELECT ?, {listed} FROM participants WHERE id = ?",
                (user_id, template),
            )
            conn.execute(
                f"INSERT INTO users (user_id, current_participant_id, {user_listed})"
                f" SELECT ?, ?, {user_listed} FROM users WHERE user_id = ?",
                (user_id, cursor.lastrowid, FIRST_PARTICIPANT),
            )
    emulator.state.known_chats.update(others)
    return [first, *(participant(emulator, uid) for uid in others[: load.participants - 1])]


# The run.


@dataclass
class Plan:
    bots: list[str]
    parts: list[str]
    closed: list[int]
    open_participants: int
    rate: float
    duration: float
    limits_participants: int
    registered: int
    active: int
    answers_each: int
    limit: float
    telegram: tuple[int, int]
    think: float

    def loads(self) -> list[tuple[list[str], Load]]:
        """Which bots take which load, in order."""
        loads: list[tuple[list[str], Load]] = []
        if "closed" in self.parts:
            loads += [(self.bots, Load("closed", n, self.limit)) for n in self.closed]
        if "open" in self.parts:
            loads.append(
                (
                    self.bots,
                    Load(
                        "open",
                        self.open_participants,
                        self.limit,
                        rate=self.rate,
                        duration=self.duration,
                    ),
                )
            )
        coopbot = [bot for bot in self.bots if bot == "coopbot"]
        if "limits" in self.parts and coopbot:
            limits = Load(
                "limits",
                self.limits_participants,
                max(self.limit, 60),
                telegram=self.telegram,
                think=self.think,
            )
            loads.append((coopbot, limits))
        if "rss" in self.parts and coopbot:
            loads.append(
                (
                    coopbot,
                    Load(
                        "rss",
                        self.active,
                        self.limit,
                        registered=self.registered,
                        answers_each=self.answers_each,
                    ),
                )
            )
        return loads


Check = tuple[str, str, bool | None]  # what, measured, held (None: the part did not run)


def checks(results: list[Result], plan: Plan) -> list[Check]:
    """The targets, judged on what ran."""
    found = {(r.bot, r.part, r.participants): r for r in results}
    size = 100 if 100 in plan.closed else (plan.closed[0] if plan.closed else 0)
    coop = found.get(("coopbot", "closed", size))
    echo = found.get(("echo", "closed", size))
    conversation = found.get(("conversation", "closed", size))
    saved = found.get(("saved", "closed", size))
    opened = found.get(("coopbot", "open", plan.open_participants))
    limited = found.get(("coopbot", "limits", plan.limits_participants))
    memory = found.get(("coopbot", "rss", plan.active))

    def versus(what: str, of: Result | None, to: Result | None, least: float) -> Check:
        if of is None or to is None:
            return (what, "not run", None)
        times = of.rate / to.rate if to.rate else 0.0
        return (what, f"{times:.2f}×", times >= least)

    def one(what: str, of: Result | None, measured: Callable[[Result], tuple[str, bool]]) -> Check:
        return (what, *measured(of)) if of is not None else (what, "not run", None)

    closed = f"closed loop, {size}: coopbot"
    return [
        versus(f"{closed} ≥ 0.6 × the echo bot's answers/s", coop, echo, 0.6),
        versus(
            f"{closed} ≥ 3 × the ConversationHandler's answers/s (as written: saved once a minute)",
            coop,
            conversation,
            3,
        ),
        versus(
            f"{closed} ≥ 3 × the ConversationHandler's answers/s (saved at each answer)",
            coop,
            saved,
            3,
        ),
        one(
            f"{closed} ≤ 3 ms CPU per answer", coop, lambda r: (f"{r.cpu_ms:.2f} ms", r.cpu_ms <= 3)
        ),
        one(
            f"{closed} ≤ 1.3 paced calls per answer",
            coop,
            lambda r: (f"{r.paced:.2f}", r.paced <= 1.3),
        ),
        one(
            f"open loop, {plan.open_participants} at {plan.rate:g}/s: coopbot p99 < 50 ms",
            opened,
            lambda r: (
                f"{r.percentile(0.99) * 1000:.0f} ms",
                r.percentile(0.99) < 0.05 and not r.lost,
            ),
        ),
        one(
            f"Telegram's limits, {plan.limits_participants}"
            + (f", reading {plan.think:g} s" if plan.think else "")
            + ": coopbot p95 < 2.5 s",
            limited,
            lambda r: (f"{r.percentile(0.95):.2f} s", r.percentile(0.95) < 2.5 and not r.lost),
        ),
        one(
            f"{plan.registered} registered, {plan.active} answering: coopbot peak RSS < 150 MB",
            memory,
            lambda r: (f"{r.rss:.0f} MB", r.rss < 150),
        ),
    ]


def report(results: list[Result], plan: Plan, command: str) -> str:
    """The tables and the checks, as Markdown."""
    lines = [
        f"Machine: {platform.machine()}, {_cpu()}, Python {platform.python_version()}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "```sh",
        command,
        "```",
        "",
    ]
    names = {
        "echo": "python-telegram-bot's echo bot (one reply per update)",
        "conversation": "the nine moments as a ConversationHandler with PicklePersistence",
        "saved": "the same ConversationHandler, its PicklePersistence saved at each answer",
        "coopbot": "coopbot (`python -m bot.cli run`)",
    }
    for bot in plan.bots:
        rows = [r for r in results if r.bot == bot]
        if not rows:
            continue
        lines += [f"**{names[bot]}**", "", HEADER, *(r.row() for r in rows), ""]
    lines += ["| target | measured | |", "| --- | --- | --- |"]
    for what, measured, held in checks(results, plan):
        verdict = "—" if held is None else ("PASS" if held else "FAIL")
        lines.append(f"| {what} | {measured} | {verdict} |")
    return "\n".join(lines) + "\n"


def write(document: Path, body: str, *, heading: str = SECTION, method: str = METHOD) -> None:
    """Put the section into the document, in place of the one a previous run wrote."""
    text = document.read_text() if document.exists() else "# Performance\n"
    section = f"{heading}\n\n{textwrap.fill(method, 88)}\n\n{body}"
    start = text.find(f"{heading}\n")
    if start < 0:
        document.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    after = text.find("\n## ", start + len(heading))
    rest = "\n" + text[after + 1 :] if after >= 0 else ""
    text = text[:start] + section + rest
    document.write_text(text)


def _cpu() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown CPU"
    cores = sum(1 for line in info if line.startswith("processor"))
    model = next(
        (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
        "unknown CPU",
    )
    return f"{cores} cores ({model})"


async def run(plan: Plan, folder: Path) -> list[Result]:
    results = []
    for bots, load in plan.loads():
        for bot in bots:
            result = await measure(bot, load, folder)
            print(f"{bot:>12}  {result.row()}", file=sys.stderr, flush=True)
            results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--bots", nargs="+", choices=BOTS, default=list(BOTS))
    parser.add_argument(
        "--participants", type=int, nargs="+", default=[100, 300], help="closed loop sizes"
    )
    parser.add_argument("--open-participants", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="open loop: answers a second")
    parser.add_argument("--duration", type=float, default=20.0, help="open loop: seconds")
    parser.add_argument("--limits-participants", type=int, default=60)
    parser.add_argument(
        "--telegram",
        type=int,
        nargs=2,
        default=[30, 1],
        metavar=("OVERALL", "PER_CHAT"),
        help="limits: messages a second Telegram allows in all and per chat",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="limits: mean seconds a participant reads a question before answering",
    )
    parser.add_argument("--registered", type=int, default=10_000)
    parser.add_argument("--active", type=int, default=1_000)
    parser.add_argument(
        "--answers-each", type=int, default=3, help="rss: answers per active participant"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for a next question"
    )
    parser.add_argument("--write", action="store_true", help="into docs/PERFORMANCE.md")
    arguments = parser.parse_args(argv)
    plan = Plan(
        bots=[bot for bot in BOTS if bot in arguments.bots],
        parts=arguments.only,
        closed=arguments.participants,
        open_participants=arguments.open_participants,
        rate=arguments.rate,
        duration=arguments.duration,
        limits_participants=arguments.limits_participants,
        registered=max(arguments.registered, arguments.active),
        active=arguments.active,
        answers_each=arguments.answers_each,
        limit=arguments.timeout,
        telegram=(arguments.telegram[0], arguments.telegram[1]),
        think=arguments.think,
    )
    command = shlex.join(
        [".venv/bin/python", "-m", "bench.load", *(sys.argv[1:] if argv is None else argv)]
    )
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(run(plan, Path(folder)))
    body = report(results, plan, command)
    print(body)
    if arguments.write:
        write(ROOT / "docs" / "PERFORMANCE.md", body)


if __name__ == "__main__":
    main()
