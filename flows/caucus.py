"""The caucus: after phase 2, each peer group chooses, among what its members wrote, the
requests and commitments it puts to the agora as the group's.

Each member votes (agree, disagree, pass) on the statements of the others of their
category; writing a statement counts as agreeing with it. A category keeps, per other
category, its `keep` most agreed requests and its `commitments` most agreed commitments,
among those more of its members agreed with than disagreed with. A category of one member
has no one to agree with: it sends its statements as they are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from flows.kinds import StatementKind, StatementStatus, VoteValue
from storage.models import Participant, Statement, Vote, Workshop


@dataclass(frozen=True)
class Support:
    """How a group received one of its statements."""

    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def carried(self) -> bool:
        return self.agree > self.disagree


def support(votes: Iterable[Vote]) -> dict[int, Support]:
    """Each statement's caucus votes, counted."""
    counted: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for vote in votes:
        counted[vote.statement_id][vote.value] += 1
    return {
        statement_id: Support(
            values[VoteValue.AGREE], values[VoteValue.DISAGREE], values[VoteValue.PASS]
        )
        for statement_id, values in counted.items()
    }


def _rank(statement: Statement, supported: Mapping[int, Support]) -> tuple[int, int, int]:
    found = supported.get(statement.id, Support())
    return (-found.agree, found.disagree, statement.number)


def choose(
    statements: Sequence[Statement],
    votes: Iterable[Vote],
    members: Sequence[Participant],
    *,
    keep: int,
    commitments: int,
) -> list[int]:
    """The ids of the statements the groups put to the agora, by number: per category and
    target, the `keep` requests most agreed with; per category, the `commitments` most agreed
    with (ties: fewer disagreements, then the first written)."""
    sizes = Counter(p.category for p in members if p.category and p.consented_at is not None)
    supported = support(votes)
    pools: defaultdict[tuple[str, str, str | None], list[Statement]] = defaultdict(list)
    chosen: list[Statement] = []
    for statement in statements:
        if statement.status != StatementStatus.APPROVED or statement.in_agora_at is not None:
            continue
        if statement.kind not in (StatementKind.REQUEST, StatementKind.COMMITMENT):
            continue
        if sizes[statement.source_category] <= 1:  # alone: as they are
            chosen.append(statement)
            continue
        target = statement.target_category if statement.kind == StatementKind.REQUEST else None
        pools[(statement.source_category, statement.kind, target)].append(statement)
    for (_, kind, _), pool in pools.items():
        limit = keep if kind == StatementKind.REQUEST else commitments
        carried = [s for s in pool if supported.get(s.id, Support()).carried]
        chosen += sorted(carried, key=lambda s: _rank(s, supported))[: max(limit, 0)]
    return [s.id for s in sorted(chosen, key=lambda s: s.number)]


def enters_directly(workshop: Workshop, kind: str, created_at: datetime) -> bool:
    """Whether an approved statement goes to the agora as it is, without a group's choice:
    a proposal made during the agora, any statement when the caucus is off, and one written
    after the groups chose."""
    if kind == StatementKind.PROPOSAL or not workshop.caucus:
        return True
    closed = workshop.caucus_closed_at
    return closed is not None and created_at > closed
