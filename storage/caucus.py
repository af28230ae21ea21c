"""Caucus votes: within one category, what its members agree to put to the agora."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from storage import participants as participant_rows
from storage import statements as statement_rows
from storage import updates
from storage import votes as vote_rows
from storage.db import Database, qualified, to_text
from storage.models import Participant, Statement, Vote
from storage.votes import VoteWrite

COLUMNS = vote_rows.COLUMNS  # a caucus vote is stored as an agora vote is


async def candidates(
    db: Database, *, workshop_id: int, participant_id: int, category: str
) -> list[Statement]:
    """The group's statements the participant may vote on in the caucus: requests and
    commitments of their category, approved, not yet in the agora, neither written nor
    voted on by them; by number."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {statement_rows.COLUMNS} FROM statements s"
            " WHERE s.workshop_id = ? AND s.source_category = ? AND s.status = 'approved'"
            " AND s.in_agora_at IS NULL AND s.kind IN ('request', 'commitment')"
            " AND (s.participant_id IS NULL OR s.participant_id <> ?)"
            " AND NOT EXISTS (SELECT 1 FROM caucus_votes v"
            "   WHERE v.statement_id = s.id AND v.participant_id = ?)"
            " ORDER BY s.number",
            (workshop_id, category, participant_id, participant_id),
        ) as rows,
    ):
        return [statement_rows.from_row(row) for row in await rows.fetchall()]


async def cast(
    db: Database,
    *,
    update_id: int | None,
    participant_id: int,
    statement_id: int,
    value: str,
    now: datetime,
) -> VoteWrite:
    """Store or change a caucus vote, only while the statement is approved, its workshop's
    caucus open, and the voter of the statement's category."""
    async with db.transaction() as conn:
        if update_id is not None and not await updates.claim(conn, update_id=update_id, now=now):
            return VoteWrite.DUPLICATE
        async with conn.execute(
            "SELECT 1 FROM statements s JOIN workshops w ON w.id = s.workshop_id"
            " JOIN participants p ON p.id = ? AND p.workshop_id = s.workshop_id"
            " AND p.category = s.source_category"
            " WHERE s.id = ? AND s.status = 'approved' AND s.in_agora_at IS NULL"
            " AND w.caucus = 1 AND w.caucus_closed_at IS NULL AND w.agora_opened_at IS NULL",
            (participant_id, statement_id),
        ) as rows:
            if await rows.fetchone() is None:
                return VoteWrite.GONE
        async with conn.execute(
            "SELECT value FROM caucus_votes WHERE statement_id = ? AND participant_id = ?",
            (statement_id, participant_id),
        ) as rows:
            row = await rows.fetchone()
        before = row["value"] if row else None
        if before == value:
            return VoteWrite.SAME
        await conn.execute(
            "INSERT INTO caucus_votes (statement_id, participant_id, value, voted_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (statement_id, participant_id)"
            " DO UPDATE SET value = excluded.value, changed_at = excluded.voted_at",
            (statement_id, participant_id, value, to_text(now)),
        )
        return VoteWrite.CHANGED if before else VoteWrite.NEW


async def of_workshop(db: Database, *, workshop_id: int) -> list[Vote]:
    """Every caucus vote of the workshop (the authors' own agreement included)."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {qualified(COLUMNS, 'v')} FROM caucus_votes v"
            " JOIN statements s ON s.id = v.statement_id"
            " WHERE s.workshop_id = ? ORDER BY v.statement_id, v.participant_id",
            (workshop_id,),
        ) as rows,
    ):
        return [vote_rows.from_row(row) for row in await rows.fetchall()]


async def of_participant(db: Database, *, participant_id: int) -> list[Vote]:
    """A participant's caucus votes (for their right of access)."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM caucus_votes WHERE participant_id = ?"
            " ORDER BY voted_at, statement_id",
            (participant_id,),
        ) as rows,
    ):
        return [vote_rows.from_row(row) for row in await rows.fetchall()]


async def close(
    db: Database,
    *,
    workshop_id: int,
    now: datetime,
    choose: Callable[[list[Statement], list[Vote], list[Participant]], list[int]],
) -> list[int] | None:
    """End the caucus once, with the groups' choice made (by `choose`, over the workshop's
    statements, caucus votes and participants) inside the same transaction, so that no
    vote or approval can fall between the count and the close: the chosen statements
    enter the agora (with their authors' agreement as votes). None if it was closed
    before."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE workshops SET caucus_closed_at = ? WHERE id = ? AND caucus_closed_at IS NULL",
            (to_text(now), workshop_id),
        )
        if cursor.rowcount != 1:
            return None
        async with conn.execute(
            f"SELECT {statement_rows.COLUMNS} FROM statements WHERE workshop_id = ?"
            " ORDER BY number",
            (workshop_id,),
        ) as rows:
            found = [statement_rows.from_row(row) for row in await rows.fetchall()]
        async with conn.execute(
            f"SELECT {qualified(COLUMNS, 'v')} FROM caucus_votes v"
            " JOIN statements s ON s.id = v.statement_id WHERE s.workshop_id = ?",
            (workshop_id,),
        ) as rows:
            cast = [vote_rows.from_row(row) for row in await rows.fetchall()]
        async with conn.execute(
            f"SELECT {participant_rows.COLUMNS} FROM participants WHERE workshop_id = ?",
            (workshop_id,),
        ) as rows:
            members = [participant_rows.from_row(row) for row in await rows.fetchall()]
        entered = []
        for statement_id in choose(found, cast, members):
            if await statement_rows.enter(conn, statement_id, now):
                entered.append(statement_id)
        return entered
