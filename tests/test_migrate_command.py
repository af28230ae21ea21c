"""`coopbot migrate`: a file of the current release copied to PostgreSQL with every row of
every table accounted for, then read and written by the bot's own storage."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.migrate_command import run_migrate
from storage import answers, participants, quotes, statements, workshops
from storage.db import Database
from storage.migrations import LATEST_VERSION

SERVER = (
    os.environ.get("COOPBOT_TEST_POSTGRESQL", "").strip()
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)
RELEASE = Path(__file__).parent / "data" / "release.sqlite3"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def target(server_database: str) -> str:
    """A new, empty database on the test server, dropped after the test."""
    return server_database


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """The release's file, copied: the test may migrate or change it."""
    copy = tmp_path / "coopbot.sqlite3"
    shutil.copyfile(RELEASE, copy)
    return copy


async def migrate(source: Path | str, target: str) -> tuple[int, str]:
    """The command's exit code and output (on a thread: it runs its own event loop)."""
    out = io.StringIO()
    code = await asyncio.to_thread(run_migrate, str(source), target, out)
    return code, out.getvalue()


def file_tables(path: Path) -> dict[str, list[str]]:
    """Each table of the file and its columns, `rowid` first where the server keeps it."""
    with sqlite3.connect(path) as conn:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite%' ORDER BY name"
            )
        ]
        tables = {
            name: [row[1] for row in conn.execute(f"PRAGMA table_info({name})")] for name in names
        }
    tables["answers"].insert(0, "rowid")
    return tables


def file_rows(path: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    return sorted(rows, key=repr)


async def server_rows(target: str, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(target)
    try:
        rows = await conn.fetch(f"SELECT {', '.join(columns)} FROM {table}")
    finally:
        await conn.close()
    return sorted((tuple(row) for row in rows), key=repr)


async def server_counts(target: str) -> dict[str, int]:
    conn = await asyncpg.connect(target)
    try:
        names = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name <> 'schema_version'"
        )
        return {
            row["table_name"]: await conn.fetchval(f"SELECT count(*) FROM {row['table_name']}")
            for row in names
        }
    finally:
        await conn.close()


def with_password(address: str, password: str) -> str:
    parts = urlsplit(address)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:{password}@{host}"))


async def test_the_release_file_is_copied_row_for_row(release: Path, target: str) -> None:
    tables = file_tables(release)
    counts = {table: len(file_rows(release, table, columns)) for table, columns in tables.items()}
    for table in ("workshops", "participants", "answers", "votes", "caucus_votes", "statements"):
        assert counts[table] > 0, table
    for table in ("resolutions", "mailings", "deliveries", "audit", "processed_updates"):
        assert counts[table] > 0, table

    code, output = await migrate(release, target)

    assert code == 0, output
    with sqlite3.connect(release) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    # The file was brought to the latest schema first (new tables come empty), nothing lost.
    tables = file_tables(release)
    migrated = {table: len(file_rows(release, table, columns)) for table, columns in tables.items()}
    assert {t: n for t, n in migrated.items() if t in counts} == counts
    assert {t: n for t, n in migrated.items() if t not in counts} == {
        "workers": 0,
        "screen_tickets": 0,
    }
    counts = migrated
    assert await server_counts(target) == counts
    lines = output.splitlines()
    for table, count in counts.items():
        assert f"{table}: {count} {'row' if count == 1 else 'rows'}" in lines
    assert f"copied {sum(counts.values())} rows of {len(counts)} tables" in lines[-1]
    # Every value of every row, ids and answers' rowids included.
    for table, columns in tables.items():
        assert await server_rows(target, table, columns) == file_rows(release, table, columns)
    # A few by hand: one participant's answers with their rowids, the votes counted.
    mine = ["rowid", "question_id", "value"]
    answered = [row for row in file_rows(release, "answers", ["participant_id", *mine])]
    first = [row[1:] for row in answered if row[0] == 1]
    assert len(first) > 10
    copied = await server_rows(target, "answers WHERE participant_id = 1", mine)
    assert copied == sorted(first, key=repr)
    counted = file_rows(release, "statements", ["id", "vote_count"])
    assert any(votes > 0 for _, votes in counted)
    assert await server_rows(target, "statements", ["id", "vote_count"]) == counted


async def test_the_bot_reads_the_copy_and_gives_fresh_ids(release: Path, target: str) -> None:
    with sqlite3.connect(release) as conn:
        conn.row_factory = sqlite3.Row
        workshop = conn.execute("SELECT * FROM workshops").fetchone()
        consented = conn.execute(
            "SELECT count(*) FROM participants WHERE consented_at IS NOT NULL"
        ).fetchone()[0]
        last = conn.execute(
            "SELECT rowid, participant_id, question_id, value, shown FROM answers"
            " ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        # A statement and a participant of its workshop who has not voted on it.
        statement = conn.execute(
            "SELECT s.*, p.id AS voter FROM statements s"
            " JOIN participants p ON p.workshop_id = s.workshop_id"
            " WHERE NOT EXISTS (SELECT 1 FROM votes v"
            "  WHERE v.statement_id = s.id AND v.participant_id = p.id)"
            " ORDER BY s.vote_count DESC, s.id, p.id LIMIT 1"
        ).fetchone()
        highest = {
            table: conn.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]
            for table in ("workshops", "audit", "participants")
        }
        # An id SQLite gave and took back (AUTOINCREMENT) is not given again on the server.
        conn.execute("DELETE FROM audit WHERE id = ?", (highest["audit"],))
    assert (await migrate(release, target))[0] == 0

    db = await Database.open(target)
    try:
        found = await workshops.find_by_code(db, code=workshop["code"])
        assert found is not None and found[0].title == workshop["title"]
        assert len(await participants.of_workshop(db, workshop_id=workshop["id"])) == consented
        given = await answers.for_participant(db, participant_id=last["participant_id"])
        assert last["question_id"] in {answer.question_id for answer in given}
        quoted = await quotes.get(db, answer_id=last["rowid"])
        assert quoted is not None and quoted.question_id == last["question_id"]
        assert quoted.text == (last["shown"] or last["value"])
        copied = await statements.get(db, statement_id=statement["id"])
        assert copied is not None and copied.text == statement["text"]

        # New rows take the next ids, the answers' rowid too.
        new = await workshops.create(
            db,
            code="MIGRATED1",
            facilitator_code="MIGRATED1F",
            title="After the move",
            journey_id=workshop["journey_id"],
            created_by=1,
            now=NOW,
        )
        assert new.id == highest["workshops"] + 1
        async with db.transaction() as conn:
            await answers.save(
                conn, participant_id=last["participant_id"], question_id="after", value="x", now=NOW
            )
        assert await server_rows(target, "answers WHERE question_id = 'after'", ["rowid"]) == [
            (last["rowid"] + 1,)
        ]
        assert await server_rows(target, f"audit WHERE workshop_id = {new.id}", ["id"]) == [
            (highest["audit"] + 1,)
        ]
        # The triggers count again: a new vote adds one to the copied count.
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO votes (statement_id, participant_id, value, voted_at)"
                " VALUES (?, ?, 'agree', ?)",
                (statement["id"], statement["voter"], NOW.isoformat()),
            )
        assert await server_rows(
            target, f"statements WHERE id = {statement['id']}", ["vote_count"]
        ) == [(statement["vote_count"] + 1,)]
    finally:
        await db.close()


