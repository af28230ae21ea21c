"""Both engines hold the same schema: a migration appended to one list and not the other
fails here."""

from __future__ import annotations

from pathlib import Path

from storage import migrations, postgres_schema
from storage.db import Database
from tests import stored

# What one engine has and the other has not, on purpose: SQLite's own bookkeeping, and
# on PostgreSQL the answers' `rowid`, which SQLite gives every row unasked.
ENGINE_OWN = {("answers", "rowid")}


def columns(target: str) -> set[tuple[str, str]]:
    with stored.connect(target) as conn:
        if target.startswith("postgresql://"):
            found = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name <> 'schema_version'"
            ).fetchall()
            return {(table, column) for table, column in found}
        return {
            (table, info[1])
            for table in stored.tables(target)
            for info in conn.execute(f"PRAGMA table_info({table})").fetchall()
        }


async def test_both_engines_reach_the_same_version_with_the_same_columns(
    tmp_path: Path, server_database: str
) -> None:
    assert postgres_schema.LATEST_VERSION == migrations.LATEST_VERSION
    file = str(tmp_path / "coopbot.sqlite3")
    for target in (file, server_database):
        database = await Database.open(target)
        try:
            assert await database.schema_version() == migrations.LATEST_VERSION
        finally:
            await database.close()
    on_file, on_server = columns(file), columns(server_database)
    assert len(on_file) > 100  # every table's columns were read
    assert on_server - on_file == ENGINE_OWN
    assert on_file - on_server == set()
