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


class MailingKind(StrEnum):
    """What a scheduled or mass message is. The first three are sent once, to the recipients
    found when they are due, and end with a report to whoever asked for them; the others
    stand open, and each recipient gets theirs at their own time (a new participant too)."""

    REMINDER = "reminder"  # /remind: an organiser's or facilitator's words, at a time
    BROADCAST = "broadcast"  # /broadcast: their words, now, after a preview
    FOLLOWUP = "followup"  # /followup: carriers and authors asked where they stand
    INVITATION = "invitation"  # a session's invitation, with its calendar file
    SESSION_REMINDER = "session_reminder"  # the eve and the hour before a session
    DECANTATION = "decantation"  # the deferred moments, some days after a participant finished
    DECANTATION_REMINDER = "decantation_reminder"  # once, if the deferred moments are unanswered

    @property
    def one_shot(self) -> bool:
        return self in (MailingKind.REMINDER, MailingKind.BROADCAST, MailingKind.FOLLOWUP)


class MailingStatus(StrEnum):
    DRAFT = "draft"  # a broadcast waiting for its sender's confirmation
    SCHEDULED = "scheduled"  # its time has not come: recipients not chosen yet
    OPEN = "open"  # recipients chosen (or, standing, being added): sending
    DONE = "done"  # every delivery settled (one-shot kinds only)
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at its time
    SENDING = "sending"  # claimed: its call to Telegram is in flight
    SENT = "sent"
    UNREACHABLE = "unreachable"  # 403: they blocked the bot
    FAILED = "failed"
    SKIPPED = "skipped"  # not sent: paused, unreachable before, already answered, cancelled
    EXPIRED = "expired"  # its moment passed (a session reminder after the session began)

    @property
    def settled(self) -> bool:
        return self not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class AuditAction(StrEnum):
    """What an organiser or facilitator did to a workshop, as its audit records it."""

    CREATED = "created"
    PEERS_OPENED = "peers_opened"  # phase 2 opened (or made to follow phase 1)
    PEERS_WAIT = "peers_wait"  # phase 2 made to wait for /open peers
    AGORA_OPENED = "agora_opened"  # detail: its mode (self, room)
    AGORA_CLOSED = "agora_closed"
    APPROVED = "approved"  # detail: the statement's number
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"  # detail: "<number>><number kept>"
    EXPORTED = "exported"
    BROADCAST = "broadcast"  # detail: how many it went to
    REVOKED = "revoked"  # a new facilitator link
    CLOSED = "closed"
    ERASED = "erased"  # the retention period ended: participants' data erased
    SCREEN_LINK = "screen_link"  # a live screen link issued (the previous one revoked)
    SCREEN_REVOKED = "screen_revoked"  # the live screen's link revoked, none issued
    QUOTE_CHOSEN = "quote_chosen"  # detail: the answer's id (answers row), put in the report
    QUOTE_DROPPED = "quote_dropped"  # detail: the answer's id, taken out of the report
