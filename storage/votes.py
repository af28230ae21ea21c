"""Agora votes: one per participant and statement, written once per update."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from storage import updates
from storage.connection import Row
from storage.db import Database, from_required_text, from_text, to_text
from storage.models import Vote


class VoteWrite(Enum):
    NEW = "new"
    CHANGED = "changed"
    SAME = "same"  # the same vote again: nothing changed
    DUPLICATE = "duplicate"  # the update was handled before
    GONE = "gone"  # the statement stopped being open to votes meanwhile


COLUMNS = "statement_id, participant_id, value, voted_at, changed_at"


def from_row(row: Row) -> Vote:
    return Vote(
        statement_id=row["statement_id"],
        participant_id=row["participant_id"],
        value=row["value"],
        voted_at=from_required_text(row["voted_at"]),
        changed_at=from_text(row["changed_at"]),
    )


async def cast(
    db: Database,
    *,
    update_id: int | None,
    participant_id: int,
    statement_id: int,
    value: str,
    now: datetime,
) -> tuple[VoteWrite, str | None]:
    """Store or change a vote, only while the statement is put to everyone, its workshop's
    agora open and, in a room, the room on it with its vote open. Returns what happened and
    the vote held before."""
    async with db.transaction() as conn:
        if update_id is not None and not await updates.claim(conn, update_id=update_id, now=now):
            return VoteWrite.DUPLICATE, None
        # Whether the statement takes votes, and the vote held before: one hop.
        open_to_votes, held = await conn.each(
            [
                (
                    "SELECT 1 FROM statements s JOIN workshops w ON w.id = s.workshop_id"
                    " WHERE s.id = ? AND s.status = 'approved' AND s.in_agora_at IS NOT NULL"
                    " AND w.agora_opened_at IS NOT NULL AND w.agora_closed_at IS NULL"
                    " AND (w.agora_mode = 'self'"
                    "  OR (w.room_statement_id = s.id AND w.room_vote_closed = 0))",
                    (statement_id,),
                ),
                (
                    "SELECT value FROM votes WHERE statement_id = ? AND participant_id = ?",
                    (statement_id, participant_id),
                ),
            ]
        )
        if await open_to_votes.fetchone() is None:
            return VoteWrite.GONE, None
        row = await held.fetchone()
        before = row["value"] if row else None
        if before == value:
            return VoteWrite.SAME, before
        stamp = to_text(now)
        await conn.execute(
            "INSERT INTO votes (statement_id, participant_id, value, voted_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (statement_id, participant_id)"
            " DO UPDATE SET value = excluded.value, changed_at = excluded.voted_at",
            (statement_id, participant_id, value, stamp),
        )
        return (VoteWrite.CHANGED if before else VoteWrite.NEW), before


async def of_participant(db: Database, *, participant_id: int) -> list[Vote]:
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT statement_id, participant_id, value, voted_at, changed_at FROM votes"
            " WHERE participant_id = ? ORDER BY voted_at, statement_id",
            (participant_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def value(db: Database, *, participant_id: int, statement_id: int) -> str | None:
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT value FROM votes WHERE statement_id = ? AND participant_id = ?",
            (statement_id, participant_id),
        ) as rows,
    ):
        row = await rows.fetchone()
    return row["value"] if row else None


async def on_statement(db: Database, *, statement_id: int) -> list[tuple[str | None, str]]:
    """Each vote on a statement as (the voter's category, the vote): what a live tally by
    category is made of, without anyone's identity."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT p.category, v.value FROM votes v JOIN participants p"
            " ON p.id = v.participant_id WHERE v.statement_id = ?",
            (statement_id,),
        ) as rows,
    ):
        return [(row[0], row[1]) for row in await rows.fetchall()]


async def of_statement(db: Database, *, statement_id: int) -> dict[int, str]:
    """Each participant's vote on one statement (participant id -> vote), read at once
    for a whole room."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT participant_id, value FROM votes WHERE statement_id = ?", (statement_id,)
        ) as rows,
    ):
        return {row[0]: row[1] for row in await rows.fetchall()}
