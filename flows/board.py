"""Progress: a workshop's live board (how many participants stand where, per category)
and a participant's own progress. `ProgressQueries` is the part of `WorkshopService`
that reads them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from flows.codes import looks_like_code
from flows.engine import DONE, ONBOARDING, PEERS_WAIT, JourneyEngine, Progress, Step
from flows.errors import NotAllowed
from storage import participants, statements, votes, workshops
from storage.db import Database
from storage.models import Participant, Workshop


@dataclass
class Board:
    """How many participants stand where, per category; `joining` before the first prompt."""

    workshop: Workshop
    total: int = 0
    by_category: dict[str | None, Counter[str]] = field(default_factory=dict)
    statements: Counter[str] = field(default_factory=Counter)  # per status
    votes: int = 0

    JOINING = "joining"
    PEERS = "peers"  # answering phase 2
    WAITING = "waiting"  # phase 1 done, waiting for phase 2 to open
    FINISHED = "finished"


def board_of(
    engine: JourneyEngine,
    workshop: Workshop,
    tally: tuple[Counter[str], int],
    rows: Iterable[tuple[str | None, str, int]],
) -> Board:
    """The board from the statements' tally (per status, and the votes) and the count of
    participants per (category, state)."""
    board = Board(workshop)
    board.statements, board.votes = tally
    for category, state, count in rows:
        step = engine.step(state, category)
        if state == DONE:
            column = Board.FINISHED
        elif state == PEERS_WAIT:
            column = Board.WAITING
        elif state in ONBOARDING or step.prompt is None:
            column = Board.JOINING
        elif step.phase == 2:
            column = Board.PEERS
        else:
            column = str(step.prompt.moment_number)
        board.by_category.setdefault(category, Counter())[column] += count
        board.total += count
    return board


@dataclass(frozen=True)
class ParticipantProgress:
    workshop: Workshop
    participant: Participant
    step: Step
    progress: Progress
    votes: int = 0  # agora statements the participant reacted to
    to_vote: int = 0  # agora statements still waiting for their reaction


class ProgressQueries:
    """Who stands where: read by facilitators (the board) and by a participant (/progress)."""

    db: Database
    engine: JourneyEngine

    async def participant_progress(self, *, user_id: int) -> ParticipantProgress | None:
        participant = await participants.current(self.db, user_id=user_id)
        if participant is None:
            return None
        workshop = await workshops.get(self.db, workshop_id=participant.workshop_id)
        assert workshop is not None
        cast, waiting = 0, 0
        if workshop.agora_opened_at is not None:
            cast = len(await votes.of_participant(self.db, participant_id=participant.id))
            waiting = len(
                await statements.unvoted(
                    self.db, workshop_id=workshop.id, participant_id=participant.id
                )
            )
        return ParticipantProgress(
            workshop,
            participant,
            self.engine.step(participant.state, participant.category),
            self.engine.progress(participant.state, participant.category),
            cast,
            waiting,
        )

    async def facilitated(self, *, user_id: int) -> list[Workshop]:
        return await workshops.facilitated_by(self.db, user_id=user_id)

    async def board(self, *, user_id: int, code: str | None = None) -> list[Board]:
        """Live progress of the workshops the user facilitates (or of the one `code` names).

        Raises `NotAllowed` if the user facilitates none of them.
        """
        if code is None:
            chosen = await workshops.facilitated_by(self.db, user_id=user_id)
        else:
            found = (
                await workshops.find_by_code(self.db, code=code) if looks_like_code(code) else None
            )
            if found is None or not await workshops.is_facilitator(
                self.db, workshop_id=found[0].id, user_id=user_id
            ):
                raise NotAllowed
            chosen = [found[0]]
        if not chosen:
            raise NotAllowed
        return [await self._board(workshop) for workshop in chosen]

    async def board_of(self, *, workshop_id: int) -> Board | None:
        """The board of one workshop, for a board message kept up to date."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        return await self._board(workshop) if workshop is not None else None

    async def _board(self, workshop: Workshop) -> Board:
        tally = await statements.tally(self.db, workshop_id=workshop.id)
        rows = await participants.states_by_category(self.db, workshop_id=workshop.id)
        return board_of(self.engine, workshop, tally, rows)
