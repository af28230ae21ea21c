"""Fixtures for end-to-end tests: the Bot API emulator, a real SQLite file, the real Application."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.app import build_application, is_handling_updates, running
from bot.settings import Settings
from flows.journey import Journey
from flows.journey_file import default_journey
from tgemu import BotApiEmulator, EmulatedUser

ORGANISER_ID = 500
START_LINK = re.compile(r"start=([A-Za-z0-9_-]+)")


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emu:
        yield emu


@pytest.fixture
def settings(tmp_path: Path, emulator: BotApiEmulator) -> Settings:
    return Settings(
        token=emulator.token,
        api_base_url=emulator.base_url,
        database_path=tmp_path / "coopbot.sqlite3",
        organisers=frozenset({ORGANISER_ID}),
    )


@asynccontextmanager
async def bot_running(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[Application]:
    """A fresh Application on the settings' database, polling the emulator."""
    application = build_application(settings)
    unwatch = emulator.watch(lambda: is_handling_updates(application))
    try:
        async with running(application):
            yield application
    finally:
        unwatch()


@pytest.fixture
async def bot(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[Application]:
    async with bot_running(settings, emulator) as application:
        yield application
    # The bot never made a call that Telegram would have refused.
    assert [call for call in emulator.rejected if call.method != "answerCallbackQuery"] == []
    # Every text is sent as HTML (escaped by rendering), never as plain text by accident.
    texts = [c for c in emulator.calls if c.method in ("sendMessage", "editMessageText") and c.ok]
    assert texts and all(c.params.get("parse_mode") == "HTML" for c in texts)


@pytest.fixture
async def room(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[Application]:
    """The bot for a whole room of participants at once: sending as fast as Telegram's paid
    broadcasts allow, so that the test is not paced at 30 messages a second."""
    async with bot_running(replace(settings, messages_per_second=1000), emulator) as app:
        yield app
    assert [call for call in emulator.rejected if call.method != "answerCallbackQuery"] == []


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> None:
    """No test may leave an unhandled error in the log."""
    caplog.set_level(logging.INFO)
    yield
    # Every phase's records: at teardown, `caplog.records` holds the teardown's only.
    errors = [
        r
        for when in ("setup", "call", "teardown")
        for r in caplog.get_records(when)
        if r.levelno >= logging.ERROR
    ]
    assert errors == [], [r.getMessage() for r in errors]


@pytest.fixture
def journey() -> Journey:
    return default_journey()


async def create_workshop(emulator: BotApiEmulator, title: str = "Atelier de la vallée") -> str:
    """An organiser creates a workshop; returns its join code (from the link it received)."""
    organiser = emulator.user(ORGANISER_ID, first_name="Org", language_code="fr")
    await organiser.send(f"/newsession {title}")
    await emulator.wait_idle()
    return join_code(organiser)


def join_code(organiser: EmulatedUser) -> str:
    links = [m for m in organiser.messages if m.text and "start=" in m.text]
    return START_LINK.findall(links[-2].text or "")[0]


def facilitator_code(organiser: EmulatedUser) -> str:
    links = [m for m in organiser.messages if m.text and "start=" in m.text]
    return START_LINK.findall(links[-1].text or "")[0]


def stored_answers(database: Path, user_id: int) -> dict[str, str]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT a.question_id, a.value FROM answers a JOIN participants p"
            " ON p.id = a.participant_id WHERE p.user_id = ?",
            (user_id,),
        ).fetchall()
    return dict(rows)


def participant_row(database: Path, user_id: int) -> sqlite3.Row | None:
    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM participants WHERE user_id = ?", (user_id,)).fetchone()
