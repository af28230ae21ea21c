"""A whole deployment copied from its SQLite file to an empty PostgreSQL database
(`coopbot migrate`): every table, every row with its ids, in one transaction on the server,
then the rows of each table counted on both sides.

The tables and their columns are read from the file itself and must be the server's: a
difference stops the copy before it writes. The file is first brought to the latest
schema (as the bot would at start), so a file from an older release copies too.

Foreign keys stay enforced while the copy writes: the tables go in an order where each
follows those it refers to, and a cycle (participants point at the statement on their
phone, statements at their author) is broken by copying the nullable side's references
as NULL and setting them once every table is in. The server's own triggers (the votes
that keep `statements.vote_count`) are disabled for the copy, whose counts arrive as the
file had them, and enabled again before the commit (this takes the tables' owner, the
role that created the schema, not a superuser). Each identity then restarts after
the highest id copied (or the highest SQLite ever gave, for its AUTOINCREMENT tables), so
that new rows take fresh ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from storage import postgres_schema
from storage.address import is_server_address
from storage.connection import Connection
from storage.db import Database
from storage.postgres import WRITE_LOCK

# Tables whose implicit SQLite rowid the server keeps as a column of that name (quotes
# refer to an answer by it).
ROWID_KEPT = frozenset({"answers"})
# The server's own bookkeeping, which the file keeps in `PRAGMA user_version`.
SERVER_ONLY = frozenset({"schema_version"})


class CopyError(Exception):
    """Why the copy was not made: nothing was written to the server (its transaction,
    if it began, was rolled back)."""


@dataclass(frozen=True)
class Copied:
    """What the copy wrote: each table and its rows, in the order copied (the counts of
    both sides, found equal)."""

    tables: tuple[tuple[str, int], ...]

    @property
    def rows(self) -> int:
        return sum(count for _, count in self.tables)


@dataclass(frozen=True)
class _Reference:
    column: str
    table: str
    nullable: bool


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]  # as selected from the file (`rowid` included where kept)
    key: tuple[str, ...]  # the primary key's columns
    references: tuple[_Reference, ...]


async def copy_deployment(source: Path | str, target: str) -> Copied:
    """Copy the SQLite file `source` into the empty PostgreSQL database at `target`
    (its schema created if need be); raises CopyError when it cannot, having written no
    row."""
    if not is_server_address(target):
        raise CopyError("the target must be a PostgreSQL address (postgresql://…)")
    path = _file_at(source)
    # The server first: one that cannot be reached leaves the file as it was; one that
    # holds tables of another application (a wrong address) gets none of ours.
    await _refuse_foreign_tables(target)
    target_db = await Database.open(target)
    try:
        theirs = await target_db.schema_version()
    finally:
        await target_db.close()
    source_db = await Database.open(path)
    try:
        ours = await source_db.schema_version()
        if ours != theirs:
            raise CopyError(
                f"the file's schema is at version {ours} and the server's at {theirs}: "
                "this coopbot cannot copy one into the other"
            )
        server = await asyncpg.connect(target)
        try:
            async with source_db.reading(snapshot=True) as file:
                return await _copy(file, server)
        finally:
            await server.close()
    finally:
        await source_db.close()


async def _refuse_foreign_tables(target: str) -> None:
    """Refuse a database holding tables coopbot never makes, before making any."""
    server = await asyncpg.connect(target)
    try:
        found = await server.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    finally:
        await server.close()
    ours = {"schema_version", *postgres_schema.TABLES}
    foreign = sorted(row["table_name"] for row in found if row["table_name"] not in ours)
    if foreign:
        raise CopyError(
            "the target database holds tables coopbot does not make"
            f" ({', '.join(foreign[:5])}): give it an empty database of its own"
        )


def _file_at(source: Path | str) -> Path:
    """The SQLite file `source` names, which must exist (Database.open would create it)."""
    if is_server_address(str(source)):
        raise CopyError("the source must be a SQLite file, not a server address")
    path = Path(source)
    if not path.is_file():
        raise CopyError(f"no SQLite file at {path}")
    return path


async def _copy(file: Connection, server: asyncpg.Connection) -> Copied:
    """Every table of `file` into `server`, in one transaction, the counts checked."""
    tables = await _tables_of(file)
    order, deferred = _plan(tables)
    async with server.transaction():
        # As every write of the bot does: a worker already running waits for the copy.
        await server.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
        await _check_schema(server, tables)
        await _check_empty(server)
        triggered = await _tables_with_triggers(server)
        for name in triggered:
            await server.execute(f"ALTER TABLE {_quoted(name)} DISABLE TRIGGER USER")
        later: list[tuple[_Table, tuple[str, ...], list[tuple[Any, ...]]]] = []
        for table in order:
            postponed = deferred.get(table.name, ())
            updates = await _copy_table(file, server, table, postponed)
            if updates:
                later.append((table, postponed, updates))
        for table, postponed, updates in later:
            await _set_postponed(server, table, postponed, updates)
        for name in triggered:
            await server.execute(f"ALTER TABLE {_quoted(name)} ENABLE TRIGGER USER")
        await _restart_identities(file, server)
        counted = await _compare_counts(file, server, order)
    return Copied(counted)


async def _tables_of(file: Connection) -> list[_Table]:
    """The file's tables (SQLite's own left out), their columns, keys and references."""
    names = await _read(
        file,
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    tables = []
    for (name,) in names:
        info = await _read(file, f"PRAGMA table_info({_quoted(name)})")
        # cid, name, type, notnull, dflt_value, pk
        columns = [str(row[1]) for row in info]
        nullable = {str(row[1]): not row[3] and not row[5] for row in info}
        key = tuple(str(row[1]) for row in sorted(info, key=lambda row: row[5]) if row[5])
        keys = await _read(file, f"PRAGMA foreign_key_list({_quoted(name)})")
        # id, seq, table, from, to, on_update, on_delete, match
        references = tuple(
            _Reference(column=str(row[3]), table=str(row[2]), nullable=nullable[str(row[3])])
            for row in keys
        )
        if name in ROWID_KEPT:
            columns.insert(0, "rowid")
        tables.append(_Table(name, tuple(columns), key, references))
    return tables


def _plan(tables: Sequence[_Table]) -> tuple[list[_Table], dict[str, tuple[str, ...]]]:
    """The order to copy `tables` in, each after the tables it refers to, and the columns
    to copy as NULL and set at the end, which break the cycles. A table's references to
    itself need no order: the server checks them at the end of the table's COPY."""
    remaining = {table.name: table for table in tables}
    done: set[str] = set()
    order: list[_Table] = []
    deferred: dict[str, tuple[str, ...]] = {}

    def waiting(table: _Table) -> list[_Reference]:
        return [
            ref for ref in table.references if ref.table not in done and ref.table != table.name
        ]

    while remaining:
        ready = [table for _, table in sorted(remaining.items()) if not waiting(table)]
        if not ready:  # a cycle: broken at the first table whose pending references may be NULL
            breakable = [
                table
                for _, table in sorted(remaining.items())
                if all(ref.nullable for ref in waiting(table))
            ]
            if not breakable:
                raise CopyError(
                    "the tables "
                    + ", ".join(sorted(remaining))
                    + " refer to each other through required columns: no order copies them"
                )
            table = breakable[0]
            deferred[table.name] = tuple(dict.fromkeys(ref.column for ref in waiting(table)))
            ready = [table]
        for table in ready:
            order.append(table)
            done.add(table.name)
            del remaining[table.name]
    return order, deferred


