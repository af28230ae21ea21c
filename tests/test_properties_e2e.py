"""Random traffic from several participants, through the real bot: nothing lost, nothing
doubled, nothing refused, nothing unhandled.

Hypothesis draws long sequences of updates from four participants of one workshop
(answers to the question shown, joins with right and wrong codes, texts of any Unicode
up to 4,096 characters and beyond, the buttons the bot showed, current and old, forged
callback data, edits, stickers and photos, commands with and without arguments, earlier
updates delivered again) and a facilitator opening phase 2 at some moment. After every
update:
- the application logged no error (every exception reaches the error handler's log);
- the emulator refused no call (but the two refusals `Driver.problems` explains);
- the update got a reply, and a text too long for an answer a reply naming the limit;
- each participant's step, answers and statements in the SQLite file are what the
  model of the journey (`tests/journey_model.py`) predicts.

Flood control stays off (the default of `Settings` built in code): the emulated people
send far faster than 20 updates in 10 s, and its drops are tested on their own
(`tests/test_abuse_e2e.py`).

Generation is derandomised (the same sequences on every run, in CI too); a failure
prints the sequence of draws, shrunk. `EXAMPLES` × `STEPS` is the number of updates:
a few long examples rather than many short ones, so that participants get through
phase 1 into phase 2's choices, ticks and statements. Hypothesis makes the first
example its simplest (every draw the smallest: one participant answering each question
shown, through the whole journey); the others are random traffic.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from flows.journey_file import default_journey
from tests import stored
from tests.conftest import (
    ORGANISER_ID,
    bot_running,
    create_workshop,
    facilitator_code,
    stored_answers,
)
from tests.helpers import onboard
from tests.journey_model import (
    Action,
    Driver,
    JourneyModel,
    differences,
    draw_action,
    peers_open,
)
from tgemu import BotApiEmulator

EXAMPLES = 3
STEPS = 400
FACILITATOR_ID = 600
PEOPLE = (  # id, first name, Telegram language (None: not given, "ar": not supported)
    (4001, "Camille", "fr"),
    (4002, "مريم", "ar"),
    (4003, "Zoë 🌱", "en"),
    (4004, "李", None),
)


class HypothesisPick:
    """The traffic's choices, drawn by hypothesis (so that a failure shrinks)."""

    def __init__(self, data: st.DataObject) -> None:
        self._data = data

    def integer(self, low: int, high: int) -> int:
        return self._data.draw(st.integers(low, high))

    def unicode_text(self) -> str:
        return self._data.draw(st.text(min_size=1, max_size=40).filter(str.strip))

    def data(self) -> str:
        return self._data.draw(
            st.text(min_size=1, max_size=64).filter(lambda t: len(t.encode()) <= 64)
        )


class Errors(logging.Handler):
    """Every record at ERROR or above, from any logger (the error handler logs there)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Totals:
    updates: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    deepest: int = 0  # the most answers any participant held at once
    phase_two: set[str] = field(default_factory=set)  # the kinds of phase 2 steps reached


async def play(pick: HypothesisPick, steps: int, totals: Totals) -> None:
    """One example: a fresh workshop, bot and database; `steps` updates."""
    folder = Path(tempfile.mkdtemp(prefix="coopbot-properties-"))
    errors = Errors()
    logging.getLogger().addHandler(errors)
    try:
        async with BotApiEmulator() as emulator:
            database = folder / "coopbot.sqlite3"
            configured = Settings(
                token=emulator.token,
                api_base_url=emulator.base_url,
                database=str(database),
                organisers=frozenset({ORGANISER_ID}),
                messages_per_second=1000,  # paced by the test, not by Telegram's limit
            )
            async with bot_running(configured, emulator):
                code = await create_workshop(emulator)
                organiser = emulator.user(ORGANISER_ID)
                facilitator = emulator.user(FACILITATOR_ID, first_name="Fa", language_code="fr")
                await facilitator.send(f"/start {facilitator_code(organiser)}")
                await emulator.wait_idle(quiet=0.02)
                await facilitator.send("/peers wait")  # phase 2 waits for /open peers
                await emulator.wait_idle(quiet=0.02)
                users = [
                    emulator.user(uid, first_name=name, language_code=language)
                    for uid, name, language in PEOPLE
                ]
                model = JourneyModel(default_journey(), code)
                driver = Driver(emulator, model, users, facilitator)
                ids = [u.id for u in users]
                with stored.connect(f"file:{database}?mode=ro", uri=True) as conn:
                    model.peers_open = peers_open(conn)
                    assert not model.peers_open
                    for step in range(steps):
                        action = draw_action(pick, len(users))
                        await _step(driver, action, emulator, conn, ids, errors, step)
                        for person in model.persons.values():
                            totals.deepest = max(totals.deepest, len(person.answers))
                            if person.joined and person.state in model.peer_ids:
                                totals.phase_two.add(model.prompts[person.state].kind)
                totals.updates += steps
                for kind, count in driver.counts.items():
                    totals.kinds[kind] = totals.kinds.get(kind, 0) + count
    finally:
        logging.getLogger().removeHandler(errors)


async def _step(
    driver: Driver,
    action: Action,
    emulator: BotApiEmulator,
    conn: sqlite3.Connection,
    ids: list[int],
    errors: Errors,
    step: int,
) -> None:
    mark = driver.mark()
    logged = len(errors.records)
    await driver.play(action)
    await emulator.wait_idle(quiet=0.02, timeout=60)
    for user in driver.users:
        driver.remember_buttons(user)
    problems = [f"logged: {r.getMessage()} {r.exc_info!r}" for r in errors.records[logged:]]
    problems += driver.problems(mark, action)
    problems += differences(driver.model, conn, ids)
    assert not problems, f"step {step}, {action}: " + "\n".join(problems)


TOTALS = Totals()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same sequences on every run: CI failures reproduce
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.data())
def _random_traffic(data: st.DataObject) -> None:
    asyncio.run(play(HypothesisPick(data), STEPS, TOTALS))


def test_random_traffic_keeps_every_answer() -> None:
    _random_traffic()
    # The run really was what it claims: a thousand updates of every kind, and
    # participants who got deep into the journey.
    assert TOTALS.updates >= EXAMPLES * STEPS >= 1000
    assert set(TOTALS.kinds) >= {
        "text",
        "press",
        "stale",
        "forged",
        "command",
        "edit",
        "media",
        "redeliver",
        "oversize",
        "open_peers",
    }, TOTALS.kinds
    assert TOTALS.deepest >= 20, TOTALS.deepest
    assert TOTALS.phase_two >= {"text", "choice", "multi", "list"}, TOTALS.phase_two


async def test_a_refused_text_delivered_again_later_answers_nothing(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """Typed at a scale, a text is refused; the participant then taps a value. The bot
    stops before confirming either update, and Telegram delivers both again: the text
    must not become the answer to the next question, which they never saw."""
    code = await create_workshop(emulator)
    user = emulator.user(4101, language_code="fr")
    await onboard(emulator, user, code, category=journey.categories[0].label["fr"], language="fr")
    scale, reflection = journey.live_prompts()[:2]
    assert scale.kind == "scale" and reflection.kind == "text"
    refused = await user.send("Une réflexion tapée trop tôt")
    await emulator.wait_idle()
    assert "boutons" in (user.last.text or "")
    pressed = await user.press("3")
    await emulator.wait_idle()
    emulator.redeliver(refused)
    emulator.redeliver(pressed)
    await emulator.wait_idle()
    assert stored_answers(settings.database, 4101) == {scale.id: "3"}
