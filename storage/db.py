"""One SQLite file, one connection, explicit transactions.

aiosqlite runs every statement of a connection on one worker thread; a lock makes
each transaction atomic with respect to the other coroutines sharing it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from storage.migrations import migrate

# What a database that cannot be opened or migrated raises, for callers outside storage/.
DatabaseError = aiosqlite.Error


class Database:
    """The bot's SQLite database: WAL, foreign keys, and serialised transactions."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path | str, *, target_version: int | None = None) -> Database:
        """Open (creating if needed) and migrate the database at `path`."""
        path = Path(path)
        if path.is_dir():  # refused here: sqlite would fail only inside aiosqlite's thread
            raise IsADirectoryError(f"{path} is a directory, not a database file")
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            # FULL makes each commit durable before the bot acknowledges the answer.
            await connection.execute("PRAGMA synchronous = FULL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA busy_timeout = 5000")
            await migrate(connection, target_version=target_version)
        except BaseException:
            await connection.close()
            raise
        return cls(connection, path)

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        async with self._lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                await self._connection.rollback()
                raise
            else:
                await self._connection.commit()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read: no other transaction of this process interleaves."""
        async with self._lock:
            yield self._connection


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
