"""Phase 3, the agora: participants react to every statement put to everyone but their own,
one at a time, and may put new ones to the group, which facilitators review first.

Statements are offered fewest-votes first, so that each one gets seen; ties are broken by a
per-participant shuffle so that participants do not all see the same statement at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from flows.engine import DONE, JourneyEngine, text_length
from flows.identifying import mask
from flows.kinds import AgoraMode, StatementStatus, VoteValue
from storage import participants, statements, votes, workshops
from storage.db import Database, utc_now
from storage.models import Participant, Statement, Workshop
from storage.statements import Candidate
from storage.votes import VoteWrite


def spread(participant_id: int, statement_id: int) -> int:
    """A stable pseudo-random rank of a statement for one participant."""
    digest = hashlib.blake2b(f"{participant_id}:{statement_id}".encode(), digest_size=4)
    return int.from_bytes(digest.digest(), "big")


def choose_next(candidates: Sequence[Candidate], participant_id: int) -> Candidate | None:
    """The statement to offer next: the fewest votes first, then a per-participant shuffle."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.vote_count, spread(participant_id, c.id), c.number))


class VoteOutcome(Enum):
    RECORDED = "recorded"
    CHANGED = "changed"
    SAME = "same"  # pressed twice: nothing changed
    DUPLICATE = "duplicate"  # a redelivered update
    WITHDRAWN = "withdrawn"  # the statement was withdrawn
    UNAVAILABLE = "unavailable"  # rejected, merged, or not put to everyone
    IN_REVIEW = "in_review"  # still waiting for a facilitator's review
    MOVED_ON = "moved_on"  # in a room: the room has moved past it, or closed its vote
    CLOSED = "closed"  # the agora is closed
    NOT_OPEN = "not_open"  # the agora has not opened yet
    OWN = "own"  # one's own statement
    FOREIGN = "foreign"  # a statement of a workshop the user does not take part in
    INVALID = "invalid"  # not a vote


@dataclass(frozen=True)
class Offer:
    """A statement offered to a participant, and how many others are still to come."""

    participant: Participant
    statement: Statement
    remaining: int  # statements left after this one


@dataclass(frozen=True)
class Voted:
    outcome: VoteOutcome
    participant: Participant | None = None
    statement: Statement | None = None
    value: str | None = None  # the vote as it stands now
    was_offer: bool = False  # the vote answered the statement offered now: offer the next
    room: bool = False  # the workshop's agora is paced by the room


class ProposalOutcome(Enum):
    PROPOSED = "proposed"
    DUPLICATE = "duplicate"
    TOO_LONG = "too_long"
    EMPTY = "empty"


@dataclass(frozen=True)
class Proposed:
    outcome: ProposalOutcome
    statement: Statement | None = None
    workshop: Workshop | None = None
    limit: int = 0
    masked: bool = False  # the author's first text whose identifying details were masked


