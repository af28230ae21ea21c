"""Answers: one current answer per participant and question."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.db import Database, from_required_text, from_text, to_text
from storage.models import Answer


async def save(
    conn: aiosqlite.Connection, *, participant_id: int, question_id: str, value: str, now: datetime
) -> None:
    """Store or replace an answer inside the caller's transaction (an edit keeps the first time)."""
    await conn.execute(
        "INSERT INTO answers (participant_id, question_id, value, answered_at)"
        " VALUES (?, ?, ?, ?)"
        " ON CONFLICT (participant_id, question_id) DO UPDATE SET value = excluded.value,"
        " edited_at = excluded.answered_at",
        (participant_id, question_id, value, to_text(now)),
    )


async def for_participant(db: Database, *, participant_id: int) -> list[Answer]:
    """A participant's answers, in the order they were first given."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT participant_id, question_id, value, answered_at, edited_at FROM answers"
            " WHERE participant_id = ? ORDER BY answered_at, rowid",
            (participant_id,),
        ) as rows,
    ):
        return [
            Answer(
                participant_id=row["participant_id"],
                question_id=row["question_id"],
                value=row["value"],
                answered_at=from_required_text(row["answered_at"]),
                edited_at=from_text(row["edited_at"]),
            )
            for row in await rows.fetchall()
        ]
