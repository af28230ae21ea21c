"""Fixtures for end-to-end tests: the Bot API emulator, a real SQLite file, the real Application."""

from __future__ import annotations

import logging
import os
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
from storage.address import shown_target
from tests import stored
from tests.stored import postgresql_database, server_problem
from tgemu import BotApiEmulator, EmulatedUser

ORGANISER_ID = 500
# The PostgreSQL server the suite runs on instead of SQLite files, when set
# (scripts/test.sh sets it for its second run).
POSTGRESQL_SERVER = "COOPBOT_TEST_POSTGRESQL"
LOCAL_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_LINK = re.compile(r"start=([A-Za-z0-9_-]+)")


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emu:
        yield emu


@pytest.fixture
async def database(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """The bot's database for one test: a SQLite file, or, when the suite runs on
    PostgreSQL (`COOPBOT_TEST_POSTGRESQL`), a database of its own on that server, created
    for the test and dropped after it."""
    server = os.environ.get(POSTGRESQL_SERVER, "").strip()
    if not server or request.node.get_closest_marker("sqlite_only"):
        yield str(tmp_path / "coopbot.sqlite3")
        return
    async with postgresql_database(server) as address:
        yield address


@pytest.fixture
def postgresql_server() -> str:
    """The PostgreSQL server the suite may use, even in its SQLite run
    (`COOPBOT_TEST_POSTGRESQL`, or the one on this machine); the test is skipped with the
    reason when none answers."""
    server = (
        os.environ.get("COOPBOT_TEST_SERVER", "").strip()
        or os.environ.get(POSTGRESQL_SERVER, "").strip()
        or LOCAL_POSTGRESQL
    )
    if server == "off":
        pytest.skip("no PostgreSQL server for the tests (COOPBOT_TEST_POSTGRESQL=off)")
    problem = server_problem(server)
    if problem is not None:
        pytest.skip(f"no PostgreSQL server answers at {shown_target(server)}: {problem}")
    return server


@pytest.fixture
async def server_database(postgresql_server: str) -> AsyncIterator[str]:
    """A new, empty database on that server, dropped after the test."""
    async with postgresql_database(postgresql_server) as address:
        yield address


@pytest.fixture
def settings(database: str, emulator: BotApiEmulator) -> Settings:
    return Settings(
        token=emulator.token,
        api_base_url=emulator.base_url,
        database=database,
        organisers=frozenset({ORGANISER_ID}),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, the suite is the tests that run the bot on its database: the others
    (pure logic, the emulator, the browser, SQLite's own files) ran on SQLite already."""
    if not os.environ.get(POSTGRESQL_SERVER, "").strip():
        return
    kept, dropped = [], []
    for item in items:
        uses_server = "database" in getattr(item, "fixturenames", ())
        if uses_server and not item.get_closest_marker("sqlite_only"):
            kept.append(item)
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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
    with stored.connect(database) as conn:
        rows = conn.execute(
            "SELECT a.question_id, a.value FROM answers a JOIN participants p"
            " ON p.id = a.participant_id WHERE p.user_id = ?",
            (user_id,),
        ).fetchall()
    return dict(rows)


def participant_row(database: Path, user_id: int) -> sqlite3.Row | None:
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM participants WHERE user_id = ?", (user_id,)).fetchone()
