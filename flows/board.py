"""A workshop's live board: how many participants stand where, per category, read from
their states (`WorkshopService.board` reads them; this places them in columns)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from flows.engine import DONE, ONBOARDING, PEERS_WAIT, JourneyEngine
from storage.models import Workshop


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
