"""The review queue: a statement waits for a facilitator before any participant sees it.

Facilitators see the queue in batches, one message per batch (a few statements written
about the same time), each statement with its buttons: approve, reject, merge into
another; and "approve all" for the batch. Every copy of a batch message is the same batch
for every facilitator of the workshop, so a decision taken on one copy shows on all.
Every action checks that the user facilitates the statement's workshop; an action on a
statement decided meanwhile changes nothing and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum, StrEnum

from flows.engine import text_length
from flows.errors import NotAllowed
from flows.facilitation import Decision, FacilitationService, Moderated
from flows.identifying import Identifying, identifying
from flows.kinds import AuditAction, StatementStatus
from storage import audit, participants, statements, workshops
from storage.db import Database, utc_now
from storage.models import Statement, Workshop

BATCH_SIZE = 6  # statements in one review message, at most
# The statements' own text in one message, at most (UTF-16 units): with their headings and
# flags, a batch stays under Telegram's 4,096; one longer statement goes alone.
BATCH_TEXT = 2800
CANDIDATES_SHOWN = 16  # statements offered to merge into, at most


class ReviewAction(StrEnum):
    """What a button of the review queue asks."""

    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"  # the buttons of moderation messages sent before the batches
    MERGE = "merge"  # show the statements it could be merged into
    INTO = "into"  # merge it into the one chosen
    BACK = "back"  # the batch again, without merging
    ALL = "all"  # approve every statement of the batch still waiting


_DECISIONS = {
    ReviewAction.APPROVE: Decision.APPROVE,
    ReviewAction.REJECT: Decision.REJECT,
    ReviewAction.WITHDRAW: Decision.WITHDRAW,
}


class ReviewOutcome(Enum):
    DECIDED = "decided"  # one decision or more taken now
    ALREADY = "already"  # the statement was decided before: nothing changed
    NOT_ALLOWED = "not_allowed"  # the user does not facilitate its workshop
    STALE = "stale"  # a button for a statement or message this queue does not know
    NOTHING_LEFT = "nothing_left"  # approve all: every statement of the batch is decided
    CANDIDATES = "candidates"  # the statements it may be merged into, to choose from
    NO_CANDIDATES = "no_candidates"  # nothing of the same kind and groups to merge into
    TARGET_GONE = "target_gone"  # the statement to keep was decided meanwhile
    BACK = "back"  # the batch shown again


@dataclass(frozen=True)
class Batch:
    """Statements shown together in one review message (by number), with what the message
    needs besides them; a batch already sent names the copy (`chat_id`, `message_id`)."""

    workshop: Workshop
    statements: list[Statement]
    flags: dict[int, tuple[Identifying, ...]] = field(default_factory=dict)
    kept: dict[int, int] = field(default_factory=dict)  # merged id -> number of the one kept
    facilitators: tuple[int, ...] = ()  # whom to send it to (a new batch)
    chat_id: int | None = None
    message_id: int | None = None

    @property
    def pending(self) -> list[Statement]:
        return [s for s in self.statements if s.status == StatementStatus.PENDING]


@dataclass(frozen=True)
class Reviewed:
    """What a press or a command in the review queue did, and what to show again."""

    outcome: ReviewOutcome
    statement: Statement | None = None  # the statement pressed, as stored now
    workshop: Workshop | None = None
    decisions: list[Moderated] = field(default_factory=list)  # taken now
    copies: list[Batch] = field(default_factory=list)  # facilitators' messages to edit
    batch: Batch | None = None  # the pressed message's batch
    candidates: list[Statement] = field(default_factory=list)
    target: Statement | None = None  # the statement to merge into

    @property
    def approved(self) -> list[Statement]:
        return [
            d.statement for d in self.decisions if d.statement.status == StatementStatus.APPROVED
        ]


@dataclass(frozen=True)
class ReviewSwitch:
    """/review on|off: the workshop now, whether it changed, and how many still wait."""

    workshop: Workshop
    changed: bool
    waiting: int


def batches(
    found: Iterable[Statement], *, size: int = BATCH_SIZE, budget: int = BATCH_TEXT
) -> list[list[Statement]]:
    """Statements in batches of at most `size`, in the order given, each batch of one
    workshop and with at most `budget` units of text (a longer statement goes alone)."""
    grouped: list[list[Statement]] = []
    used = 0
    for statement in found:
        length = text_length(statement.text)
        current = grouped[-1] if grouped else None
        if (
            current is None
            or len(current) >= size
            or current[0].workshop_id != statement.workshop_id
            or used + length > budget
        ):
            grouped.append([statement])
            used = length
        else:
            current.append(statement)
            used += length
    return grouped


def alike(statement: Statement, other: Statement) -> bool:
    """Another statement of the same workshop, kind and groups (for a request, the same
    addressee): one `statement` could be merged into."""
    return (
        other.id != statement.id
        and other.workshop_id == statement.workshop_id
        and other.kind == statement.kind
        and other.source_category == statement.source_category
        and other.target_category == statement.target_category
    )


def may_merge(statement: Statement, into: Statement) -> bool:
    """Whether `statement` may be merged into `into` now: alike, and `into` waiting for
    review or approved, not yet put to everyone."""
    return (
        alike(statement, into)
        and into.status in (StatementStatus.PENDING, StatementStatus.APPROVED)
        and into.in_agora_at is None
    )


class ReviewService:
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

    # -- the queue ------------------------------------------------------------------

    async def set_review(self, *, user_id: int, code: str | None, on: bool) -> ReviewSwitch:
        """Turn review on or off for a workshop. Turning it off approves nothing: what was
        written under review stays in the queue for a facilitator to decide."""
        workshop = await self.facilitation.workshop_for(user_id=user_id, code=code)
        changed = await workshops.configure(self.db, workshop_id=workshop.id, review=int(on))
        fresh = await workshops.get(self.db, workshop_id=workshop.id)
        assert fresh is not None
        waiting = await self._pending(workshop.id)
        return ReviewSwitch(fresh, changed, len(waiting))

    async def workshop(self, *, user_id: int, code: str | None) -> Workshop:
        """The workshop whose queue the user asks for (`NotAllowed`, `Ambiguous`)."""
        return await self.facilitation.workshop_for(user_id=user_id, code=code)

    async def unqueued(self) -> list[Batch]:
        """Every statement waiting for review that no facilitator was shown yet, in
        batches, each with the facilitators of its workshop to send it to."""
        found: list[Batch] = []
        facilitators: dict[int, tuple[int, ...]] = {}
        for group in batches(await statements.unqueued(self.db)):
            workshop_id = group[0].workshop_id
            if workshop_id not in facilitators:
                facilitators[workshop_id] = tuple(
                    await workshops.facilitators(self.db, workshop_id=workshop_id)
                )
            batch = await self._batch(group)
            if batch is not None:
                found.append(replace(batch, facilitators=facilitators[workshop_id]))
        return found

    async def waiting(self, *, workshop: Workshop, excluding: Collection[int] = ()) -> list[Batch]:
        """The workshop's statements waiting for review (but `excluding`), in batches."""
        found = [s for s in await self._pending(workshop.id) if s.id not in excluding]
        return [batch for group in batches(found) if (batch := await self._batch(group))]

    async def remember(self, *, batch: Batch, chat_id: int, message_id: int) -> None:
        """The message that shows `batch` to a facilitator (replacing any earlier copy of
        its statements in that chat)."""
        for statement in batch.statements:
            await statements.add_moderation_message(
                self.db, statement_id=statement.id, chat_id=chat_id, message_id=message_id
            )

    async def copies_in(self, *, batch: Batch, chat_id: int) -> set[int]:
        """The messages of `chat_id` that show some statement of `batch` now."""
        found: set[int] = set()
        for statement in batch.statements:
            messages = await statements.moderation_messages(self.db, statement_id=statement.id)
            found.update(message for chat, message in messages if chat == chat_id)
        return found

    # -- decisions --------------------------------------------------------------------

    async def press(
        self,
        *,
        user_id: int,
        statement_id: int,
        action: ReviewAction,
        into_id: int | None = None,
        chat_id: int,
        message_id: int | None,
    ) -> Reviewed:
        """A button of the review queue, pressed on the message `message_id` of `chat_id`."""
        statement = await statements.get(self.db, statement_id=statement_id)
        if statement is None:
            return Reviewed(ReviewOutcome.STALE)
        workshop = await workshops.get(self.db, workshop_id=statement.workshop_id)
        assert workshop is not None
        if not await workshops.is_facilitator(self.db, workshop_id=workshop.id, user_id=user_id):
            return Reviewed(ReviewOutcome.NOT_ALLOWED)
        pressed = await self._copy(chat_id, message_id)
        if action in _DECISIONS:
            moderated = await self.facilitation.moderate(
                user_id=user_id, statement_id=statement.id, decision=_DECISIONS[action]
            )
            return await self._decided(moderated.statement, workshop, [moderated])
        if action is ReviewAction.ALL:
            return await self._approve_all(user_id, statement, workshop, pressed)
        if pressed is None or statement.id not in {s.id for s in pressed.statements}:
            return Reviewed(ReviewOutcome.STALE, statement, workshop)
        if action is ReviewAction.BACK:
            return Reviewed(ReviewOutcome.BACK, statement, workshop, batch=pressed)
        if statement.status != StatementStatus.PENDING:
            return Reviewed(ReviewOutcome.ALREADY, statement, workshop)
        if action is ReviewAction.MERGE:
            candidates = await self._candidates(statement)
            outcome = ReviewOutcome.CANDIDATES if candidates else ReviewOutcome.NO_CANDIDATES
            return Reviewed(outcome, statement, workshop, batch=pressed, candidates=candidates)
        return await self._merge(user_id, statement, workshop, into_id, pressed)

    async def decide_by_number(
        self, *, user_id: int, code: str | None, number: int, decision: Decision
    ) -> Reviewed | None:
        """/approve, /reject, /withdraw with a number, as the buttons do (None: no such
        statement in the workshop). Raises `NotAllowed` or `Ambiguous`."""
        moderated = await self.facilitation.decide_by_number(
            user_id=user_id, code=code, number=number, decision=decision
        )
        if moderated is None:
            return None
        return await self._decided(moderated.statement, moderated.workshop, [moderated])

    async def _approve_all(
        self, user_id: int, statement: Statement, workshop: Workshop, pressed: Batch | None
    ) -> Reviewed:
        if pressed is None or statement.id not in {s.id for s in pressed.statements}:
            return Reviewed(ReviewOutcome.STALE, statement, workshop)
        taken: list[Moderated] = []
        for waiting in pressed.pending:
            try:
                moderated = await self.facilitation.moderate(
                    user_id=user_id, statement_id=waiting.id, decision=Decision.APPROVE
                )
            except NotAllowed:  # erased meanwhile
                continue
            if moderated.changed:
                taken.append(moderated)
        if not taken:
            return Reviewed(ReviewOutcome.NOTHING_LEFT, statement, workshop, batch=pressed)
        return await self._decided(statement, workshop, taken)

    async def _merge(
        self,
        user_id: int,
        statement: Statement,
        workshop: Workshop,
        into_id: int | None,
        pressed: Batch,
    ) -> Reviewed:
        target = await statements.get(self.db, statement_id=into_id) if into_id else None
        if target is None or not alike(statement, target):  # forged
            return Reviewed(ReviewOutcome.STALE, statement, workshop)
        if not may_merge(statement, target):
            return Reviewed(ReviewOutcome.TARGET_GONE, statement, workshop, target=target)
        changed, kept = await statements.merge(
            self.db, statement_id=statement.id, into_id=target.id, by=user_id, now=self.clock()
        )
        merged = await statements.get(self.db, statement_id=statement.id)
        assert merged is not None
        if not changed or kept is None:  # decided meanwhile, the one or the other
            if merged.status != StatementStatus.PENDING:
                return Reviewed(ReviewOutcome.ALREADY, merged, workshop)
            return Reviewed(ReviewOutcome.TARGET_GONE, merged, workshop, target=kept or target)
        await audit.record(
            self.db,
            workshop_id=workshop.id,
            actor_id=user_id,
            action=AuditAction.MERGED,
            now=self.clock(),
            detail=f"{merged.number}>{kept.number}",
        )
        author = (
            await participants.get(self.db, participant_id=merged.participant_id)
            if merged.participant_id is not None
            else None
        )
        moderated = Moderated(merged, workshop, True, author)
        return replace(await self._decided(merged, workshop, [moderated]), target=kept)

    async def _decided(
        self, statement: Statement, workshop: Workshop, decisions: Sequence[Moderated]
    ) -> Reviewed:
        """The decisions taken, with every facilitator's copy of the batches they are in."""
        taken = [d for d in decisions if d.changed]
        if not taken:
            return Reviewed(ReviewOutcome.ALREADY, statement, workshop)
        seen: set[tuple[int, int]] = set()
        copies: list[Batch] = []
        for decision in taken:
            for chat_id, message_id in await statements.moderation_messages(
                self.db, statement_id=decision.statement.id
            ):
                if (chat_id, message_id) not in seen:
                    seen.add((chat_id, message_id))
                    if (copy := await self._copy(chat_id, message_id)) is not None:
                        copies.append(copy)
        fresh = await workshops.get(self.db, workshop_id=workshop.id)
        return Reviewed(ReviewOutcome.DECIDED, statement, fresh or workshop, taken, copies)

    # -- reading ----------------------------------------------------------------------

    async def workshop_of(self, *, workshop_id: int) -> Workshop | None:
        return await workshops.get(self.db, workshop_id=workshop_id)

    async def copy_of(self, *, chat_id: int, message_id: int | None) -> Batch | None:
        """The batch a facilitator's message shows (None: not a review message)."""
        return await self._copy(chat_id, message_id)

    async def _pending(self, workshop_id: int) -> list[Statement]:
        return await statements.of_workshop(
            self.db, workshop_id=workshop_id, statuses=(StatementStatus.PENDING,)
        )

    async def _copy(self, chat_id: int, message_id: int | None) -> Batch | None:
        """The batch a facilitator's message shows (None: not a review message)."""
        if message_id is None:
            return None
        found = await statements.on_message(self.db, chat_id=chat_id, message_id=message_id)
        batch = await self._batch(found)
        return replace(batch, chat_id=chat_id, message_id=message_id) if batch else None

    async def _batch(self, found: list[Statement]) -> Batch | None:
        if not found:
            return None
        workshop = await workshops.get(self.db, workshop_id=found[0].workshop_id)
        if workshop is None:
            return None
        kept: dict[int, int] = {}
        for statement in found:
            if statement.merged_into is not None:
                into = await statements.get(self.db, statement_id=statement.merged_into)
                if into is not None:
                    kept[statement.id] = into.number
        flags = {s.id: flagged for s in found if (flagged := identifying(s.text))}
        return Batch(workshop, found, flags, kept)

    async def _candidates(self, statement: Statement) -> list[Statement]:
        found = await statements.of_workshop(
            self.db,
            workshop_id=statement.workshop_id,
            statuses=(StatementStatus.PENDING, StatementStatus.APPROVED),
        )
        return [s for s in found if may_merge(statement, s)][:CANDIDATES_SHOWN]
