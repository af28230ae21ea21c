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

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


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


@dataclass(frozen=True)
class Answer:
    participant_id: int
    question_id: str
    value: str
    answered_at: datetime
    edited_at: datetime | None
