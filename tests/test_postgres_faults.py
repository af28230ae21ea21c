"""What PostgreSQL does differently, turned into what storage/ promises on both engines: a
transaction the server dropped is never taken for kept, a server gone is a fault of the
store (not a bug), a writer cancelled while it waits leaves nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from storage.db import (
    Database,
    DatabaseError,
    IntegrityError,
    ServerUnreachable,
    TransactionAborted,
    failure_of,
)

CLAIM = "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, 'now')"


async def ledger(db: Database) -> list[int]:
    async with (
        db.reading() as conn,
        conn.execute("SELECT update_id FROM processed_updates ORDER BY update_id") as rows,
    ):
        return [row[0] for row in await rows.fetchall()]


async def test_a_failed_statement_caught_inside_a_transaction_is_never_taken_for_kept(
    server_database: str,
) -> None:
    db = await Database.open(server_database)
    try:
        await db.write(CLAIM, (1,))
        with pytest.raises(TransactionAborted):
            async with db.transaction() as conn:
                await conn.execute(CLAIM, (2,))
                with contextlib.suppress(*IntegrityError):
                    await conn.execute(CLAIM, (1,))  # taken: the server ends the transaction
        assert await ledger(db) == [1]  # 2 went with it, and the caller was told
        await db.write(CLAIM, (3,))  # the connection serves again
        assert await ledger(db) == [1, 3]
    finally:
        await db.close()


class Proxy:
    """A TCP relay to the server that can be cut, as a network or a server going away."""

    def __init__(self) -> None:
        self.streams: list[asyncio.StreamWriter] = []
        self.pipes: list[asyncio.Task[None]] = []
        self.server: asyncio.Server | None = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self.streams += [writer, upstream_writer]
        self.pipes += [
            asyncio.create_task(self._pipe(reader, upstream_writer)),
            asyncio.create_task(self._pipe(upstream_reader, writer)),
        ]

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for stream in self.streams:
            stream.close()
        await asyncio.sleep(0.2)


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    relay = Proxy()
    yield relay
    if relay.server is not None and relay.server.is_serving():
        await relay.cut()


async def test_a_server_gone_is_a_fault_of_the_store(server_database: str, proxy: Proxy) -> None:
    port = await proxy.start()
    through = server_database.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    assert through != server_database
    db = await Database.open(through)
    await db.write(CLAIM, (1,))
    await proxy.cut()
    for _ in range(2):  # the connection it had, then a new one it cannot make
        with pytest.raises(DatabaseError) as raised:
            await db.write(CLAIM, (2,))
        assert failure_of(raised.value) == "io"
    with contextlib.suppress(*DatabaseError, asyncio.TimeoutError):
        await asyncio.wait_for(db.close(), 3)


async def test_a_writer_cancelled_while_another_holds_the_write_lock_leaves_nothing(
    server_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = await Database.open(server_database), await Database.open(server_database)
    try:
        holding, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with first.transaction() as conn:
                await conn.execute(CLAIM, (1,))
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await holding.wait()
        waiting = asyncio.create_task(second.write(CLAIM, (2,)))  # another worker
        await asyncio.sleep(0.3)
        waiting.cancel()  # say, a worker stopping: its late update given up
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        release.set()
        await holder
        await second.write(CLAIM, (3,))
        assert await ledger(second) == [1, 3]
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    finally:
        await first.close()
        await second.close()


async def test_a_server_refusing_more_connections_is_a_fault_of_the_store(
    server_database: str,
) -> None:
    """Every connection the server allows is taken (its `max_connections`, or here the
    role's limit): a new one is refused, which is the store's fault, not a bug."""
    role = f"coopbot_limited_{uuid.uuid4().hex[:8]}"
    name = urlsplit(server_database).path.lstrip("/")
    admin = await asyncpg.connect(server_database)
    await admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1')
    await admin.execute(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
    await admin.execute(f'GRANT ALL ON SCHEMA public TO "{role}"')
    limited = urlunsplit(urlsplit(server_database)._replace(netloc=f"{role}@127.0.0.1:5432"))
    try:
        db = await Database.open(limited)  # its pool holds the one connection allowed
        try:
            await db.write(CLAIM, (1,))
            with pytest.raises(DatabaseError) as raised:
                async with db.turn(7):  # a connection of its own: refused
                    pass
            assert isinstance(raised.value, ServerUnreachable)
            assert failure_of(raised.value) == "io"
            assert await ledger(db) == [1]  # what it has keeps serving
        finally:
            await db.close()
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" OWNER TO postgres')
        await admin.execute(f'REASSIGN OWNED BY "{role}" TO postgres')
        await admin.execute(f'DROP OWNED BY "{role}"')
        await admin.execute(f'DROP ROLE "{role}"')
        await admin.close()