async def _check_schema(server: asyncpg.Connection, tables: Sequence[_Table]) -> None:
    """The server has the file's tables and columns, no fewer and no more."""
    rows = await server.fetch(
        "SELECT c.table_name, c.column_name FROM information_schema.columns AS c "
        "JOIN information_schema.tables AS t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
    )
    theirs: dict[str, set[str]] = {}
    for row in rows:
        if row["table_name"] not in SERVER_ONLY:
            theirs.setdefault(row["table_name"], set()).add(row["column_name"])
    ours = {table.name: set(table.columns) for table in tables}
    differences = [f"table {name} only in the file" for name in sorted(ours.keys() - theirs)]
    differences += [f"table {name} only on the server" for name in sorted(theirs.keys() - ours)]
    for name in sorted(ours.keys() & theirs.keys()):
        for column in sorted(ours[name] - theirs[name]):
            differences.append(f"column {name}.{column} only in the file")
        for column in sorted(theirs[name] - ours[name]):
            differences.append(f"column {name}.{column} only on the server")
    if differences:
        raise CopyError("the server's schema is not the file's: " + "; ".join(differences))


async def _check_empty(server: asyncpg.Connection) -> None:
    """No table of the server holds a row: the copy never mixes two deployments."""
    names = await _server_tables(server)
    holding = [name for name in names if await server.fetchval(_any_row(name))]
    if holding:
        named = ", ".join(holding[:3]) + (f" and {len(holding) - 3} more" if holding[3:] else "")
        raise CopyError(
            f"the target database already holds data (in {named}): coopbot migrate copies "
            "only into an empty database; nothing was written"
        )


