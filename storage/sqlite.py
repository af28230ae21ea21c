"""The embedded engine: one SQLite file, one connection that writes, a few that only read.

aiosqlite runs every statement of a connection on that connection's own thread. Writes go
through one connection, and a lock makes each transaction atomic with respect to the
other coroutines sharing it; the lock is held only while writing. Reads go to their own
connections (WAL lets them read while a transaction writes), without the lock: a read
sees every transaction committed before it began, so a read after the caller's own
commit sees it. A read that must see a write not yet committed belongs inside that
transaction.

Each statement, with its rows, is one hop to a connection's thread: a cursor read the
usual way (execute, fetch, close) costs three. BEGIN goes with the first statement, and
deferred writes with the next one or the COMMIT.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.connection import Connection, Rows, Statement
from storage.db import Database
from storage.migrations import migrate

T = TypeVar("T")

# Connections that only read: one for the reads of a statement each (one thread, taking
# them first come, first served: two chats' reads keep the order they arrived in; more
# threads measured no faster under the GIL), one for snapshots.
READERS = 2
BUSY_TIMEOUT_MS = 5000


class SqliteConnection(Connection):
    """One aiosqlite connection. `opening`, when set, is a statement run just before the
    first one (a transaction's BEGIN, which then costs no hop of its own); `opened` says
    whether it ran."""

    def __init__(self, connection: aiosqlite.Connection, *, opening: str | None = None) -> None:
        super().__init__()
        self._connection = connection
        self._opening = opening
        self.opened = False

    async def _run(self, statements: list[Statement], *, single: bool) -> Any:
        def work(raw: sqlite3.Connection) -> Any:
            done = [_fetched(raw.execute(sql, parameters)) for sql, parameters in statements]
            return done[0] if single else done

        return await self._hop(work)

    async def commit(self) -> None:
        """Run what was deferred, then COMMIT, in one hop (nothing at all if no statement
        ran: the transaction was never opened)."""
        if self.opened or self._deferred:
            await self._hop(lambda raw: raw.commit())

    async def alone(self, sql: str, parameters: Sequence[Any] = ()) -> Rows:
        """One statement as a transaction of its own (BEGIN IMMEDIATE, it, COMMIT), in one
        hop: for a write that needs nothing else atomic with it."""

        def run(raw: sqlite3.Connection) -> Rows:
            raw.execute("BEGIN IMMEDIATE")
            try:
                done = _fetched(raw.execute(sql, parameters))
                raw.commit()  # a full disk shows here: rolled back too
            except BaseException:
                raw.rollback()
                raise
            return done

        return await self._hop(run)

    async def _hop(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the connection's thread (after the opening statement, once, and
        the deferred writes)."""

        def run() -> T:
            raw: sqlite3.Connection = self._connection._conn
            if self._opening is not None and not self.opened:
                raw.execute(self._opening)
                self.opened = True
            for sql, parameters in self._take_deferred():
                raw.execute(sql, parameters).close()
            return work(raw)

        return await _on_thread(self._connection, run)


class SqliteDatabase(Database):
    """The bot's SQLite file: WAL, foreign keys, serialised transactions and reads beside
    them."""

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
        self._path = path

    @property
    def target(self) -> str:
        return str(self._path)

    @property
    def path(self) -> Path:
        return self._path

    @classmethod
    async def open_file(
        cls, path: Path | str, *, target_version: int | None = None
    ) -> SqliteDatabase:
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

    async def schema_version(self) -> int:
        async with self.reading() as conn, conn.execute("PRAGMA user_version") as rows:
            row = await rows.fetchone()
        return int(row[0]) if row else 0

    async def size_in_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            part = self._path.with_name(self._path.name + suffix)
            try:
                total += part.stat().st_size
            except OSError:  # no WAL yet, or an in-memory database
                continue
        return total

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
        async with self._lock:
            conn = SqliteConnection(self._connection, opening="BEGIN IMMEDIATE")
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
        async with self._lock:
            rows = await SqliteConnection(self._connection).alone(sql, parameters)
        return rows.rowcount

    @asynccontextmanager
    async def reading(self, *, snapshot: bool = False) -> AsyncIterator[Connection]:
        if self._snapshots is None:  # in memory: the writer's connection, between writes
            async with self._lock:
                yield SqliteConnection(self._connection)
            return
        if not snapshot:
            yield SqliteConnection(next(self._next_reader))
            return
        async with self._snapshot_lock:
            conn = SqliteConnection(self._snapshots, opening="BEGIN")
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


async def _on_thread(connection: aiosqlite.Connection, work: Callable[[], T]) -> T:
    """aiosqlite's own way to run a function on its connection's thread (what its cursors
    use); `aiosqlite>=0.20` has kept it."""
    result: T = await connection._execute(work)
    return result


def _fetched(cursor: sqlite3.Cursor) -> Rows:
    """A cursor's rows read whole (a write's RETURNING too: its count is right only then)."""
    try:
        rows = cursor.fetchall() if cursor.description is not None else []
        return Rows(rows, cursor.rowcount)
    finally:
        cursor.close()


def failure_of_sqlite(error: BaseException) -> str | None:
    """What a SQLite error says of the file: see `storage.db.failure_of`."""
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
