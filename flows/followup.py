"""The follow-up: some weeks after the workshop, carriers of resolutions and authors of
commitments are asked where they stand.

`/followup <code> <date>` makes a one-shot mailing (kind followup, target carriers,
automatic: it waits out the quiet hours and skips whoever paused or blocked the bot);
when its time comes the outbox asks `carriers` whom it goes to. Each recipient is shown
what they carry and asked to reply in a message: their next typed message is awaited
(`users.awaiting`, so that it survives a restart) and stored as an answer of their own,
`followup_<mailing id>`, in the answers table: it is theirs like any answer, in /mydata,
in the export, and erased with them. Each answer goes to the workshop's facilitators as it
comes, with what it is about and without its author.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from flows.engine import DONE, text_length
from flows.identifying import mask
from flows.kinds import MailingKind, MailingStatus, StatementKind, StatementStatus
from storage import answers, outbox, participants, resolutions, statements, users, workshops
from storage.db import Database, utc_now
from storage.models import Mailing, Workshop

AWAITED_PREFIX = "followup"
QUESTION_PREFIX = "followup_"  # + the mailing's id: the answer's question id
TARGET = "carriers"  # flows.outbox.Target.CARRIERS (not imported: flows.outbox imports us)
# The carrier's words, in UTF-16 units (as a journey answer's default limit).
ANSWER_LIMIT = 2000


async def carriers(db: Database, *, workshop_id: int) -> list[int]:
    """The participant ids a follow-up goes to: the authors of the commitments that
    entered the agora, and the members of the categories that carry a resolution."""
    chosen: set[int] = set()
    for statement in await statements.of_workshop(
        db,
        workshop_id=workshop_id,
        statuses=(StatementStatus.APPROVED, StatementStatus.WITHDRAWN, StatementStatus.MERGED),
    ):
        if (
            statement.kind == StatementKind.COMMITMENT
            and statement.in_agora_at is not None
            and statement.participant_id is not None
        ):
            chosen.add(statement.participant_id)
    carrying = {
        r.carrier_category
        for r in await resolutions.of_workshop(db, workshop_id=workshop_id)
        if r.carrier_category
    }
    for participant in await participants.of_workshop(db, workshop_id=workshop_id):
        if participant.category in carrying:
            chosen.add(participant.id)
    return sorted(chosen)


def question_id(mailing_id: int) -> str:
    """The question id a follow-up's answer is stored under."""
    return f"{QUESTION_PREFIX}{mailing_id}"


@dataclass(frozen=True)
class Carried:
    """What one participant carries: their commitments put to the agora, and the
    resolutions their category carries."""

    commitments: list[str]
    resolutions: list[str]

    @property
    def anything(self) -> bool:
        return bool(self.commitments or self.resolutions)


@dataclass(frozen=True)
class Asked:
    """A follow-up to show: the workshop, and what the recipient carries."""

    workshop: Workshop
    carried: Carried


@dataclass(frozen=True)
class Answered:
    """A follow-up answered: stored, and to pass on to the facilitators."""

    workshop: Workshop
    text: str
    carried: Carried
    facilitators: list[tuple[int, str | None]]
    first: bool  # False: a redelivered message, stored before (nothing to pass on again)


class FollowupProblem(Exception):
    """A typed follow-up answer not taken: empty or too long (`length`)."""

    def __init__(self, length: int) -> None:
        super().__init__("empty" if not length else "too long")
        self.length = length
        self.limit = ANSWER_LIMIT


@dataclass(frozen=True)
class Scheduled:
    mailing: Mailing
    workshop: Workshop
    zone: tzinfo
    recipients: int  # as things stand now (chosen again when it is due)