async def _server_tables(server: asyncpg.Connection) -> list[str]:
    rows = await server.fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
        "ORDER BY table_name"
    )
    return [row["table_name"] for row in rows if row["table_name"] not in SERVER_ONLY]


async def _tables_with_triggers(server: asyncpg.Connection) -> list[str]:
    """The tables with triggers of the schema's own (not those of the foreign keys)."""
    rows = await server.fetch(
        "SELECT DISTINCT c.relname FROM pg_trigger AS t "
        "JOIN pg_class AS c ON c.oid = t.tgrelid "
        "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND n.nspname = current_schema() ORDER BY c.relname"
    )
    return [row["relname"] for row in rows]


async def _copy_table(
    file: Connection, server: asyncpg.Connection, table: _Table, postponed: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """Copy `table`'s rows, its `postponed` columns as NULL; for each row that has any of
    them set, their values then its key's, to set them later."""
    selected = ", ".join(_quoted(column) for column in table.columns)
    records = await _read(file, f"SELECT {selected} FROM {_quoted(table.name)}")
    updates: list[tuple[Any, ...]] = []
    if postponed:
        if not table.key:
            raise CopyError(f"{table.name} has no primary key to set its references by")
        cut = [table.columns.index(column) for column in postponed]
        by_key = [table.columns.index(column) for column in table.key]
        for index, record in enumerate(records):
            values = tuple(record[at] for at in cut)
            if any(value is not None for value in values):
                updates.append(values + tuple(record[at] for at in by_key))
            records[index] = tuple(None if at in cut else v for at, v in enumerate(record))
    try:
        await server.copy_records_to_table(table.name, records=records, columns=list(table.columns))
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise CopyError(f"{table.name} could not be copied: {error}") from error
    return updates


async def _set_postponed(
    server: asyncpg.Connection,
    table: _Table,
    postponed: tuple[str, ...],
    updates: list[tuple[Any, ...]],
) -> None:
    """Set the references copied as NULL, now that the rows they point at are in."""
    setting = ", ".join(f"{_quoted(column)} = ${at}" for at, column in enumerate(postponed, 1))
    matching = " AND ".join(
        f"{_quoted(column)} = ${at}" for at, column in enumerate(table.key, len(postponed) + 1)
    )
    try:
        await server.executemany(
            f"UPDATE {_quoted(table.name)} SET {setting} WHERE {matching}", updates
        )
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise CopyError(f"{table.name}'s references could not be set: {error}") from error


async def _restart_identities(file: Connection, server: asyncpg.Connection) -> None:
    """Every identity of the server restarts after the highest id copied, or after the
    highest the file's AUTOINCREMENT ever gave (an id freed by a deletion is not given
    again)."""
    given: dict[str, int] = {}
    if await _read(file, "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"):
        given = {name: int(seq) for name, seq in await _read(file, "SELECT * FROM sqlite_sequence")}
    identities = await server.fetch(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for row in identities:
        table, column = _quoted(row["table_name"]), _quoted(row["column_name"])
        # AUTOINCREMENT numbers a table's own ids, never the answers' rowid.
        floor = given.get(row["table_name"], 0) if row["column_name"] != "rowid" else 0
        await server.execute(
            f"SELECT setval(pg_get_serial_sequence($1, $2), "
            f"GREATEST(COALESCE(MAX({column}), 0), $3::bigint) + 1, false) FROM {table}",
            table,
            row["column_name"],
            floor,
        )


async def _compare_counts(
    file: Connection, server: asyncpg.Connection, order: Sequence[_Table]
) -> tuple[tuple[str, int], ...]:
    """Each table's rows, counted on both sides; CopyError on any difference."""
    counted = []
    wrong = []
    for table in order:
        ((ours,),) = await _read(file, f"SELECT count(*) FROM {_quoted(table.name)}")
        theirs = int(await server.fetchval(f"SELECT count(*) FROM {_quoted(table.name)}"))
        if ours != theirs:
            wrong.append(f"{table.name}: {ours} in the file, {theirs} on the server")
        counted.append((table.name, theirs))
    if wrong:
        raise CopyError("the counts differ after the copy (" + "; ".join(wrong) + ")")
    return tuple(counted)


async def _read(file: Connection, sql: str) -> list[tuple[Any, ...]]:
    """A statement's rows from the file, as tuples."""
    async with file.execute(sql) as rows:
        return [tuple(row) for row in await rows.fetchall()]


def _any_row(table: str) -> str:
    return f"SELECT EXISTS (SELECT 1 FROM {_quoted(table)})"


def _quoted(name: str) -> str:
    """An identifier as both engines read it, whatever it holds."""
    return '"' + name.replace('"', '""') + '"'
