"""A statement, its rows and its counts in one hop to the database's thread.

aiosqlite runs each call on the connection's own thread and hands the result back to the
event loop: a cursor read the usual way (execute, fetch, close) costs three such hops.
Here a statement runs and is fetched in one, which is what storage/ needs: its queries
return a few rows, read whole.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import aiosqlite

Row = aiosqlite.Row
T = TypeVar("T")


class Rows:
    """What a statement gave: its rows (already fetched), and the counts of a write."""

    def __init__(self, rows: list[Row], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    async def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[Row]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    async def __aiter__(self) -> AsyncIterator[Row]:
        for row in await self.fetchall():
            yield row

    async def __aenter__(self) -> Rows:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None


class _Pending:
    """A statement on its way: awaited (`rows = await conn.execute(...)`) or entered
    (`async with conn.execute(...) as rows`), as an aiosqlite cursor is."""

    def __init__(self, run: Callable[[], Any]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, Rows]:
        return self._run().__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> Rows:
        rows: Rows = await self._run()
        return rows

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None


class Connection:
    """One aiosqlite connection as storage/ uses it. `opening`, when set, is a statement
    run just before the first one (a transaction's BEGIN, which then costs no hop of its
    own); `opened` says whether it ran. A write whose result nobody reads can be
    `defer`red: it runs, in order, at the start of the next hop (the next statement, or
    the transaction's COMMIT)."""

    def __init__(self, connection: aiosqlite.Connection, *, opening: str | None = None) -> None:
        self._connection = connection
        self._opening = opening
        self._deferred: list[tuple[str, Sequence[Any]]] = []
        self.opened = False

    def defer(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        """A write to run with the next hop; an error it raises is raised there."""
        self._deferred.append((sql, parameters))

    async def commit(self) -> None:
        """Run what was deferred, then COMMIT, in one hop (nothing at all if no statement
        ran: the transaction was never opened)."""
        if self.opened or self._deferred:
            await self._hop(lambda raw: raw.commit())

    @property
    def total_changes(self) -> int:
        return self._connection.total_changes

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Pending:
        return _Pending(lambda: self._hop(lambda raw: _fetched(raw.execute(sql, parameters))))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Pending:
        return _Pending(lambda: self._hop(lambda raw: _fetched(raw.executemany(sql, parameters))))

    async def each(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Rows]:
        """Several statements, in order, in one hop: reads that go together (a
        participant, their workshop, whether the update was seen)."""
        return await self._hop(
            lambda raw: [_fetched(raw.execute(sql, parameters)) for sql, parameters in statements]
        )

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

    def executescript(self, script: str) -> _Pending:
        return _Pending(lambda: self._hop(lambda raw: _fetched(raw.executescript(script))))

    async def _hop(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the connection's thread (after the opening statement, once)."""

        def run() -> T:
            raw: sqlite3.Connection = self._connection._conn
            if self._opening is not None and not self.opened:
                raw.execute(self._opening)
                self.opened = True
            deferred, self._deferred = self._deferred, []
            for sql, parameters in deferred:
                raw.execute(sql, parameters).close()
            return work(raw)

        return await _on_thread(self._connection, run)


async def _on_thread(connection: aiosqlite.Connection, work: Callable[[], T]) -> T:
    """aiosqlite's own way to run a function on its connection's thread (what its cursors
    use); `aiosqlite>=0.20` has kept it."""
    result: T = await connection._execute(work)
    return result


def _fetched(cursor: sqlite3.Cursor) -> Rows:
    """A cursor's rows read whole (a write's RETURNING too: its count is right only then)."""
    try:
        rows = cursor.fetchall() if cursor.description is not None else []
        return Rows(rows, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()