class FollowupService:
    def __init__(
        self,
        db: Database,
        *,
        zone: tzinfo,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.zone = zone
        self.clock = clock

    async def carried(self, *, participant_id: int) -> Carried:
        participant = await participants.get(self.db, participant_id=participant_id)
        if participant is None:
            return Carried([], [])
        entered = [
            s.own_words  # recalled to their author: in their own words
            for s in await statements.of_participant(self.db, participant_id=participant_id)
            if s.kind == StatementKind.COMMITMENT
            and s.in_agora_at is not None
            and s.status != StatementStatus.REJECTED
        ]
        carrying = [
            r.text
            for r in await resolutions.of_workshop(self.db, workshop_id=participant.workshop_id)
            if r.carrier_category is not None and r.carrier_category == participant.category
        ]
        return Carried(entered, carrying)

    async def ask(self, *, participant_id: int, mailing_id: int) -> Asked | None:
        """Before a follow-up is sent: what the participant carries, and their next typed
        message awaited as its answer. None (nothing to send) when they carry nothing any
        more, or are gone."""
        participant = await participants.get(self.db, participant_id=participant_id)
        if participant is None:
            return None
        workshop = await workshops.get(self.db, workshop_id=participant.workshop_id)
        carried = await self.carried(participant_id=participant_id)
        if workshop is None or not carried.anything:
            return None
        await users.set_awaiting(
            self.db,
            user_id=participant.user_id,
            awaiting=f"{AWAITED_PREFIX}:{mailing_id}:{participant_id}",
            now=self.clock(),
        )
        return Asked(workshop, carried)

    async def awaited(self, *, user_id: int) -> tuple[int, int] | None:
        """The follow-up (mailing id, participant id) the user's next message answers."""
        parts = (await users.awaiting(self.db, user_id=user_id) or "").split(":")
        numbers = parts[1:]
        if len(parts) != 3 or parts[0] != AWAITED_PREFIX or not all(map(str.isdecimal, numbers)):
            return None
        return int(parts[1]), int(parts[2])

    async def answer(
        self,
        *,
        user_id: int,
        text: str,
        update_id: int | None = None,
        names: Sequence[str | None] = (),
    ) -> Answered | None:
        """A typed message answering a follow-up: stored (once per update) as the
        participant's answer `followup_<mailing id>`; the question is then no longer
        awaited. None when no follow-up awaits it. Raises `FollowupProblem` for an empty
        or too long text (the question stays: the next message tries again)."""
        awaited = await self.awaited(user_id=user_id)
        if awaited is None:
            return None
        mailing_id, participant_id = awaited
        participant = await participants.get(self.db, participant_id=participant_id)
        workshop = (
            await workshops.get(self.db, workshop_id=participant.workshop_id)
            if participant is not None and participant.user_id == user_id
            else None
        )
        if participant is None or workshop is None:
            await users.set_awaiting(self.db, user_id=user_id, awaiting=None, now=self.clock())
            return None
        if participant.state != DONE:  # at a question (the décantation's): it answers that
            return None
        current = await participants.current(self.db, user_id=user_id)
        if current is None or current.id != participant_id:  # busy with another workshop
            return None
        typed = text.strip()
        if not typed or text_length(typed) > ANSWER_LIMIT:
            raise FollowupProblem(text_length(typed))
        # The facilitators read it: the author's names and other details masked.
        shown = mask(typed, names)
        first = await answers.record(
            self.db,
            participant_id=participant_id,
            question_id=question_id(mailing_id),
            value=typed,
            shown=shown.text if shown.changed else None,
            now=self.clock(),
            update_id=update_id,
        )
        await users.set_awaiting(self.db, user_id=user_id, awaiting=None, now=self.clock())
        facilitators = [
            (facilitator, await users.language(self.db, user_id=facilitator))
            for facilitator in await workshops.facilitators(self.db, workshop_id=workshop.id)
        ]
        return Answered(
            workshop,
            shown.text,
            await self.carried(participant_id=participant_id),
            facilitators,
            first,
        )

    async def schedule(
        self,
        *,
        workshop: Workshop,
        user_id: int,
        when: datetime,
        language: str,
        update_id: int | None,
    ) -> Scheduled:
        """The follow-up mailing, due `when` (checked by the caller: readable and ahead)."""
        mailing = await outbox.create(
            self.db,
            workshop_id=workshop.id,
            kind=MailingKind.FOLLOWUP,
            due_at=when,
            now=self.clock(),
            target=TARGET,
            automatic=True,
            status=MailingStatus.SCHEDULED,
            created_by=user_id,
            report_chat_id=user_id,
            report_language=language,
            source_update_id=update_id,
        )
        found = await carriers(self.db, workshop_id=workshop.id)
        return Scheduled(mailing, workshop, when.tzinfo or self.zone, len(found))
