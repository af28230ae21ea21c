"""The agora's order of statements: pure logic, no Telegram and no database."""

from __future__ import annotations

from collections import Counter

from flows.agora import choose_next
from storage.statements import Candidate


def test_the_least_voted_statement_comes_first() -> None:
    candidates = [Candidate(1, 1, 5), Candidate(2, 2, 0), Candidate(3, 3, 2)]
    for participant in range(1, 50):
        chosen = choose_next(candidates, participant)
        assert chosen is not None and chosen.id == 2


def test_ties_are_spread_over_participants_and_stable_for_each() -> None:
    candidates = [Candidate(i, i, 0) for i in range(1, 11)]
    firsts = Counter(choose_next(candidates, p).id for p in range(200))  # type: ignore[union-attr]
    # Every statement is somebody's first, none is everybody's.
    assert set(firsts) == set(range(1, 11)) and max(firsts.values()) < 50
    assert choose_next(candidates, 7) == choose_next(list(reversed(candidates)), 7)


def test_nothing_left_to_offer() -> None:
    assert choose_next([], 1) is None
