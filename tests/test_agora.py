"""The agora's order of statements and the caucus' choice: pure logic, no Telegram and no
database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from flows.agora import choose_next
from flows.caucus import CaucusCommand, choose, read_command
from storage.models import Participant, Statement, Vote
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


# -- the caucus: the groups' choice, and the facilitators' command ---------------------

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def member(number: int, category: str) -> Participant:
    return Participant(number, 1, 1000 + number, category, "fr", "done", T0, T0, T0, None)


def written(number: int, author: int, kind: str, category: str, to: str | None) -> Statement:
    return Statement(
        number, 1, number, author, kind, category, to, None, f"n°{number}", "approved", T0
    )


def votes(statement_id: int, *values: str) -> list[Vote]:
    return [Vote(statement_id, 100 + i, value, T0) for i, value in enumerate(values)]


def test_each_group_keeps_its_most_agreed_requests_per_group_and_commitments() -> None:
    members = [member(1, "elu"), member(2, "elu"), member(3, "elu"), member(4, "etat")]
    statements = [
        written(1, 1, "request", "elu", "agent"),
        written(2, 2, "request", "elu", "agent"),
        written(3, 3, "request", "elu", "agent"),
        written(4, 1, "request", "elu", "etat"),
        written(5, 2, "commitment", "elu", None),
        written(6, 3, "commitment", "elu", None),
        written(7, 4, "request", "etat", "elu"),  # a group of one: sent as it is
    ]
    cast = (
        votes(1, "agree", "pass")
        + votes(2, "agree", "agree", "agree")
        + votes(3, "agree", "agree", "disagree")
        + votes(4, "agree", "disagree", "disagree")  # not carried: never sent
        + votes(5, "agree")
        + votes(6, "agree", "agree")
    )
    assert choose(statements, cast, members, keep=2, commitments=3) == [2, 3, 5, 6, 7]
    assert choose(statements, cast, members, keep=1, commitments=1) == [2, 6, 7]
    # A tie goes to fewer disagreements, then to the first written.
    tied = votes(1, "agree", "agree") + votes(2, "agree", "agree") + votes(3, "agree", "pass")
    assert choose(statements[:3], tied, members, keep=2, commitments=3) == [1, 2]


def test_what_a_facilitator_types_after_caucus() -> None:
    code = "Ab12Cd34Ef56Gh78"
    assert read_command([]) == CaucusCommand()
    assert read_command(["OFF"]) == CaucusCommand(caucus=False)
    assert read_command(["on", code]) == CaucusCommand(code=code, caucus=True)
    assert read_command(["keep", "1", code]) == CaucusCommand(code=code, keep=1)
    assert read_command(["commitments", "2"]) == CaucusCommand(commitments=2)
    assert read_command([code]) == CaucusCommand(code=code)
    for nonsense in (["keep"], ["keep", "-1"], ["keep", "two"], ["on", code, "x"], ["help"]):
        assert read_command(nonsense) is None, nonsense
    assert not CaucusCommand(code=code).asks_a_change
