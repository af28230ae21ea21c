"""The workshop's use cases: what participants, facilitators and organisers can do.

Each use case reads and writes through `storage/` and asks the engine what comes next;
it returns plain results that the Telegram adapter renders. Nothing here knows Telegram.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from flows.board import ProgressQueries
from flows.caucus import enters_directly
from flows.codes import looks_like_code, new_code
from flows.engine import (
    BACK,
    CONSENT,
    LANGUAGE,
    OTHER_SUFFIX,
    PEERS_WAIT,
    SKIP,
    JourneyEngine,
    Move,
    Rejection,
    Situation,
    Step,
)
from flows.errors import NotAllowed
from flows.identifying import mask
from flows.kinds import StatementStatus
from flows.personal_data import personal_data
from flows.throttle import SlidingWindow
from storage import answers, outbox, participants, statements, updates, users, workshops
from storage.db import Database, utc_now
from storage.models import Participant, Statement, Workshop
from storage.participants import StepChange, StepWrite
from storage.statements import NewStatement

WRONG_CODES_PER_HOUR = 10  # wrong join codes one user may send in an hour


class JoinResult(Enum):
    JOINED = "joined"  # a new participant, at the consent step
    RESUMED = "resumed"  # already a participant: back where they were
    FACILITATOR = "facilitator"  # the facilitator code: now a facilitator
    ALREADY_FACILITATOR = "already_facilitator"
    UNKNOWN_CODE = "unknown_code"
    CLOSED = "closed"
    TOO_MANY_CODES = "too_many_codes"  # too many wrong codes lately: not even looked up


@dataclass(frozen=True)
class Joined:
    result: JoinResult
    workshop: Workshop | None = None
    participant: Participant | None = None
    step: Step | None = None
    left_behind: Participant | None = None  # the participation the user was in until now
    wait_minutes: int = 0  # TOO_MANY_CODES: how long until a code is looked up again


class Outcome(Enum):
    MOVED = "moved"
    DUPLICATE = "duplicate"  # handled already (or the same statement written again)
    STALE = "stale"  # the input answered a question the participant has left
    REJECTED = "rejected"  # the input does not fit the current step
    NOT_JOINED = "not_joined"
    DECLINED = "declined"  # consent refused: the participation was erased
    CLOSED = "closed"  # the workshop was closed: it takes no more answers
    UNSEEN = "unseen"  # a typed text at a question never shown: not taken as its answer


@dataclass(frozen=True)
class Response:
    """What became of a participant's input, and where they stand now."""

    outcome: Outcome
    participant: Participant | None = None
    step: Step | None = None  # the step to show now
    answered: Step | None = None  # the step the input answered, when it moved
    move: Move | None = None
    rejection: Rejection | None = None
    other_participation: bool = False  # a stale button from another workshop
    made: Statement | None = None  # the statement the input wrote: to review, or to offer
    masked: bool = False  # the first text of theirs whose identifying details were masked
    already_given: bool = False  # UNSEEN, DUPLICATE: the text was stored before


@dataclass(frozen=True)
class StepView:
    """What a multi or list step shows besides its prompt: the answers given so far."""

    selection: tuple[str, ...] = ()
    other: str | None = None
    statements: tuple[str, ...] = ()


