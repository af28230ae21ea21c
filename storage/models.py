"""Plain records read from the database; they serialise to JSON as they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


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
    review: bool = True  # statements wait for a facilitator before anyone sees them
    caucus: bool = True  # peer groups choose their statements before the agora
    caucus_keep: int = 2  # requests kept per category and target category
    caucus_commitments: int = 3  # commitments kept per category
    caucus_closed_at: datetime | None = None  # the groups' choice was made
    agora_mode: str = "self"  # AgoraMode: self-paced, or paced by the room
    room_statement_id: int | None = None  # the statement the room is on
    room_vote_closed: bool = False  # the room closed the vote on its statement
    room_order: tuple[str, ...] = ()  # the categories' order of restitution, if changed
    territory: str | None = None  # the territory it brings together, as the organiser wrote it
    timezone: str | None = None  # IANA name; None: the deployment's (`COOPBOT_TIMEZONE`)
    decantation_seconds: int = 864000  # after a participant finishes, the décantation comes
    export_key: str | None = None  # the secret that keys the export's pseudonyms

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def peers_open(self) -> bool:
        return self.peers_opened_at is not None

    @property
    def agora_open(self) -> bool:
        return self.agora_opened_at is not None and self.agora_closed_at is None

    @property
    def caucus_open(self) -> bool:
        """Peer groups are choosing: the caucus is on and its choice not made yet."""
        return self.caucus and self.caucus_closed_at is None and self.agora_opened_at is None


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
    offer_message_id: int | None = None  # the message that offers it (one, edited in place)
    caucus_statement_id: int | None = None  # the group's statement offered in the caucus
    caucus_message_id: int | None = None  # the caucus message (one, edited in place)
    decantation_sent_at: datetime | None = None  # the ninth moment was sent to them
    settled_at: datetime | None = None  # they answered it
    shown_state: str | None = None  # the step last shown to them (None: not known)


@dataclass(frozen=True)
class Answer:
    participant_id: int
    question_id: str
    value: str
    answered_at: datetime
    edited_at: datetime | None
    shown: str | None = None  # the value as others read it, when masking changed it

    @property
    def for_others(self) -> str:
        """What a synthesis may quote: the author's identifying details masked."""
        return self.value if self.shown is None else self.shown


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
    in_agora_at: datetime | None = None  # put to everyone from then on
    merged_into: int | None = None  # the statement it was merged into
    written: str | None = None  # the author's own words, when masking changed `text`

    @property
    def own_words(self) -> str:
        """The text as its author wrote it, for them alone (and the answers' export)."""
        return self.text if self.written is None else self.written

    @property
    def in_agora(self) -> bool:
        return self.in_agora_at is not None and self.status == "approved"


@dataclass(frozen=True)
class Vote:
    statement_id: int
    participant_id: int
    value: str  # agree, disagree or pass
    voted_at: datetime
    changed_at: datetime | None = None


@dataclass(frozen=True)
class Resolution:
    """What the room converged on, who carries it, and by when."""

    id: int
    workshop_id: int
    number: int  # per workshop
    statement_id: int | None  # the statement it came from (None once that was erased)
    text: str
    carrier_category: str | None  # a category carries it ...
    carrier_name: str | None  # ... or someone the facilitator named
    due_on: date | None
    created_by: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Session:
    """One dated meeting of a workshop: when and where."""

    id: int
    workshop_id: int
    number: int  # per workshop: 1, 2, ...
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    created_by: int | None
    created_at: datetime
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class Mailing:
    """A scheduled or mass message (a reminder, a broadcast, an invitation, a décantation),
    written before anything is sent; its recipients are its deliveries."""

    id: int
    workshop_id: int
    kind: str  # MailingKind
    target: str  # Target's value: who it is for
    text: str | None  # the sender's own words (reminders, broadcasts)
    session_id: int | None
    offset_rule: str | None  # a session reminder's rule (the eve at 18:00, an hour before)
    due_at: datetime
    expires_at: datetime | None  # not sent after this (a session reminder once it started)
    automatic: bool  # waits out the quiet hours
    status: str  # MailingStatus
    created_by: int | None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    report_chat_id: int | None = None  # where its progress and report are shown
    report_message_id: int | None = None
    report_language: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One recipient of a mailing: due at its own time, claimed before the call to
    Telegram and settled after."""

    id: int
    mailing_id: int
    user_id: int
    participant_id: int | None
    due_at: datetime
    status: str  # DeliveryStatus
    late: bool = False  # sent well after its time (the bot was down, or quiet hours)
    doubled: bool = False  # claimed again after a crash: the first call may have gone out
    attempts: int = 0  # times put back after a network failure
    claimed_at: datetime | None = None
    settled_at: datetime | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class Recipient:
    """Who a mailing may go to: a participant, with what sending to them depends on."""

    participant_id: int
    user_id: int
    language: str
    timezone: str | None  # their own, if they named one
    state: str
    category: str | None
    finished_at: datetime | None
    paused: bool
    unreachable: bool
    decantation_sent_at: datetime | None = None


@dataclass(frozen=True)
class ScreenLink:
    """A workshop's live screen behind a secret address: its page is shown in the language
    of the facilitator who asked for it, until the link is revoked."""

    id: int
    workshop_id: int
    token: str  # the secret in the page's address
    language: str
    created_by: int | None
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class QuotedAnswer:
    """An answer that a facilitator may quote in the report, as storage knows it: the
    answers row's own id (what a button names: never a Telegram id), whose answer, to
    which question, in which workshop, and whether it is chosen."""

    answer_id: int  # the answers row's rowid
    workshop_id: int
    participant_id: int
    question_id: str
    chosen: bool
