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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from flows.agora import Voted, VoteOutcome
from flows.codes import looks_like_code
from flows.engine import DONE
from flows.kinds import StatementKind, StatementStatus, VoteValue
from storage import caucus, exports, participants, statements, workshops
from storage.db import Database, utc_now
from storage.models import Participant, Statement, Vote, Workshop
from storage.votes import VoteWrite

if TYPE_CHECKING:  # it imports this module: only its type is needed here
    from flows.facilitation import FacilitationService


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


def enters_directly(workshop: Workshop, kind: str, approved_at: datetime) -> bool:
    """Whether an approved statement goes to the agora as it is, without a group's choice:
    a proposal made during the agora, any statement when the caucus is off, and one
    approved after the groups chose (too late for their choice, it is not lost)."""
    if kind == StatementKind.PROPOSAL or not workshop.caucus:
        return True
    closed = workshop.caucus_closed_at
    return closed is not None and approved_at >= closed


def approved_at(statement: Statement) -> datetime:
    """When a statement was approved: its review's decision, or its writing when it needed
    none."""
    return statement.decided_at or statement.created_at


MAX_KEEP = 10  # statements a group may keep per target (or commitments): a screenful each


@dataclass(frozen=True)
class CaucusOffer:
    """A statement of the participant's group put to them, and how many others follow."""

    participant: Participant
    statement: Statement
    remaining: int


class SettingOutcome(Enum):
    CHANGED = "changed"
    SAME = "same"  # as it was already
    STATUS = "status"  # nothing asked: how the caucus stands
    CLOSED = "closed"  # the groups have chosen (the agora opened): too late to change it
    INVALID = "invalid"  # a count out of range


@dataclass(frozen=True)
class CaucusSetting:
    """A facilitator's `/caucus` command, done: the workshop as it stands now, and the
    members whose caucus message is to lose its buttons (the caucus was switched off)."""

    outcome: SettingOutcome
    workshop: Workshop
    in_caucus: int = 0  # the group statements members are choosing among now
    votes: int = 0  # the members' caucus votes (the authors' own agreement left out)
    dismissed: list[Participant] = field(default_factory=list)


@dataclass(frozen=True)
class CaucusCommand:
    """`/caucus [on|off|keep N|commitments N] [code]`, read."""

    code: str | None = None
    caucus: bool | None = None
    keep: int | None = None
    commitments: int | None = None

    @property
    def asks_a_change(self) -> bool:
        return (self.caucus, self.keep, self.commitments) != (None, None, None)


_WORDS = ("on", "off", "keep", "commitments", "help")


def read_command(args: Sequence[str]) -> CaucusCommand | None:
    """The facilitator's words after /caucus; None when they make no sense."""
    words = [word.lower() for word in args[:1]] + list(args[1:])
    if not words:
        return CaucusCommand()
    head = words[0]
    if head in ("on", "off"):
        rest = words[1:]
        command = CaucusCommand(caucus=head == "on")
    elif head in ("keep", "commitments") and len(words) > 1 and words[1].isdecimal():
        rest = words[2:]
        count = int(words[1])
        command = CaucusCommand(keep=count) if head == "keep" else CaucusCommand(commitments=count)
    elif len(words) == 1 and head not in _WORDS and looks_like_code(args[0]):
        return CaucusCommand(code=args[0])
    else:
        return None
    if len(rest) > 1:
        return None
    return replace(command, code=rest[0] if rest else None)


