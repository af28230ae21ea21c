"""The bot's database, whichever engine holds it: a SQLite file (the default, embedded)
or a PostgreSQL server (`COOPBOT_DB=postgresql://…`, for several workers on one bot).

storage/ writes its SQL once, with `?` placeholders, in the dialect both engines share,
against the `Database` and `Connection` below; `storage.sqlite` and `storage.postgres` run
it. Writes are transactions, serialised: each sees the database as the one before left
it (on SQLite within the process, on PostgreSQL across every worker). Reads never wait
for a writer, and each statement sees what was committed before it ran.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from storage.address import is_server_address
from storage.connection import Connection


class ServerUnreachable(ConnectionError):
    """The database server could not be reached (refused, timed out, the network)."""


class TransactionAborted(RuntimeError):
    """The server ended a transaction after one of its statements failed: nothing of it
    was kept (on PostgreSQL a failed statement ends the whole transaction, where SQLite
    undoes that statement alone)."""


# What a database that cannot be opened, migrated or written raises, for callers outside
# storage/ (an `except` clause).
DatabaseError: tuple[type[Exception], ...] = (
    aiosqlite.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    ServerUnreachable,
    TransactionAborted,
)
# A write refused by a constraint (a unique key taken, a missing reference).
IntegrityError: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)


class Database:
    """The engine-neutral face of the database: transactions, single writes and reads."""

    @property
    def target(self) -> str:
        """The file or the server this database is (`COOPBOT_DB`)."""
        raise NotImplementedError

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on a server."""
        return None

    @property
    def shared(self) -> bool:
        """Whether other processes may use this database at the same time (several
        workers on one server), or it is this process's alone (a SQLite file)."""
        return False

    @classmethod
    async def open(cls, target: Path | str, *, target_version: int | None = None) -> Database:
        """Open (creating if needed) and migrate the database `target` names: a SQLite
        file's path, or a postgresql:// address."""
        if is_server_address(str(target)):
            from storage.postgres import PostgresDatabase

            return await PostgresDatabase.connect(str(target), target_version=target_version)
        from storage.sqlite import SqliteDatabase

        return await SqliteDatabase.open_file(target, target_version=target_version)

    async def close(self) -> None:
        raise NotImplementedError

    async def schema_version(self) -> int:
        """The version of the schema the database is at."""
        raise NotImplementedError

    async def size_in_bytes(self) -> int:
        """How much room the data takes: the file and its logs, or the server's database."""
        raise NotImplementedError

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction: committed on success, rolled back on any exception. It
        costs nothing if it ran no statement."""
        raise NotImplementedError

    async def write(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """One statement as a transaction of its own, in as few trips as the engine
        allows; returns the number of rows it changed."""
        raise NotImplementedError

    def turn(self, key: int) -> AbstractAsyncContextManager[None]:
        """One chat's turn (`key`: its id) across every process sharing the database: the
        block waits while another process holds it. A database no other process shares
        needs none (its one process orders its chats' updates itself)."""
        return nullcontext()

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """A section that one process at a time runs across every process sharing the
        database (`name` says which: showing the review queue); the block waits for the
        other's. A database no other process shares needs none (its process's own lock
        does)."""
        return nullcontext()

    async def leading(self) -> bool:
        """Whether this process leads the others sharing the database: the one that runs
        the jobs that need run in one place only (the looks for syntheses to push and
        statements to show). A
        database no other process shares: always. On a server, the first process to ask
        leads until it stops or loses its connection; then the next one that asks."""
        return True

    def reading(self, *, snapshot: bool = False) -> AbstractAsyncContextManager[Connection]:
        """Reads, without waiting for the writer: each statement sees what was committed
        before it ran (two statements may see a commit between them). With `snapshot`,
        every statement of the block sees the database as the first one did."""
        raise NotImplementedError

    async def announce(self) -> None:
        """Tell the other processes sharing the database that something changed (what the
        live screens show), so that theirs look again now. A database no other process
        shares: nothing to tell, nothing done."""

    async def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` whenever another process sharing the database announces a
        change (never for this one's own); returns what stops it. A database no other
        process shares: never called, nothing kept open."""
        return lambda: None


def failure_of(error: BaseException) -> str | None:
    """What a database error says of the store, for the bot's record of faults: "locked"
    (another connection held it past the busy timeout), "full" (the disk, or the file's
    page limit), "io" (the disk failed, the file is read-only or damaged, or the server
    cannot be reached); None for anything else (a bug, not a fault of the store)."""
    from storage.postgres import failure_of_postgres
    from storage.sqlite import failure_of_sqlite

    return failure_of_sqlite(error) or failure_of_postgres(error)


def equals(column: str, value: object) -> tuple[str, tuple[object, ...]]:
    """`column` equal to `value`, NULL equal to NULL, and its parameters: both engines
    read it (their `IS` differ, and SQLite has IS DISTINCT FROM only since 3.39)."""
    if value is None:
        return f"{column} IS NULL", ()
    return f"{column} = ?", (value,)


def differs(column: str, value: object) -> tuple[str, tuple[object, ...]]:
    """`column` different from `value`, NULL equal to NULL (see `equals`)."""
    if value is None:
        return f"{column} IS NOT NULL", ()
    return f"({column} IS NULL OR {column} <> ?)", (value,)


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
