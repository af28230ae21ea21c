"""The small vocabularies every layer shares: phases, statement kinds and statuses, votes.

They are `StrEnum`s, so that a member is stored in SQLite, put in callback data and
compared with what was read back exactly as the plain string it stands for.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """A part of a workshop that has its own synthesis."""

    MOMENTS = "1"  # the nine moments, alone
    PEERS = "2"  # the exchange between peers
    AGORA = "agora"  # everyone together

    @classmethod
    def parse(cls, text: str) -> Phase | None:
        """A phase as a facilitator types it (`1`, `2`, `agora`), or None."""
        try:
            return cls(text.lower())
        except ValueError:
            return None


class StatementKind(StrEnum):
    REQUEST = "request"  # from one category to another (phase 2)
    COMMITMENT = "commitment"  # what a category is ready to do (phase 2)
    PROPOSAL = "proposal"  # written during the agora, approved by a facilitator first


class StatementStatus(StrEnum):
    PENDING = "pending"  # waiting for a facilitator
    APPROVED = "approved"  # put to everyone
    REJECTED = "rejected"  # kept out of the agora
    WITHDRAWN = "withdrawn"  # taken back after approval
    MERGED = "merged"  # folded into another statement, which counts its votes and authors


class VoteValue(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    PASS = "pass"


class AgoraState(StrEnum):
    """Where a workshop's agora stands, as a participant at the end screen is told."""

    LATER = "later"
    OPEN = "open"
    CLOSED = "closed"


class AgoraMode(StrEnum):
    """Who paces the agora."""

    SELF = "self"  # each participant at their own pace, statement after statement
    ROOM = "room"  # the facilitator, one statement for the whole room at a time