class CaucusService:
    """The caucus, both sides: members voting on their group's statements, one at a time;
    facilitators switching it on or off and saying how many statements each group keeps."""

    def __init__(
        self,
        db: Database,
        facilitation: FacilitationService,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.facilitation = facilitation
        self.clock = clock

    async def seat(self, *, user_id: int) -> Participant | None:
        """The user's participation if they are in their group's caucus now: they have
        answered every question, and their workshop's groups are choosing."""
        participant = await participants.current(self.db, user_id=user_id)
        if participant is None or not await self._in_caucus(participant):
            return None
        return participant

    async def _in_caucus(self, participant: Participant) -> bool:
        if participant.state != DONE or participant.category is None:
            return False
        workshop = await workshops.get(self.db, workshop_id=participant.workshop_id)
        return workshop is not None and workshop.is_open and workshop.caucus_open

    async def next_offer(self, participant: Participant) -> CaucusOffer | None:
        """The group's next statement for the participant (None: they have voted on all)."""
        if participant.category is None:
            return None
        found = await caucus.candidates(
            self.db,
            workshop_id=participant.workshop_id,
            participant_id=participant.id,
            category=participant.category,
        )
        return CaucusOffer(participant, found[0], len(found) - 1) if found else None

    async def remember_offer(
        self, *, participant_id: int, statement_id: int | None, message_id: int | None
    ) -> None:
        await participants.set_caucus_offer(
            self.db, participant_id=participant_id, statement_id=statement_id, message_id=message_id
        )

    async def members(self, *, workshop_id: int) -> list[Participant]:
        """The workshop's participants while its groups are choosing (none otherwise)."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        if workshop is None or not workshop.is_open or not workshop.caucus_open:
            return []
        return await participants.of_workshop(self.db, workshop_id=workshop_id)

    async def shown(self, *, workshop_id: int) -> list[Participant]:
        """The members who hold a caucus message (to close it)."""
        members = await participants.of_workshop(self.db, workshop_id=workshop_id)
        return [p for p in members if p.caucus_message_id is not None]

    async def sent_by_group(self, *, workshop_id: int) -> Counter[str]:
        """How many statements each category has in the agora now."""
        entered = await statements.in_agora(self.db, workshop_id=workshop_id)
        return Counter(s.source_category for s in entered)

    async def vote(
        self, *, user_id: int, update_id: int | None, statement_id: int, value: str
    ) -> Voted:
        """Record a member's vote on a statement of their group, once; another button
        pressed while it is shown changes it."""
        if value not in tuple(VoteValue):
            return Voted(VoteOutcome.INVALID)
        statement = await statements.get(self.db, statement_id=statement_id)
        if statement is None:  # erased with its author's data, or never existed
            current = await participants.current(self.db, user_id=user_id)
            lost = current is not None and current.caucus_statement_id is None
            return Voted(VoteOutcome.FOREIGN, current, was_offer=lost)
        member = next(
            (
                p
                for p in await participants.of_user(self.db, user_id=user_id)
                if p.workshop_id == statement.workshop_id and p.consented_at is not None
            ),
            None,
        )
        if member is None or member.category != statement.source_category:
            return Voted(VoteOutcome.FOREIGN, member)
        refused = await self._refusal(member, statement)
        if refused is not None:
            return Voted(refused, member, statement)
        written = await caucus.cast(
            self.db,
            update_id=update_id,
            participant_id=member.id,
            statement_id=statement.id,
            value=value,
            now=self.clock(),
        )
        if written is VoteWrite.GONE:  # closed, merged or withdrawn meanwhile: say which
            fresh = await statements.get(self.db, statement_id=statement_id)
            why = await self._refusal(member, fresh) if fresh else VoteOutcome.FOREIGN
            return Voted(why or VoteOutcome.UNAVAILABLE, member, fresh)
        current = await participants.get(self.db, participant_id=member.id)
        stored = next(
            (
                v.value
                for v in await caucus.of_participant(self.db, participant_id=member.id)
                if v.statement_id == statement.id
            ),
            None,
        )
        outcome = {
            VoteWrite.NEW: VoteOutcome.RECORDED,
            VoteWrite.CHANGED: VoteOutcome.CHANGED,
            VoteWrite.SAME: VoteOutcome.SAME,
            VoteWrite.DUPLICATE: VoteOutcome.DUPLICATE,
        }[written]
        was_offer = current is not None and current.caucus_statement_id in (statement.id, None)
        return Voted(outcome, current, statement, stored, was_offer)

    async def _refusal(self, member: Participant, statement: Statement) -> VoteOutcome | None:
        """Why a member's caucus vote on a statement of their group cannot count now."""
        if statement.participant_id == member.id:
            return VoteOutcome.OWN
        workshop = await workshops.get(self.db, workshop_id=statement.workshop_id)
        if workshop is None or not workshop.caucus_open:
            return VoteOutcome.CLOSED
        if statement.status == StatementStatus.PENDING:
            return VoteOutcome.IN_REVIEW
        if statement.status == StatementStatus.WITHDRAWN:
            return VoteOutcome.WITHDRAWN
        if (
            statement.status != StatementStatus.APPROVED
            or statement.in_agora_at is not None
            or statement.kind not in (StatementKind.REQUEST, StatementKind.COMMITMENT)
        ):
            return VoteOutcome.UNAVAILABLE
        return None

    async def configure(self, *, user_id: int, command: CaucusCommand) -> CaucusSetting:
        """Switch a workshop's caucus on or off, or change how many statements each group
        keeps; only its facilitators (`NotAllowed`, `Ambiguous`), only before the groups
        have chosen. Without a change asked, how the caucus stands."""
        workshop = await self.facilitation.workshop_for(user_id=user_id, code=command.code)
        outcome = SettingOutcome.STATUS
        dismissed: list[Participant] = []
        if command.asks_a_change:
            outcome = await self._change(workshop, command)
            workshop = await workshops.get(self.db, workshop_id=workshop.id) or workshop
            if outcome is SettingOutcome.CHANGED and command.caucus is False:
                dismissed = await self.shown(workshop_id=workshop.id)
        in_caucus, votes = await self._progress(workshop)
        return CaucusSetting(outcome, workshop, in_caucus, votes, dismissed)

    async def _change(self, workshop: Workshop, command: CaucusCommand) -> SettingOutcome:
        if workshop.caucus_closed_at is not None or workshop.agora_opened_at is not None:
            return SettingOutcome.CLOSED
        counts = [c for c in (command.keep, command.commitments) if c is not None]
        if any(not 1 <= count <= MAX_KEEP for count in counts):
            return SettingOutcome.INVALID
        values: dict[str, int] = {}
        if command.caucus is not None:
            values["caucus"] = int(command.caucus)
        if command.keep is not None:
            values["caucus_keep"] = command.keep
        if command.commitments is not None:
            values["caucus_commitments"] = command.commitments
        changed = await workshops.configure(self.db, workshop_id=workshop.id, **values)
        return SettingOutcome.CHANGED if changed else SettingOutcome.SAME

    async def _progress(self, workshop: Workshop) -> tuple[int, int]:
        """The statements the groups are choosing among, and the members' votes on them."""
        if not workshop.caucus_open:
            return 0, 0
        rows = await exports.workshop_rows(self.db, workshop_id=workshop.id)
        choosing = {
            s.id: s.participant_id
            for s in rows.statements
            if s.status == StatementStatus.APPROVED
            and s.in_agora_at is None
            and s.kind in (StatementKind.REQUEST, StatementKind.COMMITMENT)
        }
        votes = sum(
            1
            for v in rows.caucus_votes
            if v.statement_id in choosing and choosing[v.statement_id] != v.participant_id
        )
        return len(choosing), votes
