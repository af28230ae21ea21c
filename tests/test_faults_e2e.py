"""Faults injected for real: Telegram answering 502 or timing out (the emulator), the
database locked by another connection or full (SQLite's own page limit). The participant
is told the truth about their answer, every acknowledged answer is stored, none reported
as not saved is, and the bot serves the next update."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from telegram import Bot
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.app import build_application, is_handling_updates, running
from bot.delivery import Courier, Policy, Status
from bot.faults import Faults, Kind
from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings
from bot.views.faults import not_saved_text, saved_text
from flows.journey import Journey
from tests import stored
from tests.conftest import bot_running, create_workshop, stored_answers
from tests.helpers import onboard
from tgemu import BotApiEmulator, EmulatedUser

PARTICIPANT = 3001
NOT_SAVED = not_saved_text("en")
SAVED = saved_text("en")


@pytest.fixture
async def faulty_bot(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[Application]:
    """The bot, checked like the `bot` fixture's but for one known refusal: after a reply
    that failed once the answer was committed, the remembered question is the answered
    one, whose buttons are gone already; the next question's "take the buttons off the
    previous one" is refused as "message is not modified" (harmless, logged at DEBUG)."""
    async with bot_running(settings, emulator) as application:
        yield application
    refused = [c for c in emulator.rejected if c.method != "answerCallbackQuery"]
    assert all(
        c.method == "editMessageReplyMarkup" and "not modified" in (c.error or "") for c in refused
    ), refused


def state_of(application: Application) -> Runtime:
    state = application.bot_data[RUNTIME_KEY]
    assert isinstance(state, Runtime)
    return state


async def ready(emulator: BotApiEmulator, journey: Journey) -> EmulatedUser:
    """A participant at the first question (a scale), in English."""
    code = await create_workshop(emulator)
    user = emulator.user(PARTICIPANT, first_name="Sam", language_code="en")
    await onboard(emulator, user, code, category=journey.categories[0].label["en"], language="en")
    assert journey.live_prompts()[0].text["en"] in (user.last.text or "")
    return user


def shows(user: EmulatedUser, journey: Journey, index: int) -> bool:
    """The user's newest question is the live prompt at `index`, with its buttons if any."""
    prompt = journey.live_prompts()[index]
    asked = [m for m in user.messages if prompt.text["en"] in (m.text or "")]
    return bool(asked) and (prompt.kind != "scale" or bool(asked[-1].labels))


