"""People's right of access: everything stored about a user, as JSON-ready data."""

from __future__ import annotations

from datetime import datetime

from flows.kinds import StatementStatus
from storage import answers, caucus, participants, statements, users, votes, workshops
from storage.db import Database
from storage.models import Statement


async def personal_data(db: Database, *, user_id: int) -> dict[str, object]:
    """Everything stored about the user, as JSON-ready data (their right of access)."""
    participations = []
    for participant in await participants.of_user(db, user_id=user_id):
        workshop = await workshops.get(db, workshop_id=participant.workshop_id)
        saved = await answers.for_participant(db, participant_id=participant.id)
        # What they voted on, as they saw it: reviewed statements only (a vote can outlive
        # a merge into a statement still waiting for review, whose text nobody saw yet).
        made_by_others = await statements.of_workshop(
            db,
            workshop_id=participant.workshop_id,
            statuses=(StatementStatus.APPROVED, StatementStatus.WITHDRAWN),
        )
        made = await statements.of_participant(db, participant_id=participant.id)
        cast = await votes.of_participant(db, participant_id=participant.id)
        in_caucus = await caucus.of_participant(db, participant_id=participant.id)
        participations.append(
            {
                "workshop": workshop.title if workshop else None,
                "category": participant.category,
                "language": participant.language,
                "position": participant.state,
                "joined_at": participant.joined_at.isoformat(),
                "consented_at": _iso(participant.consented_at),
                "finished_at": _iso(participant.finished_at),
                "answers": [
                    {
                        "question": answer.question_id,
                        "answer": answer.value,
                        "answered_at": answer.answered_at.isoformat(),
                        "edited_at": _iso(answer.edited_at),
                    }
                    for answer in saved
                ],
                "statements": [
                    {
                        "kind": statement.kind,
                        "text": statement.own_words,
                        "status": statement.status,
                        "put_to_everyone_at": _iso(statement.in_agora_at),
                        "created_at": statement.created_at.isoformat(),
                    }
                    for statement in made
                ],
                "votes": [
                    {
                        "statement": _statement_text(vote.statement_id, made_by_others),
                        "vote": vote.value,
                        "voted_at": vote.voted_at.isoformat(),
                        "changed_at": _iso(vote.changed_at),
                    }
                    for vote in cast
                ],
                "caucus_votes": [
                    {
                        "statement": _statement_text(vote.statement_id, made_by_others),
                        "vote": vote.value,
                        "voted_at": vote.voted_at.isoformat(),
                        "changed_at": _iso(vote.changed_at),
                    }
                    for vote in in_caucus
                ],
            }
        )
    return {
        "telegram_user_id": user_id,
        "language": await users.language(db, user_id=user_id),
        "facilitates": [w.title for w in await workshops.facilitated_by(db, user_id=user_id)],
        "participations": participations,
    }


def _statement_text(statement_id: int, known: list[Statement]) -> str | None:
    """The text a vote was about (as the participant saw it, without its author)."""
    return next((s.text for s in known if s.id == statement_id), None)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
