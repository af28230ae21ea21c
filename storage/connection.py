"""What storage/ writes its SQL against, whichever engine runs it.

A statement runs and its rows are read whole in one go (`execute`), which is what
storage/ needs: its queries return a few rows. The SQL is written once, with `?`
placeholders, in the dialect SQLite and PostgreSQL share; each engine's connection
(`storage.sqlite`, `storage.postgres`) runs it its own way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol


class Row(Protocol):
    """A row as both engines give it: by column name or position."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Rows:
    """What a statement gave: its rows (already fetched), and how many a write changed."""

    def __init__(self, rows: Sequence[Row], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    async def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[Row]:
        rest, self._next = list(self._rows[self._next :]), len(self._rows)
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


async def inserted_id(rows: Rows) -> int:
    """The id an INSERT … RETURNING id gave."""
    row = await rows.fetchone()
    assert row is not None, "the INSERT made no row"
    return int(row[0])


class _Pending:
    """A statement on its way: awaited (`rows = await conn.execute(...)`) or entered
    (`async with conn.execute(...) as rows`), as a driver's cursor is."""

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


Statement = tuple[str, Sequence[Any]]


class Connection:
    """A connection as storage/ uses it, inside a transaction or a read. A write whose
    result nobody reads can be `defer`red: it runs, in order, just before the next
    statement or the transaction's COMMIT (on SQLite, in the same hop to its thread)."""

    def __init__(self) -> None:
        self._deferred: list[Statement] = []

    def defer(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        """A write to run with the next statement; an error it raises is raised there."""
        self._deferred.append((sql, parameters))

    def _take_deferred(self) -> list[Statement]:
        deferred, self._deferred = self._deferred, []
        return deferred

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Pending:
        return _Pending(lambda: self._run([(sql, parameters)], single=True))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Pending:
        """One statement for each set of parameters; the rows changed, summed."""

        async def run() -> Rows:
            done = await self._run([(sql, p) for p in parameters], single=False)
            return Rows([], sum(rows.rowcount for rows in done))

        return _Pending(run)

    async def insert_many(
        self, into: str, rows: Sequence[Sequence[Any]], *, then: str = "", chunk: int = 500
    ) -> int:
        """`INSERT INTO {into} VALUES (…), (…) {then}`, `chunk` rows a statement: a
        mailing's thousands of recipients in a few trips, not one each (on a server, each
        trip is made while every other writer waits). How many rows it added."""
        added = 0
        if rows:  # PostgreSQL takes at most 32,767 parameters a statement
            chunk = max(1, min(chunk, 32_767 // len(rows[0])))
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            row = "(" + ", ".join("?" * len(part[0])) + ")"
            sql = f"INSERT INTO {into} VALUES {', '.join([row] * len(part))} {then}".rstrip()
            done = await self.execute(sql, [value for one in part for value in one])
            added += done.rowcount
        return added

    async def each(self, statements: Sequence[Statement]) -> list[Rows]:
        """Several statements, in order, in as few trips as the engine allows: reads that
        go together (a participant, their workshop, whether the update was seen)."""
        return await self._run(list(statements), single=False)

    async def _run(self, statements: list[Statement], *, single: bool) -> Any:
        """Run the deferred writes, then `statements`; the Rows of each (of the one, if
        `single`)."""
        raise NotImplementedError

    async def commit(self) -> None:
        """Run what was deferred, then COMMIT."""
        raise NotImplementedError
