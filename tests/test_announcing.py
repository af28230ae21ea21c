"""Telling the other workers that something changed: a burst of updates makes a handful of
announcements (`bot.web.hub.Announcer`), and on PostgreSQL a database hears the others'
announcements, never its own, again after its listening connection was cut."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.web.hub import DEBOUNCE, Announcer
from storage.db import Database
from storage.postgres import LISTENER_NAME
from tests import stored
from tests.helpers import until


async def test_a_burst_of_changes_makes_a_handful_of_announcements() -> None:
    made: list[float] = []

    async def announce() -> None:
        made.append(time.monotonic())

    announcer = Announcer(announce)
    await asyncio.sleep(DEBOUNCE * 2)
    assert made == []  # nothing handled, nothing told
    start = time.monotonic()
    for _ in range(200):  # 200 votes over about a second
        announcer.changed()
        await asyncio.sleep(0.005)
    lasted = time.monotonic() - start
    await until(lambda: time.monotonic() - start > lasted + DEBOUNCE * 2)
    # A handful, not 200: at most one per DEBOUNCE while it lasted, then the last change's.
    assert 1 <= len(made) <= lasted / DEBOUNCE + 2 and len(made) < 20
    assert all(b - a >= DEBOUNCE * 0.9 for a, b in itertools.pairwise(made))
    assert made[-1] > start + lasted
    assert announcer.announced == len(made)

    # One change alone: one announcement, soon.
    before = len(made)
    announcer.changed()
    await until(lambda: len(made) > before)
    assert len(made) == before + 1 and made[-1] - made[-2] >= DEBOUNCE * 0.9
    # A change still waiting when the worker stops is told then, not lost.
    announcer.changed()
    await announcer.close()
    assert len(made) == before + 2
    announcer.changed()  # closed: nothing more
    await asyncio.sleep(DEBOUNCE * 2)
    assert len(made) == before + 2


async def test_a_failed_announcement_is_a_warning_and_the_next_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes = [ConnectionError("the server is gone"), None]
    made = 0

    async def announce() -> None:
        nonlocal made
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        made += 1

    announcer = Announcer(announce)
    announcer.changed()
    await until(lambda: len(outcomes) == 1)
    assert [r.levelno for r in caplog.records if "could not be told" in r.getMessage()] == [
        logging.WARNING
    ]
    announcer.changed()
    await until(lambda: made == 1)
    await announcer.close()


def listening(server: str) -> int:
    """The listening connections open on the database, with LISTEN done."""
    with stored.connect(server) as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = ? AND query LIKE 'LISTEN%'",
            (LISTENER_NAME,),
        ).fetchone()
    return int(count)


async def test_each_database_hears_the_others_announcements_not_its_own(
    server_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    one = await Database.open(server_database)
    two = await Database.open(server_database)
    try:
        heard = {"one": 0, "two": 0}

        def hearing(name: str) -> Callable[[], None]:
            def heard_by() -> None:
                heard[name] += 1

            return heard_by

        await one.listen(hearing("one"))
        await two.listen(hearing("two"))
        await until(lambda: listening(server_database) == 2)
        await one.announce()
        await two.announce()
        await until(lambda: heard == {"one": 1, "two": 1})
        # Notifications reach a listener in the order they were sent: had `one` heard its
        # own, it would have counted it before `two`'s.
        await asyncio.sleep(DEBOUNCE)
        assert heard == {"one": 1, "two": 1}

        # The server cuts the listening connections: each comes back, with one warning,
        # and its listeners are told then (what changed meanwhile went unheard).
        with stored.connect(server_database) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = ?",
                (LISTENER_NAME,),
            )
        await until(lambda: heard == {"one": 2, "two": 2})
        await until(lambda: listening(server_database) == 2)
        warnings = [r for r in caplog.records if "not hearing" in r.getMessage()]
        assert [r.levelno for r in warnings] == [logging.WARNING] * 2
        await two.announce()
        await until(lambda: heard["one"] == 3)
        assert heard["two"] == 2
    finally:
        await one.close()
        await two.close()
    # Closed: the listening connections are gone with the databases.
    assert listening(server_database) == 0


async def test_a_file_announces_and_hears_nothing(tmp_path: Path) -> None:
    """One process on a SQLite file has no one to tell: both cost nothing."""
    database = await Database.open(f"{tmp_path}/coopbot.sqlite3")
    try:
        heard: list[int] = []
        stop = await database.listen(lambda: heard.append(1))
        await database.announce()
        await asyncio.sleep(0.3)  # time enough for a notification to come back
        stop()
        assert heard == [] and not database.shared
    finally:
        await database.close()
