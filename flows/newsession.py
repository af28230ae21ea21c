"""The questions after /newsession, one after the other, each skippable: the first
session's date and time, its place, the territory, and how many days after finishing each
participant receives the décantation. The organiser answers by typing; the question
waiting for an answer is kept in `users.awaiting`, so that a restart loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flows.engine import text_length
from flows.errors import NotAllowed
from flows.organising import (
    MAX_PLACE_LENGTH,
    Change,
    OrganiserService,
    Problem,
    Question,
    too_long,
)
from flows.when import parse_when
from storage import updates, users, workshops
from storage.models import Workshop

AWAITED_PREFIX = "organise"
# The décantation's delay an organiser may give, in days (as /decantation takes it).
MAX_DECANTATION_DAYS = 90
DAY = 86400


@dataclass(frozen=True)
class Awaited:
    """The question the organiser's next typed message answers (`users.awaiting`)."""

    question: Question
    workshop_id: int
    starts_at: datetime | None = None  # the place's question carries the time answered

    def encode(self) -> str:
        moment = f":{int(self.starts_at.timestamp())}" if self.starts_at else ""
        return f"{AWAITED_PREFIX}:{self.question.value}:{self.workshop_id}{moment}"

    @classmethod
    def decode(cls, raw: str | None) -> Awaited | None:
        parts = (raw or "").split(":")
        if len(parts) not in (3, 4) or parts[0] != AWAITED_PREFIX or not parts[2].isdecimal():
            return None
        try:
            question = Question(parts[1])
        except ValueError:
            return None
        if len(parts) == 4 and not parts[3].isdecimal():
            return None
        moment = datetime.fromtimestamp(int(parts[3]), tz=UTC) if len(parts) == 4 else None
        return cls(question, int(parts[2]), moment)


def days_typed(typed: str) -> int | None:
    """A number of days from 0 to MAX_DECANTATION_DAYS ("10", "10 jours", "10 days")."""
    head = typed.split()[0] if typed.split() else ""
    if not head.isdecimal() or int(head) > MAX_DECANTATION_DAYS:
        return None
    return int(head)


class CreationQuestions:
    """What /newsession asks after the links; each answer checks the role again."""

    def __init__(self, organising: OrganiserService) -> None:
        self.organising = organising
        self.db = organising.db

    async def ask_first(self, *, user_id: int, workshop: Workshop) -> Change:
        """After /newsession: ask for the first session's date and time."""
        await self.organising.managed_by_id(user_id=user_id, workshop_id=workshop.id)
        await self._ask(user_id, Awaited(Question.WHEN, workshop.id))
        zone = self.organising.workshop_zone(workshop)
        return Change(workshop, asking=Question.WHEN, zone=zone)

    async def awaited(self, *, user_id: int) -> Awaited | None:
        """The organiser's question the user's next message answers, if one is."""
        return Awaited.decode(await users.awaiting(self.db, user_id=user_id))

    async def _ask(self, user_id: int, awaited: Awaited | None) -> None:
        await users.set_awaiting(
            self.db,
            user_id=user_id,
            awaiting=awaited.encode() if awaited else None,
            now=self.organising.clock(),
        )

    async def _claim(self, update_id: int | None) -> bool:
        """The message marked handled (False: it was, before)."""
        if update_id is None:
            return True
        async with self.db.transaction() as conn:
            return await updates.claim(conn, update_id=update_id, now=self.organising.clock())

    async def answer(
        self,
        *,
        user_id: int,
        awaited: Awaited,
        text: str | None,
        language: str,
        update_id: int | None = None,
    ) -> Change:
        """A typed answer to the question asked (`text` None: skipped with its button).
        A bad answer keeps the question (the next message tries again; any command gives
        up). Raises NotAllowed when the user no longer organises the workshop."""
        organising = self.organising
        try:
            workshop = await organising.managed_by_id(
                user_id=user_id, workshop_id=awaited.workshop_id
            )
        except NotAllowed:
            await self._ask(user_id, None)
            raise
        zone = organising.workshop_zone(workshop)
        shown = await organising.reader_zone(user_id, workshop)
        now = organising.clock()
        typed = (text or "").strip()
        question = awaited.question
        if typed and question is Question.WHEN:
            starts_at = parse_when(typed, language=language, now=now, zone=zone)
            if starts_at is None:
                return Change(workshop, asking=question, problem=Problem.UNREADABLE)
            if starts_at <= now:
                return Change(workshop, asking=question, problem=Problem.PAST)
            if not await self._claim(update_id):
                return Change(workshop, problem=Problem.DUPLICATE)
            await self._ask(user_id, Awaited(Question.PLACE, workshop.id, starts_at))
            return Change(workshop, asking=Question.PLACE, zone=shown)
        if typed and question is Question.DECANTATION:
            days = days_typed(typed)
            if days is None:
                return Change(workshop, asking=question, problem=Problem.NOT_DAYS)
            if not await self._claim(update_id):
                return Change(workshop, problem=Problem.DUPLICATE)
            await workshops.configure(
                self.db, workshop_id=workshop.id, decantation_seconds=days * DAY
            )
            await self._ask(user_id, None)
            workshop = await organising.managed_by_id(user_id=user_id, workshop_id=workshop.id)
            return Change(workshop, zone=shown)
        if typed and text_length(typed) > MAX_PLACE_LENGTH:
            return too_long(workshop, typed, question)
        if question is Question.WHEN:  # skipped: no session, so no place either
            await self._ask(user_id, Awaited(Question.TERRITORY, workshop.id))
            return Change(workshop, asking=Question.TERRITORY, zone=shown)
        if question is Question.PLACE:
            session = None
            if awaited.starts_at is not None:
                session = await organising.add_session(
                    workshop, awaited.starts_at, typed or None, user_id, update_id
                )
            if text is not None and not await self._claim(update_id):
                return Change(workshop, problem=Problem.DUPLICATE)
            await self._ask(user_id, Awaited(Question.TERRITORY, workshop.id))
            return Change(workshop, session=session, asking=Question.TERRITORY, zone=shown)
        if question is Question.TERRITORY:
            if typed:
                if not await self._claim(update_id):
                    return Change(workshop, problem=Problem.DUPLICATE)
                await workshops.configure(self.db, workshop_id=workshop.id, territory=typed)
                workshop = await organising.managed_by_id(user_id=user_id, workshop_id=workshop.id)
            await self._ask(user_id, Awaited(Question.DECANTATION, workshop.id))
            return Change(workshop, asking=Question.DECANTATION, zone=shown)
        await self._ask(user_id, None)  # the décantation's delay, skipped: the default
        return Change(workshop, changed=False, zone=shown)

    async def skip(self, *, user_id: int, workshop_id: int, question: Question) -> Change:
        """The skip button of a question: the next one, if that question is still asked."""
        awaited = await self.awaited(user_id=user_id)
        if awaited is None or awaited.workshop_id != workshop_id or awaited.question != question:
            workshop = await self.organising.managed_by_id(user_id=user_id, workshop_id=workshop_id)
            return Change(workshop, problem=Problem.STALE, changed=False)
        return await self.answer(user_id=user_id, awaited=awaited, text=None, language="en")
