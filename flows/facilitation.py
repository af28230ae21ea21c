"""What facilitators do during a workshop: pace the phases and moderate the agora.

Every action checks that the user facilitates the workshop it touches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import Enum
from functools import partial

from flows.caucus import approved_at, choose, enters_directly
from flows.codes import looks_like_code
from flows.engine import DONE, ONBOARDING, PEERS_WAIT, JourneyEngine
from flows.errors import Ambiguous, NotAllowed
from flows.kinds import AgoraMode, AuditAction, Phase, StatementStatus
from flows.outbox import reschedule_decantation
from flows.retention import refuse_erased
from flows.synthesis import Synthesis, synthesise
from storage import audit, caucus, exports, participants, pushes, statements, users, workshops
from storage.db import Database, utc_now
from storage.exports import WorkshopRows
from storage.models import Participant, Statement, Workshop


@dataclass(frozen=True)
class PhaseChange:
    """A phase opened or closed: whether it changed, and whom to tell."""

    workshop: Workshop
    changed: bool
    audience: list[Participant] = field(default_factory=list)


class Decision(Enum):
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"


_STATUS = {
    Decision.APPROVE: StatementStatus.APPROVED,
    Decision.REJECT: StatementStatus.REJECTED,
    Decision.WITHDRAW: StatementStatus.WITHDRAWN,
}
_AUDITED = {
    Decision.APPROVE: AuditAction.APPROVED,
    Decision.REJECT: AuditAction.REJECTED,
    Decision.WITHDRAW: AuditAction.WITHDRAWN,
}
_STAMPED = {
    "agora_opened_at": AuditAction.AGORA_OPENED,
    "agora_closed_at": AuditAction.AGORA_CLOSED,
}
_FROM = {
    Decision.APPROVE: StatementStatus.PENDING,
    Decision.REJECT: StatementStatus.PENDING,
    Decision.WITHDRAW: StatementStatus.APPROVED,
}


@dataclass(frozen=True)
class Moderated:
    statement: Statement
    workshop: Workshop
    changed: bool  # False: decided before (by this or another facilitator)
    author: Participant | None = None
    audience: list[Participant] = field(default_factory=list)  # to offer it to, once approved
    messages: list[tuple[int, int]] = field(default_factory=list)  # facilitators' messages


@dataclass(frozen=True)
class Report:
    """A workshop's synthesis and the rows it was made of (for the export)."""

    workshop: Workshop
    synthesis: Synthesis
    rows: WorkshopRows


