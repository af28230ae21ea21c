"""The décantation: the deferred moments (the nourishing feedback and the settling), sent
to each participant some days after they finished (the workshop's `decantation_seconds`)
and after the agora closed, with their own commitments recalled.

The outbox decides when (`flows.outbox`: a standing mailing gives each finished
participant a delivery at `finished_at` + the delay, held while the agora is open and
moved to its closing + the delay, and one reminder later); this module
decides what sending it does. `start` moves a participant from the end of the journey to
the first deferred prompt, once; from there their answers go through the ordinary
answer path (`WorkshopService.respond`), stored like any other, and the last one brings
them back to the end (`participants.settled_at`). When everyone who finished has answered
it, its synthesis goes to the facilitators, once.

Which commitments are recalled: those the participant wrote in phase 2 that no facilitator
rejected, whether or not the caucus kept them for the agora, still waiting for review,
withdrawn or merged into another. It is what they wrote they would do, recalled to them
alone, so nothing of anyone else's is shown; a rejected one was judged unfit to keep (a
name, an insult) and is not brought back.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from flows.codes import looks_like_code
from flows.engine import DONE, JourneyEngine, Step
from flows.errors import NotAllowed
from flows.followup import FollowupService, Scheduled
from flows.journey import Journey
from flows.kinds import StatementKind, StatementStatus
from flows.outbox import decantation_reminder_gap, reader_zone, reschedule_decantation
from flows.synthesis import (
    ALL,
    Funnel,
    Synthesis,
    group_by_threshold,
    scales_and_texts,
)
from flows.when import parse_when
from storage import exports, participants, pushes, statements, users, workshops
from storage.db import Database, utc_now
from storage.models import Answer, Participant, Workshop

# The most a workshop may wait before the deferred moments come, in days.
MAX_DAYS = 90
DAY = 86400
# The pushes table's key for the décantation's synthesis (sent once per workshop).
PUSH_KEY = "decantation"


class Refusal(StrEnum):
    """Why /decantation or /followup changed nothing (besides the role: `NotAllowed`)."""

    USAGE = "usage"  # a code and a number of days (or a date) are needed
    UNKNOWN_CODE = "unknown_code"
    CLOSED = "closed"
    BAD_DAYS = "bad_days"  # not a whole number from 0 to MAX_DAYS
    NO_TIME = "no_time"  # no date or delay could be read
    PAST = "past"


class Refused(Exception):
    """A command refused, with what its reply needs to say why."""

    def __init__(self, reason: Refusal, *, code: str = "", when: datetime | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.code = code
        self.when = when


@dataclass(frozen=True)
class Sent:
    """A participant at a deferred prompt, with what to show above it."""

    participant: Participant
    step: Step
    workshop: Workshop
    commitments: list[str]


@dataclass(frozen=True)
class Delay:
    """/decantation's outcome: the workshop with its new delay, and how many deliveries
    still to come were moved to it."""

    workshop: Workshop
    days: int
    moved: int


async def carried_commitments(db: Database, *, participant_id: int) -> list[str]:
    """The texts of the commitments the participant wrote that were not rejected, in the
    order written (see the module's docstring for why these)."""
    return [
        statement.own_words  # recalled to their author: in their own words
        for statement in await statements.of_participant(db, participant_id=participant_id)
        if statement.kind == StatementKind.COMMITMENT
        and statement.status != StatementStatus.REJECTED
    ]


async def workshop_managed(
    db: Database, *, user_id: int, code: str, open_only: bool = True
) -> Workshop:
    """The workshop `code` names (an open one, unless not `open_only`), if the user
    organises or facilitates it."""
    found = await workshops.find_by_code(db, code=code) if looks_like_code(code) else None
    if found is None:
        raise Refused(Refusal.UNKNOWN_CODE, code=code)
    workshop = found[0]
    if not await workshops.manages(db, workshop_id=workshop.id, user_id=user_id):
        raise NotAllowed
    if open_only and not workshop.is_open:
        raise Refused(Refusal.CLOSED, code=code)
    return workshop


# -- its synthesis (pure) --------------------------------------------------------------------

DECANTATION_STAGES = ("sent", "settled")


@dataclass(frozen=True)
class Settling:
    """The deferred moments, asked some days after the end: how many were sent it and answered
    it (in all and per group, as the funnel counts), and its figures among those who
    answered, under the same anonymity threshold as the rest (`synthesis.scales`,
    `synthesis.texts`, `synthesis.categories`)."""

    synthesis: Synthesis
    sent: int
    settled: int


def synthesise_decantation(
    journey: Journey,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    *,
    min_group: int = 3,
) -> Settling:
    """The décantation's synthesis: its prompts' answers, by those who were sent it. An
    answer given before an erasure is gone with its author; one to a prompt the journey
    no longer has is left out (the export keeps it)."""
    order = [c.id for c in journey.categories]
    sent = [
        p
        for p in participants
        if p.consented_at is not None and p.category and p.decantation_sent_at is not None
    ]
    grouping = group_by_threshold(Counter(p.category or "" for p in sent), order, min_group)
    counts: dict[str, Counter[str]] = {stage: Counter() for stage in DECANTATION_STAGES}
    for p in sent:
        group = grouping.group_of(p.category)
        for stage, yes in (("sent", True), ("settled", p.settled_at is not None)):
            if yes:
                counts[stage][ALL] += 1
                if group is not None:
                    counts[stage][group] += 1
    synthesis = Synthesis(
        min_group=min_group,
        categories=grouping,
        funnel=Funnel(DECANTATION_STAGES, {k: dict(v) for k, v in counts.items()}),
        moments={},
    )
    who = {p.id: p for p in sent}
    asked = {p.id for p in journey.deferred_prompts()}
    by_prompt: defaultdict[str, list[tuple[Participant, str]]] = defaultdict(list)
    for answer in answers:
        participant = who.get(answer.participant_id)
        if participant is not None and answer.question_id in asked:
            by_prompt[answer.question_id].append((participant, answer.for_others))
    scales_and_texts(journey, journey.deferred_prompts(), synthesis, by_prompt, min_group)
    return Settling(synthesis, len(sent), sum(1 for p in sent if p.settled_at is not None))


def decantation_complete(
    participants: Sequence[Participant],
    *,
    min_group: int,
    now: datetime | None = None,
    wait: timedelta | None = None,
) -> bool:
    """Whether the décantation's synthesis is due: at least `min_group` participants
    answered it, and every one who finished and is not pausing has answered it, or was
    sent it at least `wait` ago (its reminder came and went: someone who never answers
    holds it back only that long; `/synthesis decantation` gives it at any time)."""
    finished = [
        p
        for p in participants
        if p.consented_at is not None and p.finished_at is not None and p.paused_at is None
    ]
    settled = [p for p in finished if p.settled_at is not None]
    if len(settled) < max(min_group, 1):
        return False
    silent = [p for p in finished if p.settled_at is None]
    if not silent:
        return True
    return (
        now is not None
        and wait is not None
        and all(
            p.decantation_sent_at is not None and now - p.decantation_sent_at >= wait
            for p in silent
        )
    )


class DecantationService:
    def __init__(
        self,
        db: Database,
        engine: JourneyEngine,
        *,
        followup: FollowupService,
        zone: tzinfo,
        min_group: int = 3,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.engine = engine
        self.followup = followup
        self.zone = zone
        self.min_group = min_group
        self.clock = clock

    @classmethod
    def build(
        cls,
        db: Database,
        engine: JourneyEngine,
        *,
        zone: tzinfo,
        min_group: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> DecantationService:
        """The service with its follow-up, both on the same clock."""
        followup = FollowupService(db, zone=zone, clock=clock)
        return cls(db, engine, followup=followup, zone=zone, min_group=min_group, clock=clock)

    # -- sending ---------------------------------------------------------------------

    async def start(self, *, participant_id: int) -> Sent | None:
        """Move a participant from the end to the first deferred prompt and record
        when (once). None, and nothing changed, when the journey has no deferred moment,
        the workshop is closed, or the participant is not at the end or was sent it
        before (a second call, a redelivery after a crash: the first prompt is not sent
        twice from here)."""
        first = self.engine.decantation_start
        participant = await participants.get(self.db, participant_id=participant_id)
        if first is None or participant is None:
            return None
        workshop = await workshops.get(self.db, workshop_id=participant.workshop_id)
        if workshop is None or not workshop.is_open:
            return None
        moved = await participants.start_decantation(
            self.db,
            participant_id=participant_id,
            first_state=first,
            done_state=DONE,
            now=self.clock(),
        )
        if moved is None:
            return None
        return Sent(
            moved,
            self.engine.step(moved.state, moved.category),
            workshop,
            await carried_commitments(self.db, participant_id=participant_id),
        )

    async def unanswered(self, *, participant_id: int) -> Sent | None:
        """Where a participant sent the deferred moments stands in them, if they have not
        answered it yet (the reminder's case); None once settled, or not in it."""
        participant = await participants.get(self.db, participant_id=participant_id)
        if (
            participant is None
            or participant.decantation_sent_at is None
            or participant.settled_at is not None
            or participant.state not in self.engine.deferred_states
        ):
            return None
        workshop = await workshops.get(self.db, workshop_id=participant.workshop_id)
        if workshop is None or not workshop.is_open:
            return None
        return Sent(
            participant,
            self.engine.step(participant.state, participant.category),
            workshop,
            await carried_commitments(self.db, participant_id=participant_id),
        )

    async def commitments(self, *, participant_id: int) -> list[str]:
        """The commitments recalled above the décantation's question about them."""
        return await carried_commitments(self.db, participant_id=participant_id)

    # -- /decantation <code> <days> ----------------------------------------------------

    async def set_delay(self, *, user_id: int, words: list[str]) -> Delay:
        """How many days after finishing the deferred moments come, for one workshop: its
        organisers and facilitators may set it (0 to MAX_DAYS). The deliveries still to
        come move to the new delay (the décantation and its reminder)."""
        if len(words) != 2:
            raise Refused(Refusal.USAGE)
        code, typed = words
        workshop = await workshop_managed(self.db, user_id=user_id, code=code)
        if not typed.isdecimal() or int(typed) > MAX_DAYS:
            raise Refused(Refusal.BAD_DAYS, code=code)
        days = int(typed)
        await workshops.configure(self.db, workshop_id=workshop.id, decantation_seconds=days * DAY)
        moved = await reschedule_decantation(self.db, workshop_id=workshop.id)
        fresh = await workshops.get(self.db, workshop_id=workshop.id)
        assert fresh is not None
        return Delay(fresh, days, moved)

    # -- /followup <code> <date> ---------------------------------------------------------

    async def schedule_followup(
        self, *, user_id: int, words: list[str], language: str, update_id: int | None
    ) -> Scheduled:
        """A follow-up of a workshop at a date and time read in the sender's language and
        time zone (theirs, else the workshop's, else the deployment's): for its organisers
        and facilitators; refused when unreadable or past."""
        if len(words) < 2:
            raise Refused(Refusal.USAGE)
        workshop = await workshop_managed(self.db, user_id=user_id, code=words[0])
        zone = await reader_zone(self.db, user_id=user_id, workshop=workshop, default=self.zone)
        now = self.clock()
        when = parse_when(" ".join(words[1:]), language=language, now=now, zone=zone)
        if when is None:
            raise Refused(Refusal.NO_TIME, code=words[0])
        if when <= now:
            raise Refused(Refusal.PAST, code=words[0], when=when)
        return await self.followup.schedule(
            workshop=workshop, user_id=user_id, when=when, language=language, update_id=update_id
        )

    # -- its synthesis ------------------------------------------------------------------

    async def settling(self, workshop: Workshop) -> Settling:
        """The deferred moments' synthesis of a workshop (anonymised as every synthesis)."""
        rows = await exports.workshop_rows(self.db, workshop_id=workshop.id)
        return await asyncio.to_thread(
            synthesise_decantation,
            self.engine.journey,
            rows.participants,
            rows.answers,
            min_group=self.min_group,
        )

    async def report(self, *, user_id: int, code: str) -> tuple[Workshop, Settling]:
        """/synthesis decantation <code>: for the workshop's facilitators and organisers."""
        workshop = await workshop_managed(self.db, user_id=user_id, code=code, open_only=False)
        return workshop, await self.settling(workshop)

    async def due_push(self, *, workshop_id: int) -> tuple[Workshop, Settling] | None:
        """The décantation's synthesis to push to the facilitators now, once: when at
        least the anonymity threshold answered it and everyone who finished (and is not
        pausing) has, or stayed silent well after its reminder. None otherwise, or when it
        went out before."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        if workshop is None:
            return None
        found = await participants.of_workshop(self.db, workshop_id=workshop_id)
        # The silent wait twice the reminder's delay after the décantation (6 days of 10).
        wait = 2 * decantation_reminder_gap(timedelta(seconds=workshop.decantation_seconds))
        if not decantation_complete(found, min_group=self.min_group, now=self.clock(), wait=wait):
            return None
        if not await pushes.claim(
            self.db, workshop_id=workshop_id, phase=PUSH_KEY, now=self.clock()
        ):
            return None
        return workshop, await self.settling(workshop)

    async def facilitators_languages(self, *, workshop_id: int) -> list[tuple[int, str | None]]:
        """Each facilitator of the workshop, with their chosen language if any."""
        return [
            (user_id, await users.language(self.db, user_id=user_id))
            for user_id in await workshops.facilitators(self.db, workshop_id=workshop_id)
        ]