async def test_references_that_form_a_cycle_are_copied(release: Path, target: str) -> None:
    """A participant's phone shows a statement while a statement names its author, and a
    statement merged into a later one: both copied as the file has them."""
    with sqlite3.connect(release) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM statements ORDER BY id")]
        conn.execute(
            "UPDATE participants SET offer_statement_id = ?, caucus_statement_id = ? WHERE id = 1",
            (ids[-1], ids[0]),
        )
        conn.execute("UPDATE statements SET merged_into = ? WHERE id = ?", (ids[-1], ids[0]))
    columns = ["id", "offer_statement_id", "caucus_statement_id"]

    assert (await migrate(release, target))[0] == 0

    assert await server_rows(target, "participants", columns) == file_rows(
        release, "participants", columns
    )
    assert (1, ids[-1], ids[0]) in await server_rows(target, "participants", columns)
    merged = await server_rows(target, f"statements WHERE id = {ids[0]}", ["merged_into"])
    assert merged == [(ids[-1],)]


async def test_a_target_holding_data_is_refused_and_left_unchanged(
    release: Path, target: str
) -> None:
    db = await Database.open(target)
    try:
        await workshops.create(
            db,
            code="ALREADY",
            facilitator_code="ALREADYF",
            title="Already here",
            journey_id="coop",
            created_by=1,
            now=NOW,
        )
    finally:
        await db.close()
    before = await server_counts(target)

    code, output = await migrate(release, target)

    assert code == 2
    assert output.count("\n") == 1
    assert "already holds data" in output
    assert await server_counts(target) == before


async def test_another_applications_database_gets_none_of_our_tables(
    release: Path, target: str
) -> None:
    conn = await asyncpg.connect(target)
    try:
        await conn.execute("CREATE TABLE invoices (id BIGINT PRIMARY KEY, total NUMERIC)")
    finally:
        await conn.close()

    code, output = await migrate(release, target)

    assert code == 2 and "invoices" in output and output.count("\n") == 1
    assert set(await server_counts(target)) == {"invoices"}  # no table of ours was made


async def test_a_missing_source_or_a_different_schema_is_refused(
    tmp_path: Path, release: Path, target: str
) -> None:
    missing = tmp_path / "absent.sqlite3"
    code, output = await migrate(missing, target)
    assert code == 2 and "no SQLite file" in output and output.count("\n") == 1
    assert not missing.exists()

    with sqlite3.connect(release) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    code, output = await migrate(release, target)
    assert code == 2 and "table notes only in the file" in output
    assert set((await server_counts(target)).values()) == {0}


async def test_the_output_names_no_password(release: Path, target: str) -> None:
    password = "s3cret-Passw0rd"  # the test server trusts the address: any password goes
    guarded = with_password(target, password)

    code, output = await migrate(release, guarded)
    assert code == 0, output
    assert password not in output and ":***@" in output

    code, output = await migrate(release, guarded)  # refused: it holds data now
    assert code == 2 and password not in output

    unreachable = urlunsplit(urlsplit(guarded)._replace(netloc=f"u:{password}@127.0.0.1:1"))
    code, output = await migrate(release, unreachable)
    assert code == 2 and output.count("\n") == 1
    assert password not in output and "cannot copy" in output