class FacilitationService:
    def __init__(
        self,
        db: Database,
        engine: JourneyEngine,
        *,
        clock: Callable[[], datetime] = utc_now,
        min_group: int = 3,
    ) -> None:
        self.db = db
        self.engine = engine
        self.clock = clock
        self.min_group = min_group

    async def workshop_for(self, *, user_id: int, code: str | None) -> Workshop:
        """The workshop a facilitator command is about: the one `code` names, or the only one
        the user facilitates. Raises `NotAllowed` or `Ambiguous`."""
        if code is not None:
            named = await self.workshop_by_code(code)
            if named is None or not await workshops.is_facilitator(
                self.db, workshop_id=named.id, user_id=user_id
            ):
                raise NotAllowed
            await refuse_erased(self.db, named)  # its data is gone: say so, show nothing
            return named
        mine = await workshops.facilitated_by(self.db, user_id=user_id)
        if not mine:
            raise NotAllowed
        if len(mine) > 1:
            raise Ambiguous(mine)
        return mine[0]

    async def _refresh(self, workshop: Workshop) -> Workshop:
        fresh = await workshops.get(self.db, workshop_id=workshop.id)
        assert fresh is not None
        return fresh

    async def set_peers_waiting(self, *, user_id: int, code: str | None) -> PhaseChange:
        """Phase 2 will wait for `/open peers` (participants who are in it already go on)."""
        workshop = await self.workshop_for(user_id=user_id, code=code)
        if not workshop.peers_open:
            return PhaseChange(workshop, False)
        await workshops.set_phase(
            self.db,
            workshop_id=workshop.id,
            column="peers_opened_at",
            when=None,
            only_if_unset=False,
        )
        await audit.record(
            self.db,
            workshop_id=workshop.id,
            actor_id=user_id,
            action=AuditAction.PEERS_WAIT,
            now=self.clock(),
        )
        return PhaseChange(await self._refresh(workshop), True)

    async def open_peers(self, *, user_id: int, code: str | None) -> PhaseChange:
        """Open phase 2: participants who were waiting get their first question."""
        workshop = await self.workshop_for(user_id=user_id, code=code)
        changed = await workshops.set_phase(
            self.db,
            workshop_id=workshop.id,
            column="peers_opened_at",
            when=self.clock(),
            only_if_unset=True,
        )
        if changed:
            await audit.record(
                self.db,
                workshop_id=workshop.id,
                actor_id=user_id,
                action=AuditAction.PEERS_OPENED,
                now=self.clock(),
            )
        targets = {
            c.id: target
            for c in self.engine.journey.categories
            if (target := self.engine.release_target(c.id)) is not None
        }
        # Released even when it was open already: someone may have reached the wait in the
        # same instant as the opening.
        await participants.release_waiting(self.db, workshop_id=workshop.id, targets=targets)
        audience = await participants.of_workshop(self.db, workshop_id=workshop.id)
        return PhaseChange(await self._refresh(workshop), changed, audience)

    async def open_agora(
        self, *, user_id: int, code: str | None, mode: AgoraMode | None = None
    ) -> PhaseChange:
        """Open the agora (once: a closed agora does not reopen), self-paced or paced by the
        room (`mode`; None keeps the workshop's). The peer groups' choice is made first:
        their chosen statements, and those that need no choice, are put to everyone."""
        workshop = await self.workshop_for(user_id=user_id, code=code)
        if workshop.agora_closed_at is not None:
            return PhaseChange(workshop, False)
        if mode is not None and mode != workshop.agora_mode:
            await workshops.configure(self.db, workshop_id=workshop.id, agora_mode=mode)
        await self.gather(workshop)
        return await self._stamp(workshop, "agora_opened_at", user_id)

    async def gather(self, workshop: Workshop) -> list[int]:
        """Close the caucus with its groups' choice (once), then put to everyone every
        approved statement that needs no choice. Returns the ids that entered now."""
        now = self.clock()
        entered: list[int] = []
        if workshop.caucus_open:
            entered += (
                await caucus.close(
                    self.db,
                    workshop_id=workshop.id,
                    now=now,
                    choose=partial(
                        choose,
                        keep=workshop.caucus_keep,
                        commitments=workshop.caucus_commitments,
                    ),
                )
                or []
            )
            workshop = await self._refresh(workshop)
        waiting = [
            s.id
            for s in await statements.of_workshop(self.db, workshop_id=workshop.id)
            if s.in_agora_at is None and enters_directly(workshop, s.kind, approved_at(s))
        ]
        entered += await statements.enter_agora(self.db, statement_ids=waiting, now=now)
        return entered

    async def close_agora(self, *, user_id: int, code: str | None) -> PhaseChange:
        workshop = await self.workshop_for(user_id=user_id, code=code)
        if workshop.agora_opened_at is None:
            return PhaseChange(workshop, False)
        return await self._stamp(workshop, "agora_closed_at", user_id)

    async def _stamp(self, workshop: Workshop, column: str, user_id: int) -> PhaseChange:
        """Set a phase timestamp if it is not set yet (recorded in the audit); the audience
        is everyone who consented, to be told."""
        changed = await workshops.set_phase(
            self.db, workshop_id=workshop.id, column=column, when=self.clock(), only_if_unset=True
        )
        if changed and column in ("agora_opened_at", "agora_closed_at"):
            # The deferred moments ask about what was lived together: not before it is.
            await reschedule_decantation(self.db, workshop_id=workshop.id)
        if changed:
            fresh = await self._refresh(workshop)
            await audit.record(
                self.db,
                workshop_id=workshop.id,
                actor_id=user_id,
                action=_STAMPED[column],
                now=self.clock(),
                detail=fresh.agora_mode if column == "agora_opened_at" else "",
            )
        audience = await participants.of_workshop(self.db, workshop_id=workshop.id)
        return PhaseChange(await self._refresh(workshop), changed, audience)

    async def moderate(self, *, user_id: int, statement_id: int, decision: Decision) -> Moderated:
        """Approve or reject a pending statement, or withdraw an approved one."""
        statement = await statements.get(self.db, statement_id=statement_id)
        if statement is None or not await workshops.is_facilitator(
            self.db, workshop_id=statement.workshop_id, user_id=user_id
        ):
            raise NotAllowed
        return await self._decide(user_id, statement, decision)

    async def decide_by_number(
        self, *, user_id: int, code: str | None, number: int, decision: Decision
    ) -> Moderated | None:
        """Approve, reject or withdraw statement number `number` of the workshop, as the
        buttons do (None: no such statement)."""
        workshop = await self.workshop_for(user_id=user_id, code=code)
        statement = await statements.by_number(self.db, workshop_id=workshop.id, number=number)
        if statement is None:
            return None
        return await self._decide(user_id, statement, decision)

    async def _decide(self, user_id: int, statement: Statement, decision: Decision) -> Moderated:
        workshop = await workshops.get(self.db, workshop_id=statement.workshop_id)
        assert workshop is not None
        now = self.clock()
        changed, stored = await statements.decide(
            self.db,
            statement_id=statement.id,
            status=_STATUS[decision],
            by=user_id,
            now=now,
            from_status=_FROM[decision],
            enter_agora=decision is Decision.APPROVE
            and workshop.agora_opened_at is not None
            and enters_directly(workshop, statement.kind, now),
        )
        assert stored is not None
        if changed:
            await audit.record(
                self.db,
                workshop_id=workshop.id,
                actor_id=user_id,
                action=_AUDITED[decision],
                now=now,
                detail=str(stored.number),
            )
        author = (
            await participants.get(self.db, participant_id=stored.participant_id)
            if stored.participant_id is not None
            else None
        )
        audience: list[Participant] = []
        if changed and stored.in_agora and workshop.agora_open:
            audience = await participants.of_workshop(self.db, workshop_id=workshop.id)
        messages = await statements.moderation_messages(self.db, statement_id=stored.id)
        return Moderated(stored, workshop, changed, author, audience, messages)

    async def facilitators_of(self, *, workshop_id: int) -> list[int]:
        return await workshops.facilitators(self.db, workshop_id=workshop_id)

    async def remember_moderation_message(
        self, *, statement_id: int, chat_id: int, message_id: int
    ) -> None:
        await statements.add_moderation_message(
            self.db, statement_id=statement_id, chat_id=chat_id, message_id=message_id
        )

    async def report(self, *, user_id: int, code: str | None) -> Report:
        """The synthesis of a workshop the user facilitates (`NotAllowed` otherwise)."""
        workshop = await self.workshop_for(user_id=user_id, code=code)
        return await self.report_of(workshop)

    async def report_of(self, workshop: Workshop) -> Report:
        """The synthesis of a workshop, for whoever may already see it (the command line,
        a push to its facilitators)."""
        rows = await exports.workshop_rows(self.db, workshop_id=workshop.id)
        # Seconds of CPU for a large workshop: off the event loop, so the bot keeps answering.
        synthesis = await asyncio.to_thread(
            synthesise,
            self.engine.journey,
            rows.participants,
            rows.answers,
            rows.statements,
            rows.votes,
            resolutions=rows.resolutions,
            min_group=self.min_group,
        )
        return Report(workshop, synthesis, rows)

    async def completed_phases(self, *, workshop_id: int) -> set[Phase]:
        """The phases ("1", "2") that every active participant (consented, not pausing)
        has finished; none while fewer are active than the anonymity threshold (the first
        to finish alone would otherwise trigger an empty synthesis)."""
        # Active as in the funnel: they have answered once or more (someone who joined and
        # walked away must not hold the synthesis back), and are not pausing.
        active = [
            p
            for p in await participants.of_workshop(self.db, workshop_id=workshop_id)
            if p.paused_at is None and p.state not in ONBOARDING
        ]
        if len(active) < self.min_group:
            return set()
        settling = set(self.engine.deferred_states)  # the décantation comes after the end
        beyond_phase1 = {PEERS_WAIT, DONE, *settling, *(p.id for p in self.engine.peer_prompts)}
        done: set[Phase] = set()
        if all(p.state in beyond_phase1 for p in active):
            done.add(Phase.MOMENTS)
        if all(p.state == DONE or p.state in settling for p in active):
            done.add(Phase.PEERS)
        return done

    async def open_workshop_ids(self) -> list[int]:
        return await workshops.open_ids(self.db)

    async def claim_push(self, *, workshop_id: int, phase: Phase) -> bool:
        """Whether this phase's synthesis is to be pushed now (only the first time)."""
        return await pushes.claim(self.db, workshop_id=workshop_id, phase=phase, now=self.clock())

    async def schedule_synthesis(
        self, *, user_id: int, code: str | None, when: datetime
    ) -> Workshop:
        """Push the synthesis to the facilitators at `when`."""
        workshop = await self.workshop_for(user_id=user_id, code=code)
        await pushes.set_due(self.db, workshop_id=workshop.id, when=when.astimezone(UTC))
        return workshop

    def next_time(self, at: time, zone: tzinfo) -> datetime:
        """The next moment the clock in `zone` shows `at`: today, or else tomorrow."""
        now = self.clock().astimezone(zone)
        when = datetime.combine(now.date(), at, tzinfo=zone)
        return when if when > now else when + timedelta(days=1)

    async def due_syntheses(self) -> list[Workshop]:
        """The workshops whose asked-for synthesis time has come, each taken once."""
        taken = []
        for workshop, when in await pushes.due(self.db, now=self.clock()):
            if await pushes.take_due(self.db, workshop_id=workshop.id, when=when):
                taken.append(workshop)
        return taken

    async def facilitators_languages(self, *, workshop_id: int) -> list[tuple[int, str | None]]:
        """Each facilitator of the workshop, with their chosen language if any."""
        found = []
        for user_id in await workshops.facilitators(self.db, workshop_id=workshop_id):
            found.append((user_id, await users.language(self.db, user_id=user_id)))
        return found

    async def workshop_by_code(self, code: str) -> Workshop | None:
        found = await workshops.find_by_code(self.db, code=code) if looks_like_code(code) else None
        return found[0] if found is not None else None

    async def statements(
        self, *, user_id: int, code: str | None
    ) -> tuple[Workshop, list[Statement]]:
        """The workshop's statements that are approved or waiting for approval."""
        workshop = await self.workshop_for(user_id=user_id, code=code)
        found = await statements.of_workshop(
            self.db,
            workshop_id=workshop.id,
            statuses=(StatementStatus.APPROVED, StatementStatus.PENDING),
        )
        return workshop, found
