"""One SQLite file: one connection that writes, a few that only read.

aiosqlite runs every statement of a connection on that connection's own thread. Writes go
through one connection, and a lock makes each transaction atomic with respect to the
other coroutines sharing it; the lock is held only while writing. Reads go to their own
connections (WAL lets them read while a transaction writes), without the lock: a read
sees every transaction committed before it began, so a read after the caller's own
commit sees it. A read that must see a write not yet committed belongs inside that
transaction. Each statement, with its rows, is one hop to a connection's thread
(`storage.connection`).
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.connection import Connection
from storage.migrations import migrate

# What a database that cannot be opened or migrated raises, for callers outside storage/.
DatabaseError = aiosqlite.Error

# Connections that only read: one for the reads of a statement each (one thread, taking
# them first come, first served: two chats' reads keep the order they arrived in; more
# threads measured no faster under the GIL), one for snapshots.
READERS = 2
BUSY_TIMEOUT_MS = 5000


class Database:
    """The bot's SQLite database: WAL, foreign keys, serialised transactions and reads
    beside them."""

    def __init__(
        self,
        connection: aiosqlite.Connection,
        path: Path,
        readers: Sequence[aiosqlite.Connection] = (),
    ) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        # The last reader is kept for snapshots, one at a time; the others take the rest.
        self._readers = list(readers[:-1])
        self._next_reader = itertools.cycle(self._readers)
        self._snapshots = readers[-1] if readers else None
        self._snapshot_lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path | str, *, target_version: int | None = None) -> Database:
        """Open (creating if needed) and migrate the database at `path`."""
        path = Path(path)
        if path.is_dir():  # refused here: sqlite would fail only inside aiosqlite's thread
            raise IsADirectoryError(f"{path} is a directory, not a database file")
        in_memory = str(path) == ":memory:"
        if not in_memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        connection = await _connect(path)
        readers: list[aiosqlite.Connection] = []
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            # FULL makes each commit durable before the bot acknowledges the answer.
            await connection.execute("PRAGMA synchronous = FULL")
            await migrate(connection, target_version=target_version)
            # A database in memory is one connection's own: it reads where it writes.
            for _ in range(0 if in_memory else READERS):
                reader = await _connect(path)
                readers.append(reader)
                await reader.execute("PRAGMA query_only = ON")
        except BaseException:
            for opened in (*readers, connection):
                await opened.close()
            raise
        return cls(connection, path, readers)

    async def close(self) -> None:
        """Close the connections (the writer last, checkpointing the WAL)."""
        for reader in self._readers:
            await reader.close()
        if self._snapshots is not None:
            async with self._snapshot_lock:
                await self._snapshots.close()
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A write transaction: committed on success, rolled back on any exception. Its
        BEGIN IMMEDIATE goes with its first statement; a transaction that ran none costs
        nothing."""
        async with self._lock:
            conn = Connection(self._connection, opening="BEGIN IMMEDIATE")
            try:
                yield conn
                await conn.commit()  # with the writes deferred until now: they may fail here
            except BaseException:
                # Always, even if no statement seemed to run: a task cancelled while its
                # first hop waited in the thread's queue leaves BEGIN to run after it, and
                # this ROLLBACK, queued behind, ends it (a no-op outside a transaction).
                await self._connection.rollback()
                raise

    async def write(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """One statement as a transaction of its own, its BEGIN and COMMIT in the same hop
        to the writer's thread; returns the number of rows it changed."""
        async with self._lock:
            rows = await Connection(self._connection).alone(sql, parameters)
        return rows.rowcount

    @asynccontextmanager
    async def reading(self, *, snapshot: bool = False) -> AsyncIterator[Connection]:
        """Reads, without waiting for the writer: each statement sees what was committed
        before it ran (two statements may see a commit between them). With `snapshot`,
        every statement of the block sees the database as the first one did (a read
        transaction, on a connection of its own: the other reads never land in it)."""
        if self._snapshots is None:  # in memory: the writer's connection, between writes
            async with self._lock:
                yield Connection(self._connection)
            return
        if not snapshot:
            yield Connection(next(self._next_reader))
            return
        async with self._snapshot_lock:
            conn = Connection(self._snapshots, opening="BEGIN")
            try:
                yield conn
            finally:  # it only read: nothing to keep (always: see `transaction`)
                await self._snapshots.rollback()


async def _connect(path: Path) -> aiosqlite.Connection:
    """A connection with the pragmas every one of ours has."""
    connection = await aiosqlite.connect(path, isolation_level=None)
    connection.row_factory = aiosqlite.Row
    try:
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except BaseException:
        await connection.close()
        raise
    return connection


def failure_of(error: BaseException) -> str | None:
    """What a database error says of the file, for the bot's record of faults: "locked"
    (another connection held it past the busy timeout), "full" (the disk, or the file's
    page limit), "io" (the disk failed, or the file is read-only or damaged); None for
    anything else (a bug, not a fault of the disk)."""
    if not isinstance(error, sqlite3.Error):
        return None
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return "locked"
    if name == "SQLITE_FULL" or "disk is full" in text:
        return "full"
    if name.startswith(("SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CORRUPT", "SQLITE_CANTOPEN")):
        return "io"
    if "disk i/o error" in text:
        return "io"
    return None


def qualified(columns: str, table: str) -> str:
    """A table's column list ("a, b") with the alias of a join ("t.a, t.b")."""
    return ", ".join(f"{table}.{column.strip()}" for column in columns.split(","))


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """ISO 8601 in UTC, as stored: stored times are compared as text, so they must all
    share one offset (a reminder typed in Paris time is stored as the UTC instant)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_text(value: str | None) -> datetime | None:
    """Parse a stored timestamp that may be missing."""
    return datetime.fromisoformat(value) if value else None


def from_required_text(value: str) -> datetime:
    """Parse a stored timestamp of a NOT NULL column."""
    return datetime.fromisoformat(value)