@contextmanager
def locked(database: Path) -> Iterator[None]:
    """Another process holds the database in an exclusive transaction."""
    other = stored.connect(database, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def pragma(application: Application, statement: str) -> int:
    """Run a PRAGMA on the bot's own connection (the database it really writes to)."""
    database = state_of(application).database
    assert database is not None
    async with database.transaction() as conn, conn.execute(statement) as rows:
        row = await rows.fetchone()
    return int(row[0]) if row is not None else 0


def fault_lines(caplog: pytest.LogCaptureFixture, kind: Kind) -> list[logging.LogRecord]:
    """The fault's log lines; and no line at ERROR (an expected fault is no bug)."""
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    return [r for r in caplog.records if r.name == "bot.faults" and kind.value in r.getMessage()]


# -- the Bot API fails after the answer was committed ----------------------------------


async def test_a_502_after_an_answer_keeps_it_and_the_participant_resumes(
    faulty_bot: Application,
    emulator: BotApiEmulator,
    settings: Settings,
    journey: Journey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await ready(emulator, journey)
    prompts = journey.live_prompts()
    emulator.fail(method="editMessageText", user_id=user.id)  # the question turned into the next
    await user.press("3")
    await emulator.wait_idle()

    assert [c.error_code for c in emulator.failed] == [502]
    assert user.last.text == SAVED  # told plainly that the answer is kept
    assert stored_answers(settings.database, user.id) == {prompts[0].id: "3"}
    faults = state_of(faulty_bot).faults
    assert faults.counts[Kind.API_ERROR] == 1 and faults.last is not None
    assert faults.last.where == "on_journey_button/edit_message_text"
    assert faults.last.user_id == user.id
    (line,) = fault_lines(caplog, Kind.API_ERROR)  # logged once, without a traceback
    assert line.levelno == logging.WARNING and line.exc_info is None
    assert str(user.id) in line.getMessage()

    # The next message carries on from the stored state.
    await user.send("/resume")
    await emulator.wait_idle()
    assert prompts[1].text["en"] in (user.last.text or "")
    await user.send("An intention, sent after the fault")
    await emulator.wait_idle()
    assert stored_answers(settings.database, user.id) == {
        prompts[0].id: "3",
        prompts[1].id: "An intention, sent after the fault",
    }
    assert shows(user, journey, 2)


async def test_a_refused_answer_whose_reply_fails_is_never_said_to_be_saved(
    faulty_bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """Text typed at a scale question is refused (nothing stored); its reply fails: the
    participant must not read that their answer is saved."""
    user = await ready(emulator, journey)
    emulator.fail(method="sendMessage", user_id=user.id)
    await user.send("Not a number")
    await emulator.wait_idle()
    assert [c.error_code for c in emulator.failed] == [502]
    assert user.last.text != SAVED
    assert "Every answer you saw confirmed is saved" in (user.last.text or "")
    assert stored_answers(settings.database, user.id) == {}


async def test_a_timed_out_reply_keeps_the_answer(
    emulator: BotApiEmulator,
    settings: Settings,
    journey: Journey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    application = build_application(settings, request=HTTPXRequest(read_timeout=0.5))
    unwatch = emulator.watch(lambda: is_handling_updates(application))
    try:
        async with running(application):
            user = await ready(emulator, journey)
            prompts = journey.live_prompts()
            await user.press("4")
            await emulator.wait_idle()
            emulator.time_out(user.id, method="sendMessage")
            await user.send("My intention, whose reply times out")
            await emulator.wait_idle()

            assert [c.method for c in emulator.timed_out] == ["sendMessage"]
            assert user.last.text == SAVED
            assert stored_answers(settings.database, user.id) == {
                prompts[0].id: "4",
                prompts[1].id: "My intention, whose reply times out",
            }
            faults = state_of(application).faults
            assert faults.counts == {Kind.API_TIMEOUT: 1}
            assert len(fault_lines(caplog, Kind.API_TIMEOUT)) == 1
            # The participant carries on where they are: the third question.
            await user.send("/resume")
            await emulator.wait_idle()
            assert shows(user, journey, 2)
            await user.press("2")
            await emulator.wait_idle()
            assert stored_answers(settings.database, user.id)[prompts[2].id] == "2"
    finally:
        unwatch()
    refused = [c for c in emulator.rejected if c.method != "answerCallbackQuery"]
    assert all(c.method == "editMessageReplyMarkup" for c in refused), refused  # as above


# -- the database fails before the commit ----------------------------------------------


@pytest.mark.sqlite_only  # the SQLite file's own lock and page limit
async def test_a_locked_database_refuses_the_answer_plainly_and_the_retry_is_saved(
    bot: Application,
    emulator: BotApiEmulator,
    settings: Settings,
    journey: Journey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await ready(emulator, journey)
    prompts = journey.live_prompts()
    await pragma(bot, "PRAGMA busy_timeout = 200")  # so that the test waits 0.2 s, not 5
    question = user.last

    with locked(settings.database):
        await user.press("5")  # a button
        await emulator.wait_idle()
        assert user.last.text == NOT_SAVED
        assert user.callback_answers  # the pressed button stopped spinning
        await user.send("lost while locked")  # a text, where a button is expected
        await emulator.wait_idle()
        assert user.last.text == NOT_SAVED

    assert stored_answers(settings.database, user.id) == {}
    assert user.messages[user.messages.index(question)] == question  # untouched, still live
    assert question.labels and shows(user, journey, 0)
    # The participant's two, and perhaps the outbox's look for due messages meanwhile.
    faults = state_of(bot).faults
    assert faults.counts[Kind.DB_LOCKED] >= 2 and set(faults.counts) == {Kind.DB_LOCKED}
    lines = fault_lines(caplog, Kind.DB_LOCKED)
    assert len(lines) == 2  # one line each, no traceback
    assert "on_journey_button" in lines[0].getMessage() and "on_text" in lines[1].getMessage()
    assert all(f"user {user.id}" in r.getMessage() for r in lines)
    assert all(r.exc_info is None and "database is locked" in r.getMessage() for r in lines)

    # Once the lock is gone, the same button, pressed again, is saved.
    await user.press("5", message=question)
    await emulator.wait_idle()
    assert stored_answers(settings.database, user.id) == {prompts[0].id: "5"}
    assert shows(user, journey, 1)


@pytest.mark.sqlite_only  # the SQLite file's own lock and page limit
async def test_a_lock_shorter_than_the_busy_timeout_is_waited_out(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """The safe retry: SQLite's busy timeout waits for another connection's transaction."""
    user = await ready(emulator, journey)
    prompts = journey.live_prompts()
    await pragma(bot, "PRAGMA busy_timeout = 3000")
    other = stored.connect(settings.database, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        asyncio.get_running_loop().call_later(0.5, other.execute, "COMMIT")
        await user.press("2")
        await emulator.wait_idle()  # the bot waits on the lock meanwhile
    finally:
        other.close()
    assert stored_answers(settings.database, user.id) == {prompts[0].id: "2"}
    assert shows(user, journey, 1)
    assert NOT_SAVED not in user.texts() and state_of(bot).faults.total == 0


@pytest.mark.sqlite_only  # the SQLite file's own lock and page limit
async def test_the_outbox_meeting_a_locked_database_is_a_fault_not_a_bug(
    bot: Application,
    emulator: BotApiEmulator,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The outbox's look for due messages writes (it claims them): a lock stops it with one
    warning, counted for /health, and the next look goes on."""
    state = state_of(bot)
    await emulator.user(PARTICIPANT, language_code="en").send("/help")
    await emulator.wait_idle()
    await pragma(bot, "PRAGMA busy_timeout = 100")
    with locked(settings.database):
        state.wake_outbox()
        await emulator.wait_idle()
    assert state.faults.counts == {Kind.DB_LOCKED: 1}
    assert state.faults.last is not None and state.faults.last.where == "outbox"
    stopped = [r for r in caplog.records if r.name == "bot.outbox"]
    assert [r.levelno for r in stopped] == [logging.WARNING] and stopped[0].exc_info is None
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    state.wake_outbox()  # unlocked: the next look ends normally
    await emulator.wait_idle()
    assert state.faults.total == 1


@pytest.mark.sqlite_only  # the SQLite file's own lock and page limit
async def test_a_full_disk_refuses_the_answer_plainly_and_the_next_one_is_saved(
    bot: Application,
    emulator: BotApiEmulator,
    settings: Settings,
    journey: Journey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await ready(emulator, journey)
    prompts = journey.live_prompts()
    long_answer = "é" * 1900  # most of a page: the next long one needs a page of its own
    await user.press("1")
    await emulator.wait_idle()
    await user.send(long_answer)
    await emulator.wait_idle()
    await user.press("2")
    await emulator.wait_idle()
    assert prompts[3].kind == "text" and shows(user, journey, 3)
    acknowledged = {prompts[0].id: "1", prompts[1].id: long_answer, prompts[2].id: "2"}
    assert stored_answers(settings.database, user.id) == acknowledged

    # The file may not grow by a page: SQLite answers SQLITE_FULL, as on a full disk.
    pages = await pragma(bot, "PRAGMA page_count")
    assert await pragma(bot, "PRAGMA freelist_count") == 0
    assert await pragma(bot, f"PRAGMA max_page_count = {pages}") == pages
    lost = "è" * 1900
    await user.send(lost)
    await emulator.wait_idle()
    assert user.last.text == NOT_SAVED
    assert stored_answers(settings.database, user.id) == acknowledged
    assert set(state_of(bot).faults.counts) == {Kind.DB_FULL}
    (line,) = fault_lines(caplog, Kind.DB_FULL)
    assert line.exc_info is None and "disk is full" in line.getMessage()
    assert all(lost not in record.getMessage() for record in caplog.records)  # no text logged

    await pragma(bot, "PRAGMA max_page_count = 1073741823")  # room again
    await user.send("Sent again, shorter")
    await emulator.wait_idle()
    answers = stored_answers(settings.database, user.id)
    assert answers == {**acknowledged, prompts[3].id: "Sent again, shorter"}
    assert shows(user, journey, 4)


# -- sends to many retry time-outs and 5xx, and count what still fails -----------------


@asynccontextmanager
async def plain_bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emulator.token, base_url=emulator.base_url) as bot:
        yield bot


async def test_a_delivery_retries_502s_and_counts_the_one_that_still_fails(
    emulator: BotApiEmulator,
) -> None:
    user = emulator.user(PARTICIPANT, language_code="en")
    await user.send("hello")
    faults = Faults()
    policy = replace(Policy(), backoff=0.01)
    async with plain_bot(emulator) as bot:
        courier = Courier(bot, policy=policy, faults=faults)
        emulator.fail(times=2, method="sendMessage")
        delivered = await courier.message(user.id, "third time lucky")
        assert delivered.status is Status.SENT and user.texts() == ["third time lucky"]
        assert faults.total == 0  # retried: no fault
        emulator.fail(times=3, method="sendMessage", status=500)
        delivered = await courier.message(user.id, "never")
    assert delivered.status is Status.FAILED and user.texts() == ["third time lucky"]
    assert len(emulator.failed) == 5 and emulator.rejected == []
    assert faults.counts == {Kind.API_ERROR: 1}
    assert faults.last is not None and faults.last.where == "sendMessage"
    assert faults.last.user_id == user.id
