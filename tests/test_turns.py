"""One chat's updates one after the other across every worker sharing the database."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import asyncpg

from storage.db import Database

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