class WorkshopService(ProgressQueries):
    """Use cases over one database and one journey engine."""

    def __init__(
        self,
        db: Database,
        engine: JourneyEngine,
        *,
        organisers: frozenset[int],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.engine = engine
        self.organisers = organisers
        self.clock = clock
        # Wrong join codes per user in the last hour, in memory: the bot is one process,
        # and a restart forgetting them only gives a guesser a fresh hour.
        self.wrong_codes = SlidingWindow(limit=WRONG_CODES_PER_HOUR, period=3600)

    # -- organisers --------------------------------------------------------------

    async def settle_retired(self) -> int:
        """Move whoever stands at a retired prompt on to the one after it (at start: the
        journey file changes only with a restart); what they see next says so."""
        return await participants.move_states(self.db, moves=self.engine.journey.replaced)

    def is_organiser(self, user_id: int) -> bool:
        return user_id in self.organisers

    async def create_workshop(
        self, *, organiser_id: int, title: str, update_id: int | None = None
    ) -> Workshop:
        """A new workshop with fresh join and facilitator codes; organisers only. Asked
        again by the same update, it is the same workshop."""
        if not self.is_organiser(organiser_id):
            raise NotAllowed
        return await workshops.create(
            self.db,
            code=new_code(),
            facilitator_code=new_code(),
            title=title.strip(),
            journey_id=self.engine.journey.id,
            created_by=organiser_id,
            now=self.clock(),
            source_update_id=update_id,
        )

    # -- joining -----------------------------------------------------------------

    async def join(self, *, user_id: int, code: str, language: str) -> Joined:
        """Open a join link or a facilitator link. After `WRONG_CODES_PER_HOUR` wrong codes
        within the hour, no code (not even the right one) is looked up until the oldest of
        them is an hour old: guessing codes stays hopeless."""
        now = self.clock().timestamp()
        if self.wrong_codes.full(user_id, now):
            wait = self.wrong_codes.retry_after(user_id, now)
            return Joined(JoinResult.TOO_MANY_CODES, wait_minutes=max(1, math.ceil(wait / 60)))
        found = await workshops.find_by_code(self.db, code=code) if looks_like_code(code) else None
        if found is None:
            self.wrong_codes.hit(user_id, now)
            return Joined(JoinResult.UNKNOWN_CODE)
        workshop, is_facilitator_code = found
        if not workshop.is_open:
            return Joined(JoinResult.CLOSED, workshop)
        if is_facilitator_code:
            added = await workshops.add_facilitator(
                self.db, workshop_id=workshop.id, user_id=user_id, now=self.clock()
            )
            return Joined(
                JoinResult.FACILITATOR if added else JoinResult.ALREADY_FACILITATOR, workshop
            )
        before = await participants.current(self.db, user_id=user_id)
        participant, created = await participants.join(
            self.db,
            workshop_id=workshop.id,
            user_id=user_id,
            language=language,
            initial_state=CONSENT,
            now=self.clock(),
        )
        return Joined(
            JoinResult.JOINED if created else JoinResult.RESUMED,
            workshop,
            participant,
            self.engine.step(participant.state, participant.category),
            left_behind=before if before is not None and before.id != participant.id else None,
        )

    async def workshop(self, *, workshop_id: int) -> Workshop | None:
        return await workshops.get(self.db, workshop_id=workshop_id)

    async def current(self, *, user_id: int) -> tuple[Participant, Step] | None:
        """The user's current participation and the step they are at."""
        participant = await participants.current(self.db, user_id=user_id)
        if participant is None:
            return None
        return participant, self.engine.step(participant.state, participant.category)

    async def situation(
        self, participant: Participant, step: Step, workshop: Workshop | None
    ) -> Situation:
        """The facts besides the state that the engine needs for this participant and step."""
        view = await self.step_view(participant, step)
        locked = False
        if step.state == LANGUAGE:  # the way back to the category
            locked = bool(
                await statements.of_participant(self.db, participant_id=participant.id)
            ) or await answers.any_of(
                self.db,
                participant_id=participant.id,
                question_ids=[p.id for p in self.engine.peer_prompts],
            )
        return Situation(
            category=participant.category,
            peers_open=workshop is not None and workshop.peers_open,
            selection=view.selection,
            other=view.other,
            statements=len(view.statements),
            category_locked=locked,
        )

    async def step_view(self, participant: Participant, step: Step) -> StepView:
        """The ticked options of a multi step, the statements made at a list step."""
        if step.prompt is None or step.kind not in ("multi", "list"):
            return StepView()
        if step.kind == "list":
            made = await statements.of_step(
                self.db, participant_id=participant.id, question_id=step.prompt.id
            )
            return StepView(statements=tuple(s.own_words for s in made))
        other_id = step.prompt.id + OTHER_SUFFIX
        given = await answers.values_of(
            self.db, participant_id=participant.id, question_ids=[step.prompt.id, other_id]
        )
        ticked = given.get(step.prompt.id) or ""
        return StepView(selection=tuple(filter(None, ticked.split(","))), other=given.get(other_id))

    # -- answering ---------------------------------------------------------------

    async def respond(
        self,
        *,
        user_id: int,
        update_id: int | None,
        value: str,
        from_button: bool,
        navigation: bool = False,
        participant_id: int | None = None,
        seen_state: str | None = None,
        names: Sequence[str | None] = (),
    ) -> Response:
        """Take an input for the participant's current step.

        An update handled before is recognised first. A button carries the participation
        and the state it was shown for; if either is not the current one, the button is
        stale and nothing changes. `navigation` marks /back and /skip. `names` are the
        author's names as Telegram gives them with the message: a typed text is stored
        with them (and any handle, address, number or link) masked for others to read.
        A text typed again (or /skip) at a step not known to be shown answers nothing
        (UNSEEN: after a stop between an answer and the next question, it is that answer
        sent again), and the same statement twice at a step is kept once.
        """
        # The participation, its workshop and the ledger's word on the update, in one read.
        standing = await participants.standing(self.db, user_id=user_id, update_id=update_id)
        participant, workshop = standing.participant, standing.workshop
        if participant is None:
            return Response(Outcome.NOT_JOINED)
        # A state the journey file no longer has is shown (and answered) as the step the
        # engine falls back to; the write still checks against what is stored.
        step = self.engine.step(participant.state, participant.category)
        if standing.handled:
            return Response(Outcome.DUPLICATE, participant, step)
        if from_button and (participant_id != participant.id or seen_state != step.state):
            return Response(
                Outcome.STALE,
                participant,
                step,
                other_participation=participant_id != participant.id,
            )
        if workshop is not None and not workshop.is_open:
            return Response(Outcome.CLOSED, participant, step)
        if (
            not from_button
            and value != BACK
            and participant.shown_state in self.engine.journey.replaced
        ):
            # Written to a question since retired: not an answer to the one that replaced
            # it, which they have not read yet.
            await self._handled(update_id)
            return Response(Outcome.UNSEEN, participant, step)
        if (
            not from_button
            and value != BACK
            and not _saw(participant, step)
            and (value == SKIP or await self._written_before(participant, value))
        ):
            # Typed at a question not known to be shown (the bot stopped between storing
            # the last answer and showing this one, or before it could note that it did),
            # and already given: that answer, or /skip, sent again. A new text is taken
            # as the answer: it was most likely written to this question.
            await self._handled(update_id)
            return Response(Outcome.UNSEEN, participant, step, already_given=True)
        decision = self.engine.interpret(
            step.state,
            value,
            from_button=from_button,
            navigation=navigation,
            situation=await self.situation(participant, step, workshop),
        )
        if isinstance(decision, Rejection):
            await self._handled(update_id)
            return Response(Outcome.REJECTED, participant, step, rejection=decision)
        if decision.statement is not None and await self._written_before(
            participant, decision.statement, question_id=step.prompt.id if step.prompt else None
        ):  # the same statement at the same step, sent again: once is enough
            await self._handled(update_id)
            return Response(Outcome.DUPLICATE, participant, step, already_given=True)
        if decision.declined:
            await participants.leave(self.db, participant_id=participant.id)
            return Response(Outcome.DECLINED, None, None, step, decision)
        shown = self._shown(step, decision, names)
        statement = self._statement(step, decision, workshop, self.clock(), names)
        written, stored = await participants.record_step(
            self.db,
            participant_id=participant.id,
            update_id=update_id,
            change=StepChange(
                expected_state=participant.state,
                new_state=decision.to_state,
                answer=decision.answer,
                shown=shown,
                statement=statement,
                category=decision.category,
                language=decision.language,
                consented=decision.consented,
                finished=decision.finished,
            ),
            now=self.clock(),
        )
        if stored is None:  # erased meanwhile
            return Response(Outcome.NOT_JOINED)
        now_step = self.engine.step(stored.state, stored.category)
        if written is StepWrite.DUPLICATE:
            return Response(Outcome.DUPLICATE, stored, now_step)
        if written is StepWrite.STALE:
            return Response(Outcome.STALE, stored, now_step)
        if stored.state == PEERS_WAIT:  # phase 2 may have opened while this was written
            stored = await self._release_if_open(stored)
            now_step = self.engine.step(stored.state, stored.category)
        made = None
        if decision.statement is not None and step.prompt is not None:
            of_step = await statements.of_step(
                self.db, participant_id=stored.id, question_id=step.prompt.id
            )
            made = of_step[-1] if of_step else None
        masked = shown is not None or (statement is not None and statement.written is not None)
        told = masked and await participants.tell_masking(
            self.db, participant_id=stored.id, now=self.clock()
        )
        return Response(Outcome.MOVED, stored, now_step, step, decision, made=made, masked=told)

    @staticmethod
    def _shown(step: Step, move: Move, names: Sequence[str | None]) -> str | None:
        """A typed answer as others read it, when masking changes it (else None: the same).
        Only free text is masked: an option's id or a scale's number is never a detail."""
        if move.answer is None or step.prompt is None:
            return None
        question_id, value = move.answer
        if not value or not (step.prompt.kind == "text" or question_id.endswith(OTHER_SUFFIX)):
            return None
        masked = mask(value, names)
        return masked.text if masked.changed else None

    async def _release_if_open(self, participant: Participant) -> Participant:
        """Move a participant waiting for phase 2 into it if it is open by now."""
        workshop = await workshops.get(self.db, workshop_id=participant.workshop_id)
        target = self.engine.release_target(participant.category)
        if workshop is None or not workshop.peers_open or target is None:
            return participant
        released = await participants.release_waiting(
            self.db, workshop_id=workshop.id, targets={participant.category or "": target}
        )
        return next((p for p in released if p.id == participant.id), participant)

    @staticmethod
    def _statement(
        step: Step,
        move: Move,
        workshop: Workshop | None,
        now: datetime,
        names: Sequence[str | None] = (),
    ) -> NewStatement | None:
        """The statement a list step's message makes (a request names whom it is for). It
        waits for review when the workshop reviews statements; once approved, it goes to
        its group's caucus, or straight to an open agora when it needs no group's choice."""
        if move.statement is None or step.prompt is None or step.prompt.statement is None:
            return None
        reviewed = workshop is None or workshop.review
        masked = mask(move.statement, names)
        return NewStatement(
            kind=step.prompt.statement,
            text=masked.text,
            written=move.statement if masked.changed else None,
            target_category=step.prompt.about,
            question_id=step.prompt.id,
            status=StatementStatus.PENDING if reviewed else StatementStatus.APPROVED,
            in_agora=not reviewed
            and workshop is not None
            and workshop.agora_opened_at is not None
            and enters_directly(workshop, step.prompt.statement, now),
        )

    async def remember_prompt(
        self, *, participant_id: int, message_id: int | None, state: str
    ) -> None:
        """The message now showing the participant's current step (`state`), kept when it
        has buttons (the only one that may)."""
        await participants.set_prompt_message(
            self.db, participant_id=participant_id, message_id=message_id, shown_state=state
        )

    async def _handled(self, update_id: int | None) -> None:
        """An input refused, or not taken as an answer, is handled all the same: delivered
        again later, at a step where it would fit, it must not become an answer."""
        if update_id is not None:
            await updates.remember(self.db, update_id=update_id, now=self.clock())

    async def _written_before(
        self, participant: Participant, text: str, *, question_id: str | None = None
    ) -> bool:
        """Whether the participant stored this text already: as an answer, or as a
        statement (at `question_id`'s step, when given)."""
        typed = text.strip()
        if question_id is None and typed in {
            a.value.strip()
            for a in await answers.for_participant(self.db, participant_id=participant.id)
        }:
            return True
        made = await statements.of_participant(self.db, participant_id=participant.id)
        return any(
            s.own_words.strip() == typed
            for s in made
            if (question_id is None or s.question_id == question_id)
            and s.status not in (StatementStatus.REJECTED, StatementStatus.WITHDRAWN)
        )

    async def pause(self, *, user_id: int) -> Participant | None:
        """Mark the participant as pausing: nothing automatic (reminders, the décantation)
        is sent to them until they resume; nothing is lost. At the end of the journey too,
        so that someone who finished can decline what comes later."""
        participant = await participants.current(self.db, user_id=user_id)
        if participant is not None:
            await participants.set_paused(
                self.db, participant_id=participant.id, paused=True, now=self.clock()
            )
        return participant

    async def resume(self, *, user_id: int) -> tuple[Participant, Step] | None:
        participant = await participants.current(self.db, user_id=user_id)
        if participant is None:
            return None
        if participant.paused_at is not None:
            await participants.set_paused(
                self.db, participant_id=participant.id, paused=False, now=self.clock()
            )
            # What was skipped while they paused (the décantation) goes to them now.
            await outbox.revive(self.db, participant_id=participant.id)
        if participant.state == PEERS_WAIT:  # phase 2 may have opened as they reached the wait
            participant = await self._release_if_open(participant)
        return participant, self.engine.step(participant.state, participant.category)

    # -- personal data ---------------------------------------------------------

    async def personal_data(self, *, user_id: int) -> dict[str, object]:
        """Everything stored about the user, as JSON-ready data (their right of access)."""
        return await personal_data(self.db, user_id=user_id)

    async def erase(self, *, user_id: int) -> int:
        """Erase the user's participations, answers, roles and preferences."""
        return await users.erase(self.db, user_id=user_id)

    # -- language ----------------------------------------------------------------

    async def preferred_language(self, *, user_id: int) -> str | None:
        return await users.language(self.db, user_id=user_id)

    async def set_language(self, *, user_id: int, language: str) -> None:
        await users.set_language(self.db, user_id=user_id, language=language, now=self.clock())


def _saw(participant: Participant, step: Step) -> bool:
    """Whether the step was shown to the participant (unknown for a participation from
    before this was recorded: taken as shown)."""
    return participant.shown_state is None or participant.shown_state == step.state
