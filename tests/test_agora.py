"""The agora's order of statements: pure logic, no Telegram and no database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from flows.agora import choose_next
from storage.models import Statement


def statement(statement_id: int) -> Statement:
    return Statement(
        id=statement_id,
        workshop_id=1,
        number=statement_id,
        participant_id=99,
        kind="request",
        source_category="elu",
        target_category="etat",
        question_id="req_etat",
        text=f"statement {statement_id}",
        status="approved",
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
    )


def test_the_least_voted_statement_comes_first() -> None:
    candidates = [(statement(1), 5), (statement(2), 0), (statement(3), 2)]
    for participant in range(1, 50):
        chosen = choose_next(candidates, participant)
        assert chosen is not None and chosen.id == 2


def test_ties_are_spread_over_participants_and_stable_for_each() -> None:
    candidates = [(statement(i), 0) for i in range(1, 11)]
    firsts = Counter(choose_next(candidates, p).id for p in range(200))  # type: ignore[union-attr]
    # Every statement is somebody's first, none is everybody's.
    assert set(firsts) == set(range(1, 11)) and max(firsts.values()) < 50
    assert choose_next(candidates, 7) == choose_next(list(reversed(candidates)), 7)


def test_nothing_left_to_offer() -> None:
    assert choose_next([], 1) is None
