"""Everything about one workshop that its synthesis and its export are made of."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage import answers as answer_rows
from storage import participants as participant_rows
from storage import resolutions as resolution_rows
from storage import statements as statement_rows
from storage import votes as vote_rows
from storage.db import Database, qualified
from storage.models import Answer, Participant, Resolution, Statement, Vote


@dataclass(frozen=True)
class WorkshopRows:
    participants: list[Participant]  # everyone who joined, consented or not
    answers: list[Answer]
    statements: list[Statement]
    votes: list[Vote]
    caucus_votes: list[Vote] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)


async def workshop_rows(
    db: Database, *, workshop_id: int, agora_only: bool = False
) -> WorkshopRows:
    """One consistent read of a workshop's participants, answers, statements and votes.
    `agora_only`: what the agora's summary is made of (the live screen's), no more: the
    statements in the agora, their votes and the resolutions; no answer, no caucus vote."""
    async with db.reading(snapshot=True) as conn:
        async with conn.execute(
            f"SELECT {participant_rows.COLUMNS} FROM participants"
            " WHERE workshop_id = ? ORDER BY id",
            (workshop_id,),
        ) as rows:
            participants = [participant_rows.from_row(row) for row in await rows.fetchall()]
        answers: list[Answer] = []
        if not agora_only:
            async with conn.execute(
                f"SELECT {qualified(answer_rows.COLUMNS, 'a')}"
                " FROM answers a JOIN participants p ON p.id = a.participant_id"
                " WHERE p.workshop_id = ? ORDER BY a.participant_id, a.answered_at, a.rowid",
                (workshop_id,),
            ) as rows:
                answers = [answer_rows.from_row(row) for row in await rows.fetchall()]
        in_agora = " AND in_agora_at IS NOT NULL" if agora_only else ""
        async with conn.execute(
            f"SELECT {statement_rows.COLUMNS} FROM statements"
            f" WHERE workshop_id = ?{in_agora} ORDER BY number",
            (workshop_id,),
        ) as rows:
            statements = [statement_rows.from_row(row) for row in await rows.fetchall()]
        ballots = ("votes",) if agora_only else ("votes", "caucus_votes")
        cast: list[list[Vote]] = []
        for table in ballots:
            async with conn.execute(
                f"SELECT {qualified(vote_rows.COLUMNS, 'v')}"
                f" FROM {table} v JOIN statements s ON s.id = v.statement_id"
                " WHERE s.workshop_id = ? ORDER BY v.participant_id, v.voted_at, v.statement_id",
                (workshop_id,),
            ) as rows:
                cast.append([vote_rows.from_row(row) for row in await rows.fetchall()])
        async with conn.execute(
            f"SELECT {resolution_rows.COLUMNS} FROM resolutions WHERE workshop_id = ?"
            " ORDER BY number",
            (workshop_id,),
        ) as rows:
            resolutions = [resolution_rows.from_row(row) for row in await rows.fetchall()]
    votes, caucus_votes = cast[0], (cast[1] if len(cast) > 1 else [])
    return WorkshopRows(participants, answers, statements, votes, caucus_votes, resolutions)
