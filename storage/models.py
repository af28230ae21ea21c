"""Plain records read from the database; they serialise to JSON as they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Workshop:
    id: int
    code: str
    facilitator_code: str
    title: str
    journey_id: str
    created_by: int
    created_at: datetime
    closed_at: datetime | None
    peers_opened_at: datetime | None = None  # None: phase 2 waits for a facilitator
    agora_opened_at: datetime | None = None
    agora_closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def peers_open(self) -> bool:
        return self.peers_opened_at is not None

    @property
    def agora_open(self) -> bool:
        return self.agora_opened_at is not None and self.agora_closed_at is None


@dataclass(frozen=True)
class Participant:
    id: int
    workshop_id: int
    user_id: int
    category: str | None
    language: str
    state: str
    joined_at: datetime
    consented_at: datetime | None
    finished_at: datetime | None
    paused_at: datetime | None
    prompt_message_id: int | None = None
    offer_statement_id: int | None = None  # the agora statement offered to them now
    offer_message_id: int | None = None  # the message that offers it


@dataclass(frozen=True)
class Answer:
    participant_id: int
    question_id: str
    value: str
    answered_at: datetime
    edited_at: datetime | None


@dataclass(frozen=True)
class Statement:
    """A request or commitment from phase 2, or a proposal made during the agora."""

    id: int
    workshop_id: int
    number: int  # per workshop, as facilitators refer to it
    participant_id: int | None
    kind: str  # request, commitment or proposal
    source_category: str
    target_category: str | None  # the category a request is addressed to
    question_id: str | None  # the phase 2 question it answers
    text: str
    status: str  # pending, approved, rejected or withdrawn
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None


@dataclass(frozen=True)
class Vote:
    statement_id: int
    participant_id: int
    value: str  # agree, disagree or pass
    voted_at: datetime
    changed_at: datetime | None = None
