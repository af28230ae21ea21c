"""What a test reads and arranges in the bot's database, on either engine, the way
`sqlite3` does it: `with connect(settings.database) as conn: conn.execute(sql, params)`.

On SQLite it is `sqlite3` itself. On PostgreSQL, each statement runs through asyncpg on a
thread of its own (the test's event loop is busy running the bot), with storage/'s `?`
placeholders numbered; rows are tuples, or by name too once `row_factory` is set, as
with `sqlite3`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

import asyncpg

from storage.address import is_server_address
from storage.postgres import numbered, scratch_database

Row = sqlite3.Row


class _Result:
    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Any:
        return iter(self.fetchall())


class _ServerConnection:
    """A synchronous connection to a PostgreSQL database, for a test's own statements:
    each runs and commits at once."""

    def __init__(self, target: str) -> None:
        self._target = target
        self.row_factory: Any = None

    def _run(self, sql: str, parameters: Sequence[Any]) -> _Result:
        text, returns_rows = numbered(sql)

        async def work() -> _Result:
            connection = await asyncpg.connect(self._target)
            try:
                if returns_rows:
                    records = await connection.fetch(text, *parameters)
                    return _Result(list(records), len(records))
                status = await connection.execute(text, *parameters)
            finally:
                await connection.close()
            last = status.rsplit(" ", 1)[-1]
            return _Result([], int(last) if last.isdigit() else -1)

        outcome: list[_Result] = []
        failure: list[BaseException] = []

        def thread() -> None:
            try:
                outcome.append(asyncio.run(work()))
            except BaseException as error:  # handed to the test's thread
                failure.append(error)

        runner = threading.Thread(target=thread)
        runner.start()
        runner.join()
        if failure:
            raise failure[0]
        result = outcome[0]
        if self.row_factory is None:  # as sqlite3 gives them: plain tuples
            result = _Result([tuple(row) for row in result.fetchall()], result.rowcount)
        return result

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Result:
        return self._run(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Result:
        total = sum(self._run(sql, each).rowcount for each in parameters)
        return _Result([], total)

    def commit(self) -> None:
        """Each statement committed as it ran."""

    def close(self) -> None:
        """Nothing stays open between statements."""

    def __enter__(self) -> _ServerConnection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None


def postgresql_database(server: str) -> AbstractAsyncContextManager[str]:
    """A new, empty database on the PostgreSQL `server` for the length of the block (its
    address), dropped after."""
    return scratch_database(server, prefix="coopbot_test_")


def settle_identities(target: str | Any) -> None:
    """After rows were written with their ids given, the next id of each PostgreSQL table
    comes after them (SQLite needs nothing: it takes the largest one plus one)."""
    if not is_server_address(str(target)):
        return
    with connect(target) as conn:
        found = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND is_identity = 'YES'"
        ).fetchall()
        for table, column in found:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" (SELECT MAX({column}) FROM {table}))"
            )


def tables(target: str | Any) -> list[str]:
    """The bot's tables in the database `target` names (not the engine's own, nor the
    schema's version)."""
    with connect(target) as conn:
        if is_server_address(str(target)):
            found = conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            ).fetchall()
        else:
            found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return sorted(
        name for (name,) in found if not name.startswith("sqlite_") and name != "schema_version"
    )


def connect(target: str | Any, **options: Any) -> Any:
    """A connection to the database `target` names (a SQLite path or a postgresql://
    address), used as `sqlite3.connect`'s is (`options` are sqlite3's own)."""
    if is_server_address(str(target)):
        return _ServerConnection(str(target))
    return sqlite3.connect(target, **options)


def server_problem(server: str) -> str | None:
    """Why the PostgreSQL `server` cannot take the suite's databases, or None if it can."""

    async def probe() -> None:
        connection = await asyncpg.connect(server, timeout=5)
        await connection.close()

    outcome: list[str | None] = []

    def thread() -> None:  # the test's event loop may be running: a loop of its own
        try:
            asyncio.run(probe())
        except Exception as error:  # refused, unknown, or not an address at all
            outcome.append(f"{type(error).__name__}: {error}")
        else:
            outcome.append(None)

    runner = threading.Thread(target=thread)
    runner.start()
    runner.join()
    return outcome[0]


if __name__ == "__main__":  # scripts/test.sh: is there a server to run the suite on?
    import sys

    from storage.address import shown_target

    address = sys.argv[1]
    problem = server_problem(address)
    if problem is not None:
        print(
            f"the PostgreSQL run is skipped: no server answers at {shown_target(address)}"
            f" ({problem}); set COOPBOT_TEST_POSTGRESQL to one to run it"
        )
        sys.exit(1)
