"""The versioned schema: forward migrations applied at start, tracked by `user_version`."""

from __future__ import annotations

import aiosqlite

# Each entry moves the schema from version N to N + 1. Never edit a released one:
# append a new migration instead.
MIGRATIONS: tuple[str, ...] = (
    # 1: workshops, who facilitates them, who takes part, and their answers.
    """
    CREATE TABLE workshops (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        facilitator_code TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        journey_id TEXT NOT NULL,
        created_by INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE TABLE facilitators (
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (workshop_id, user_id)
    );
    CREATE TABLE participants (
        id INTEGER PRIMARY KEY,
        workshop_id INTEGER NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL,
        category TEXT,
        language TEXT NOT NULL,
        state TEXT NOT NULL,
        joined_at TEXT NOT NULL,
        consented_at TEXT,
        finished_at TEXT,
        paused_at TEXT,
        UNIQUE (workshop_id, user_id)
    );
    CREATE TABLE answers (
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        value TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        edited_at TEXT,
        PRIMARY KEY (participant_id, question_id)
    );
    """,
    # 2: per-user preferences (language, which workshop they are in now) and the
    # ledger of handled updates that makes a redelivered update harmless.
    """
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY,
        language TEXT,
        current_participant_id INTEGER REFERENCES participants(id) ON DELETE SET NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE processed_updates (
        update_id INTEGER PRIMARY KEY,
        processed_at TEXT NOT NULL
    );
    CREATE INDEX participants_by_user ON participants(user_id);
    CREATE INDEX participants_by_workshop ON participants(workshop_id, state);
    INSERT INTO users (user_id, current_participant_id, updated_at)
        SELECT user_id, MAX(id), MAX(joined_at) FROM participants GROUP BY user_id;
    """,
    # 3: the message that carries a participant's live buttons, so that only the current
    # question ever has buttons in their chat; and the update that created a workshop, so
    # that a redelivered /newsession finds it instead of creating a second one.
    """
    ALTER TABLE participants ADD COLUMN prompt_message_id INTEGER;
    ALTER TABLE workshops ADD COLUMN source_update_id INTEGER;
    CREATE UNIQUE INDEX workshops_by_source_update ON workshops(source_update_id);
    """,
)

LATEST_VERSION = len(MIGRATIONS)


async def schema_version(connection: aiosqlite.Connection) -> int:
    """The version the file is at (0 for a new file)."""
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(connection: aiosqlite.Connection, *, target_version: int | None = None) -> int:
    """Apply every pending migration up to `target_version` (default: latest), each atomically."""
    target = LATEST_VERSION if target_version is None else target_version
    current = await schema_version(connection)
    if current > LATEST_VERSION:
        raise RuntimeError(
            f"the database is at schema version {current}, newer than this coopbot "
            f"({LATEST_VERSION}); upgrade coopbot before opening it"
        )
    for version in range(current, target):
        script = MIGRATIONS[version]
        await connection.executescript(
            f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version + 1};\nCOMMIT;"
        )
    return await schema_version(connection)
