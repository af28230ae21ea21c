"""Everything about one workshop that its synthesis and its export are made of."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database, from_required_text, from_text
from storage.models import Answer, Participant, Statement, Vote
from storage.participants import _COLUMNS as PARTICIPANT_COLUMNS
from storage.participants import _participant
from storage.statements import _COLUMNS as STATEMENT_COLUMNS
from storage.statements import _statement


@dataclass(frozen=True)
class WorkshopRows:
    participants: list[Participant]  # everyone who joined, consented or not
    answers: list[Answer]
    statements: list[Statement]
    votes: list[Vote]


async def workshop_rows(db: Database, *, workshop_id: int) -> WorkshopRows:
    """One consistent read of a workshop's participants, answers, statements and votes."""
    async with db.reading() as conn:
        async with conn.execute(
            f"SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE workshop_id = ? ORDER BY id",
            (workshop_id,),
        ) as rows:
            participants = [_participant(row) for row in await rows.fetchall()]
        async with conn.execute(
            "SELECT a.participant_id, a.question_id, a.value, a.answered_at, a.edited_at"
            " FROM answers a JOIN participants p ON p.id = a.participant_id"
            " WHERE p.workshop_id = ? ORDER BY a.participant_id, a.answered_at, a.rowid",
            (workshop_id,),
        ) as rows:
            answers = [
                Answer(
                    participant_id=row[0],
                    question_id=row[1],
                    value=row[2],
                    answered_at=from_required_text(row[3]),
                    edited_at=from_text(row[4]),
                )
                for row in await rows.fetchall()
            ]
        async with conn.execute(
            f"SELECT {STATEMENT_COLUMNS} FROM statements WHERE workshop_id = ? ORDER BY number",
            (workshop_id,),
        ) as rows:
            statements = [_statement(row) for row in await rows.fetchall()]
        async with conn.execute(
            "SELECT v.statement_id, v.participant_id, v.value, v.voted_at, v.changed_at"
            " FROM votes v JOIN statements s ON s.id = v.statement_id"
            " WHERE s.workshop_id = ? ORDER BY v.participant_id, v.voted_at",
            (workshop_id,),
        ) as rows:
            votes = [
                Vote(
                    statement_id=row[0],
                    participant_id=row[1],
                    value=row[2],
                    voted_at=from_required_text(row[3]),
                    changed_at=from_text(row[4]),
                )
                for row in await rows.fetchall()
            ]
    return WorkshopRows(participants, answers, statements, votes)