class AgoraService:
    """The participant's side of the agora."""

    def __init__(
        self,
        db: Database,
        engine: JourneyEngine,
        *,
        max_text_length: int = 2000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.engine = engine
        self.max_text_length = max_text_length
        self.clock = clock

    async def seat(self, *, user_id: int) -> tuple[Participant, Workshop] | None:
        """The user's participation if they are in the agora now: their workshop's agora is
        open and they have answered every question."""
        participant = await participants.current(self.db, user_id=user_id)
        if participant is None or participant.state != DONE:
            return None
        workshop = await workshops.get(self.db, workshop_id=participant.workshop_id)
        if workshop is None or not workshop.agora_open or not workshop.is_open:
            return None  # a closed workshop's answer is refused as any other (`respond`)
        return participant, workshop

    async def next_offer(self, participant: Participant) -> Offer | None:
        """The statement to offer the participant now (None when they have seen them all)."""
        candidates = await statements.unvoted(
            self.db, workshop_id=participant.workshop_id, participant_id=participant.id
        )
        chosen = choose_next(candidates, participant.id)
        statement = (
            await statements.get(self.db, statement_id=chosen.id) if chosen is not None else None
        )
        if statement is None:
            return None
        return Offer(participant, statement, len(candidates) - 1)

    async def participant(self, participant_id: int) -> Participant | None:
        """A participant as stored now (what their messages show may have moved meanwhile)."""
        return await participants.get(self.db, participant_id=participant_id)

    async def remember_offer(
        self, *, participant_id: int, statement_id: int | None, message_id: int | None
    ) -> None:
        await participants.set_offer(
            self.db, participant_id=participant_id, statement_id=statement_id, message_id=message_id
        )

    async def audience(self, *, workshop_id: int) -> list[Participant]:
        """The workshop's participants while its agora is open and self-paced (none
        otherwise: in a room, the room shows them its statement)."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        if workshop is None or not workshop.agora_open or workshop.agora_mode != AgoraMode.SELF:
            return []
        return await participants.of_workshop(self.db, workshop_id=workshop_id)

    async def vote(
        self, *, user_id: int, update_id: int | None, statement_id: int, value: str
    ) -> Voted:
        """Record a vote once; changing it is pressing another button of the same statement."""
        if value not in tuple(VoteValue):
            return Voted(VoteOutcome.INVALID)
        statement = await statements.get(self.db, statement_id=statement_id)
        if statement is None:  # erased with its author's data, or never existed
            current = await participants.current(self.db, user_id=user_id)
            # The statement offered to them was erased: they need the next one.
            lost_offer = (
                current is not None
                and current.offer_statement_id is None
                and current.offer_message_id is not None
            )
            return Voted(VoteOutcome.FOREIGN, current, was_offer=lost_offer)
        participant = next(
            (
                p
                for p in await participants.of_user(self.db, user_id=user_id)
                if p.workshop_id == statement.workshop_id and p.consented_at is not None
            ),
            None,
        )
        if participant is None:
            return Voted(VoteOutcome.FOREIGN)
        workshop = await workshops.get(self.db, workshop_id=statement.workshop_id)
        assert workshop is not None
        if statement.participant_id == participant.id:
            return Voted(VoteOutcome.OWN, participant, statement)
        if workshop.agora_closed_at is not None or not workshop.is_open:  # or the workshop
            return Voted(VoteOutcome.CLOSED, participant, statement)
        if workshop.agora_opened_at is None:
            return Voted(VoteOutcome.NOT_OPEN, participant, statement)
        room = workshop.agora_mode == AgoraMode.ROOM
        if statement.status == StatementStatus.WITHDRAWN:
            return Voted(VoteOutcome.WITHDRAWN, participant, statement, room=room)
        if statement.status == StatementStatus.PENDING:
            return Voted(VoteOutcome.IN_REVIEW, participant, room=room)
        if not statement.in_agora:
            return Voted(VoteOutcome.UNAVAILABLE, participant, room=room)
        if room and (workshop.room_statement_id != statement.id or workshop.room_vote_closed):
            return Voted(VoteOutcome.MOVED_ON, participant, statement, room=room)
        written, _ = await votes.cast(
            self.db,
            update_id=update_id,
            participant_id=participant.id,
            statement_id=statement.id,
            value=value,
            now=self.clock(),
        )
        if written is VoteWrite.GONE:  # withdrawn or closed meanwhile: say which
            return await self.vote(
                user_id=user_id, update_id=None, statement_id=statement_id, value=value
            )
        current = await participants.get(self.db, participant_id=participant.id)
        stored = await votes.value(
            self.db, participant_id=participant.id, statement_id=statement_id
        )
        outcome = {
            VoteWrite.NEW: VoteOutcome.RECORDED,
            VoteWrite.CHANGED: VoteOutcome.CHANGED,
            VoteWrite.SAME: VoteOutcome.SAME,
            VoteWrite.DUPLICATE: VoteOutcome.DUPLICATE,
        }[written]
        was_offer = current is not None and current.offer_statement_id in (statement.id, None)
        return Voted(outcome, current, statement, stored, was_offer, room)

    async def propose(
        self,
        *,
        participant: Participant,
        update_id: int | None,
        text: str,
        names: Sequence[str | None] = (),
    ) -> Proposed:
        """A statement of the participant's own, put to the review queue (or to everyone at
        once when the workshop does not review statements). Everyone reads it with the
        author's `names` (as Telegram gives them) and other identifying details masked."""
        text = text.strip()
        if not text:
            return Proposed(ProposalOutcome.EMPTY)
        if text_length(text) > self.max_text_length:
            return Proposed(ProposalOutcome.TOO_LONG, limit=self.max_text_length)
        workshop = await workshops.get(self.db, workshop_id=participant.workshop_id)
        masked = mask(text, names)
        statement = await statements.propose(
            self.db,
            update_id=update_id,
            participant_id=participant.id,
            text=masked.text,
            written=text if masked.changed else None,
            now=self.clock(),
            reviewed=workshop is None or workshop.review,
        )
        if statement is None:
            return Proposed(ProposalOutcome.DUPLICATE)
        told = masked.changed and await participants.tell_masking(
            self.db, participant_id=participant.id, now=self.clock()
        )
        return Proposed(ProposalOutcome.PROPOSED, statement, workshop, masked=told)
