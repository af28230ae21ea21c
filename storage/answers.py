"""Answers: one current answer per participant and question."""

from __future__ import annotations

from datetime import datetime

from storage import updates
from storage.connection import Connection, Row
from storage.db import Database, from_required_text, from_text, to_text
from storage.models import Answer

COLUMNS = "participant_id, question_id, value, answered_at, edited_at, shown"


def from_row(row: Row) -> Answer:
    return Answer(
        participant_id=row["participant_id"],
        question_id=row["question_id"],
        value=row["value"],
        answered_at=from_required_text(row["answered_at"]),
        edited_at=from_text(row["edited_at"]),
        shown=row["shown"],
    )


async def save(
    conn: Connection,
    *,
    participant_id: int,
    question_id: str,
    value: str,
    now: datetime,
    shown: str | None = None,
) -> None:
    """Store or replace an answer inside the caller's transaction (an edit keeps the first
    time); an empty value removes it (a multiple choice with every option unticked).
    `shown` is the value as others read it, when masking changed it."""
    if not value:  # deferred, as below: nothing is read back, it goes with the next hop
        conn.defer(
            "DELETE FROM answers WHERE participant_id = ? AND question_id = ?",
            (participant_id, question_id),
        )
        return
    conn.defer(
        "INSERT INTO answers (participant_id, question_id, value, shown, answered_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (participant_id, question_id) DO UPDATE SET value = excluded.value,"
        " shown = excluded.shown, edited_at = excluded.answered_at",
        (participant_id, question_id, value, shown, to_text(now)),
    )


async def for_participant(db: Database, *, participant_id: int) -> list[Answer]:
    """A participant's answers, in the order they were first given."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM answers WHERE participant_id = ? ORDER BY answered_at, rowid",
            (participant_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def value_of(db: Database, *, participant_id: int, question_id: str) -> str | None:
    """The participant's current answer to one question."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT value FROM answers WHERE participant_id = ? AND question_id = ?",
            (participant_id, question_id),
        ) as rows,
    ):
        row = await rows.fetchone()
    return row["value"] if row else None


async def values_of(
    db: Database, *, participant_id: int, question_ids: list[str]
) -> dict[str, str]:
    """The participant's current answers to these questions (question id -> value), in
    one read."""
    if not question_ids:
        return {}
    marks = ", ".join("?" for _ in question_ids)
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT question_id, value FROM answers"
            f" WHERE participant_id = ? AND question_id IN ({marks})",
            (participant_id, *question_ids),
        ) as rows,
    ):
        return {row["question_id"]: row["value"] for row in await rows.fetchall()}


async def any_of(db: Database, *, participant_id: int, question_ids: list[str]) -> bool:
    """Whether the participant answered any of these questions."""
    if not question_ids:
        return False
    marks = ", ".join("?" for _ in question_ids)
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT 1 FROM answers WHERE participant_id = ? AND question_id IN ({marks}) LIMIT 1",
            (participant_id, *question_ids),
        ) as rows,
    ):
        return await rows.fetchone() is not None


async def record(
    db: Database,
    *,
    participant_id: int,
    question_id: str,
    value: str,
    now: datetime,
    update_id: int | None = None,
    shown: str | None = None,
) -> bool:
    """Store an answer given outside the journey's steps (a follow-up's), once per update:
    False if the update was handled before."""
    async with db.transaction() as conn:
        if update_id is not None and not await updates.claim(conn, update_id=update_id, now=now):
            return False
        await save(
            conn,
            participant_id=participant_id,
            question_id=question_id,
            value=value,
            now=now,
            shown=shown,
        )
        return True
