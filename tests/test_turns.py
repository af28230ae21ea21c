"""One chat's updates one after the other across every worker sharing the database."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import asyncpg

from storage.db import Database
from storage.postgres import LEADER_LOCK, TURN_POOL_SIZE

GROUP_CHAT = -1001234567890  # a supergroup's id: negative, beyond 32 bits
BIG_USER = 8_000_000_123  # user ids go beyond 32 bits too


async def entered(db: Database, key: int, log: list[str], name: str) -> None:
    async with db.turn(key):
        log.append(name)


async def test_a_chats_turn_held_by_one_worker_waits_the_other_and_no_other_chat(
    server_database: str,
) -> None:
    first, second = await Database.open(server_database), await Database.open(server_database)
    try:
        for key, other in ((GROUP_CHAT, BIG_USER), (BIG_USER, GROUP_CHAT), (7, 8)):
            log: list[str] = []
            async with first.turn(key):
                waiting = asyncio.create_task(entered(second, key, log, "second"))
                await asyncio.wait_for(entered(second, other, log, "other chat"), 5)
                await asyncio.sleep(0.3)
                assert not waiting.done()
                log.append("first done")
            await asyncio.wait_for(waiting, 5)
            assert log == ["other chat", "first done", "second"]
    finally:
        await first.close()
        await second.close()


async def test_a_worker_killed_holding_a_turn_leaves_it_to_the_others(
    server_database: str,
) -> None:
    first, second = await Database.open(server_database), await Database.open(server_database)
    try:
        log: list[str] = []
        holding = asyncio.Event()

        async def hold_forever() -> None:
            async with first.turn(BIG_USER):
                holding.set()
                await asyncio.sleep(3600)

        holder = asyncio.create_task(hold_forever())
        await holding.wait()
        waiting = asyncio.create_task(entered(second, BIG_USER, log, "second"))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        # The holder's process dies: the server drops its sessions, and their locks.
        admin = await asyncpg.connect(server_database)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                " AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"  # this test's only
            )
        finally:
            await admin.close()
        await asyncio.wait_for(waiting, 5)
        assert log == ["second"]
        holder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder
    finally:
        await first.close()
        await second.close()


async def test_a_file_needs_no_turn(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "coopbot.sqlite3")
    try:
        log: list[str] = []
        async with db.turn(BIG_USER):
            await asyncio.wait_for(entered(db, BIG_USER, log, "again"), 1)
        assert log == ["again"]  # its one process orders its chats' updates itself
    finally:
        await db.close()


async def terminate_leader(server_database: str) -> int:
    """The leader's process dies: the server ends its session, and the lead with it."""
    admin = await asyncpg.connect(server_database)
    try:
        ended = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND granted AND objid = $1 AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            LEADER_LOCK,
        )
    finally:
        await admin.close()
    return len(ended)


async def test_one_worker_leads_until_its_session_ends_then_another(
    server_database: str,
) -> None:
    first, second = await Database.open(server_database), await Database.open(server_database)
    try:
        assert await first.leading()
        assert not await second.leading()
        assert await first.leading()  # it keeps the lead while its session lives
        assert not await second.leading()
        assert await terminate_leader(server_database) == 1
        assert await second.leading()  # at its next ask, without waiting for a lease
        assert not await first.leading()  # its session is gone: it knows it no longer leads
        assert await second.leading()
        await second.close()  # a worker stopping hands the lead over
        assert await first.leading()
    finally:
        await first.close()
        await second.close()


async def test_a_section_runs_in_one_worker_at_a_time(server_database: str) -> None:
    first, second = await Database.open(server_database), await Database.open(server_database)
    try:
        log: list[str] = []

        async def enter(db: Database, name: str, section: str) -> None:
            async with db.exclusive(section):
                log.append(name)

        async with first.exclusive("review-queue"):
            waiting = asyncio.create_task(enter(second, "second", "review-queue"))
            await asyncio.wait_for(enter(second, "other section", "live-boards"), 5)
            await asyncio.sleep(0.3)
            assert not waiting.done()
            log.append("first done")
        await asyncio.wait_for(waiting, 5)
        assert log == ["other section", "first done", "second"]
    finally:
        await first.close()
        await second.close()


async def test_a_file_has_one_process_which_leads(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "coopbot.sqlite3")
    try:
        assert await db.leading()
        async with db.exclusive("review-queue"):
            assert await db.leading()
    finally:
        await db.close()


async def test_every_turn_taken_while_waiting_for_a_section_still_gets_through(
    server_database: str,
) -> None:
    """As many chats as a worker has turn connections, and one more, each wait in their
    turn for the same section (sixteen facilitators sending /review at once): the section
    has connections of its own, so none waits for a connection another holds."""
    db = await Database.open(server_database)
    try:
        in_process = asyncio.Lock()  # the worker's own lock around the section, as review's
        done: list[int] = []

        async def review(chat: int) -> None:
            async with db.turn(chat), in_process, db.exclusive("review-queue"):
                await asyncio.sleep(0.01)
                done.append(chat)

        chats = range(1, TURN_POOL_SIZE + 2)
        await asyncio.wait_for(asyncio.gather(*(review(chat) for chat in chats)), 20)
        assert sorted(done) == list(chats)
    finally:
        await db.close()
