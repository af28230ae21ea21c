"""Resolutions: what the room converged on, who carries it, and by when.

A facilitator marks a convergence on the room's statement: a resolution is recorded with
the statement's text and a default carrier (the category a request asks, the category a
commitment or proposal comes from). Its text, carrier and due date are then changed from
its card; what the facilitator types next answers the card's question, remembered in the
database (`users.awaiting`) so that it survives a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import Enum, StrEnum

from babel.dates import parse_date

from flows.engine import text_length
from flows.errors import NotAllowed
from flows.facilitation import FacilitationService
from flows.kinds import StatementKind, StatementStatus
from storage import resolutions, statements, updates, users, workshops
from storage.db import Database, utc_now
from storage.models import Resolution, Statement, Workshop

MAX_CARRIER_LENGTH = 120


def default_carrier(statement: Statement) -> str:
    """Who carries a resolution unless told otherwise: the category a request asks; the
    category a commitment or proposal comes from."""
    if statement.kind == StatementKind.REQUEST and statement.target_category:
        return statement.target_category
    return statement.source_category


class DueDateError(ValueError):
    """A due date that cannot be taken: unreadable, or in the past."""

    def __init__(self, past: bool) -> None:
        super().__init__("a due date in the past" if past else "an unreadable due date")
        self.past = past


def parse_due(text: str, language: str, today: date) -> date:
    """A due date as typed: ISO (2026-12-31) or the language's short form (31/12/2026 in
    French, 12/31/2026 in English). Raises `DueDateError` if unreadable or before today."""
    typed = text.strip()
    try:
        found = date.fromisoformat(typed)
    except ValueError:
        try:
            found = parse_date(typed, locale=language, format="short")
        except (ValueError, IndexError) as error:  # babel's ParseError is a ValueError
            raise DueDateError(past=False) from error
    if found < today:
        raise DueDateError(past=True)
    return found


class Field(StrEnum):
    """What a typed answer changes on a resolution."""

    TEXT = "text"
    CARRIER = "carrier"
    DUE = "due"


@dataclass(frozen=True)
class Awaited:
    """A question a facilitator's next typed message answers."""

    resolution_id: int
    field: Field
    card_message_id: int | None  # the resolution's card, to edit once answered

    def encode(self) -> str:
        return f"resolution:{self.resolution_id}:{self.field.value}:{self.card_message_id or 0}"

    @classmethod
    def decode(cls, raw: str | None) -> Awaited | None:
        parts = (raw or "").split(":")
        if len(parts) != 4 or parts[0] != "resolution" or not parts[1].isdecimal():
            return None
        if parts[2] not in {f.value for f in Field} or not parts[3].isdecimal():
            return None
        return cls(int(parts[1]), Field(parts[2]), int(parts[3]) or None)


class Convergence(Enum):
    NEW = "new"  # a resolution recorded now
    EXISTING = "existing"  # recorded before on that statement
    WITHDRAWN = "withdrawn"  # the statement was withdrawn: nothing recorded
    UNAVAILABLE = "unavailable"  # not a statement of the agora: nothing recorded


@dataclass(frozen=True)
class Converged:
    outcome: Convergence
    resolution: Resolution | None = None
    statement: Statement | None = None


class AnswerOutcome(Enum):
    SAVED = "saved"
    EMPTY = "empty"  # nothing but spaces: asked again
    TOO_LONG = "too_long"  # asked again
    UNREADABLE_DATE = "unreadable_date"  # asked again, with the expected form
    PAST_DATE = "past_date"  # asked again, with the expected form
    GONE = "gone"  # the resolution (or the role) is gone: nothing awaited any more
    DUPLICATE = "duplicate"  # the same message delivered again: handled once already


@dataclass(frozen=True)
class Answered:
    outcome: AnswerOutcome
    awaited: Awaited
    resolution: Resolution | None = None
    limit: int = 0


@dataclass(frozen=True)
class Card:
    """A resolution's card as a button left it: asking for a typed answer, offering the
    carriers, or done."""

    resolution: Resolution
    asking: Field | None = None
    choosing: bool = False  # the carriers are offered
    done: bool = False


_ASKED = {"text": Field.TEXT, "name": Field.CARRIER, "due": Field.DUE}


class ResolutionService:
    """Recording, editing and listing resolutions; every action checks the role."""

    def __init__(
        self,
        db: Database,
        facilitation: FacilitationService,
        *,
        zone: tzinfo,
        categories: tuple[str, ...] = (),
        max_text_length: int = 2000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.facilitation = facilitation
        self.zone = zone
        self.categories = categories
        self.max_text_length = max_text_length
        self.clock = clock

    def today(self) -> date:
        """Today where the workshop takes place (the bot's time zone)."""
        return self.clock().astimezone(self.zone).date()

    async def _check(self, user_id: int, workshop_id: int) -> None:
        if not await workshops.is_facilitator(self.db, workshop_id=workshop_id, user_id=user_id):
            raise NotAllowed

    async def converge(self, *, user_id: int, workshop_id: int, statement_id: int) -> Converged:
        """A convergence on a statement of the agora: its resolution (once per statement)."""
        await self._check(user_id, workshop_id)
        statement = await statements.get(self.db, statement_id=statement_id)
        if statement is None or statement.workshop_id != workshop_id:
            return Converged(Convergence.UNAVAILABLE)
        if statement.status == StatementStatus.WITHDRAWN:
            return Converged(Convergence.WITHDRAWN, statement=statement)
        if not statement.in_agora:
            return Converged(Convergence.UNAVAILABLE, statement=statement)
        resolution, new = await resolutions.record(
            self.db,
            workshop_id=workshop_id,
            statement_id=statement.id,
            text=statement.text,
            carrier_category=default_carrier(statement),
            by=user_id,
            now=self.clock(),
        )
        return Converged(Convergence.NEW if new else Convergence.EXISTING, resolution, statement)

    async def get(self, *, user_id: int, resolution_id: int) -> Resolution:
        """A resolution of a workshop the user facilitates (`NotAllowed` otherwise)."""
        found = await resolutions.get(self.db, resolution_id=resolution_id)
        if found is None:
            raise NotAllowed
        await self._check(user_id, found.workshop_id)
        return found

    async def ask(
        self, *, user_id: int, resolution_id: int, field: Field, card_message_id: int | None
    ) -> Resolution:
        """The user's next typed message will answer `field` of the resolution."""
        found = await self.get(user_id=user_id, resolution_id=resolution_id)
        awaited = Awaited(resolution_id, field, card_message_id)
        await users.set_awaiting(
            self.db, user_id=user_id, awaiting=awaited.encode(), now=self.clock()
        )
        return found

    async def press(
        self,
        *,
        user_id: int,
        resolution_id: int,
        action: str,
        category: str | None = None,
        card_message_id: int | None = None,
    ) -> Card:
        """A button of a resolution's card (`NotAllowed` for anyone who does not
        facilitate its workshop)."""
        if action in _ASKED:
            asked = await self.ask(
                user_id=user_id,
                resolution_id=resolution_id,
                field=_ASKED[action],
                card_message_id=card_message_id,
            )
            return Card(asked, asking=_ASKED[action])
        if action == "category" and category in self.categories:
            assert category is not None
            return Card(
                await self.set_carrier(
                    user_id=user_id, resolution_id=resolution_id, category=category
                )
            )
        if action in ("carriers", "category"):
            return Card(await self.get(user_id=user_id, resolution_id=resolution_id), choosing=True)
        if action == "no_due":
            return Card(await self.clear_due(user_id=user_id, resolution_id=resolution_id))
        if action == "done":
            return Card(await self.finish(user_id=user_id, resolution_id=resolution_id), done=True)
        found = await self.get(user_id=user_id, resolution_id=resolution_id)  # back
        await self.cancel(user_id=user_id)
        return Card(found)

    async def set_carrier(self, *, user_id: int, resolution_id: int, category: str) -> Resolution:
        await self.get(user_id=user_id, resolution_id=resolution_id)
        return await self._update(user_id, resolution_id, carrier_category=category)

    async def clear_due(self, *, user_id: int, resolution_id: int) -> Resolution:
        await self.get(user_id=user_id, resolution_id=resolution_id)
        return await self._update(user_id, resolution_id, due_on=None)

    async def finish(self, *, user_id: int, resolution_id: int) -> Resolution:
        """Done with the card: nothing more is awaited."""
        found = await self.get(user_id=user_id, resolution_id=resolution_id)
        await self.cancel(user_id=user_id)
        return found

    async def _update(
        self, user_id: int, resolution_id: int, *, cancel: bool = True, **values: str | date | None
    ) -> Resolution:
        if cancel:
            await self.cancel(user_id=user_id)
        updated = await resolutions.update(
            self.db, resolution_id=resolution_id, now=self.clock(), **values
        )
        assert updated is not None
        return updated

    async def redelivered(self, *, user_id: int, update_id: int) -> bool:
        """A typed message handled before that was (or may have been) a facilitator's
        answer: it stops there, changing nothing. A participant's goes on to their own
        handler, which recognises it too."""
        if not await updates.was_handled(self.db, update_id=update_id):
            return False
        if await users.awaiting(self.db, user_id=user_id) is not None:
            return True
        return bool(await workshops.facilitated_by(self.db, user_id=user_id))

    async def _claim(self, update_id: int | None) -> bool:
        """The message marked handled (False: a twin of it was, meanwhile)."""
        if update_id is None:
            return True
        async with self.db.transaction() as conn:
            return await updates.claim(conn, update_id=update_id, now=self.clock())

    async def awaited(self, *, user_id: int) -> Awaited | None:
        """What the user's next typed message answers, if anything."""
        return Awaited.decode(await users.awaiting(self.db, user_id=user_id))

    async def cancel(self, *, user_id: int) -> bool:
        """Forget what the user's next message would have answered; whether it was set."""
        if await users.awaiting(self.db, user_id=user_id) is None:
            return False
        await users.set_awaiting(self.db, user_id=user_id, awaiting=None, now=self.clock())
        return True

    async def answer(
        self,
        *,
        user_id: int,
        awaited: Awaited,
        text: str,
        language: str,
        update_id: int | None = None,
    ) -> Answered:
        """Apply a typed answer to the question awaited, once per message (`update_id`).
        A bad answer keeps the question open (the next message tries again; /cancel gives
        up). The answer is written, then the message marked handled, then the question
        forgotten: a crash in between repeats the same write, or finds the message
        handled, never lets it through as something else."""
        answered = await self._answer(user_id, awaited, text, language)
        if not await self._claim(update_id):
            return Answered(AnswerOutcome.DUPLICATE, awaited)
        if answered.outcome in (AnswerOutcome.SAVED, AnswerOutcome.GONE):
            await self.cancel(user_id=user_id)
        return answered

    async def _answer(self, user_id: int, awaited: Awaited, text: str, language: str) -> Answered:
        try:
            await self.get(user_id=user_id, resolution_id=awaited.resolution_id)
        except NotAllowed:
            return Answered(AnswerOutcome.GONE, awaited)
        typed = text.strip()
        limit = MAX_CARRIER_LENGTH if awaited.field is Field.CARRIER else self.max_text_length
        if not typed:
            return Answered(AnswerOutcome.EMPTY, awaited)
        if awaited.field is not Field.DUE and text_length(typed) > limit:
            return Answered(AnswerOutcome.TOO_LONG, awaited, limit=limit)
        values: dict[str, str | date | None] = {"text": typed}
        if awaited.field is Field.CARRIER:
            values = {"carrier_name": typed}
        elif awaited.field is Field.DUE:
            try:
                values = {"due_on": parse_due(typed, language, self.today())}
            except DueDateError as error:
                outcome = AnswerOutcome.PAST_DATE if error.past else AnswerOutcome.UNREADABLE_DATE
                return Answered(outcome, awaited)
        saved = await self._update(user_id, awaited.resolution_id, cancel=False, **values)
        return Answered(AnswerOutcome.SAVED, awaited, saved)

    async def of_workshop(
        self, *, user_id: int, code: str | None
    ) -> tuple[Workshop, list[Resolution]]:
        """`/resolutions`: a workshop's resolutions, for its facilitators."""
        workshop = await self.facilitation.workshop_for(user_id=user_id, code=code)
        return workshop, await resolutions.of_workshop(self.db, workshop_id=workshop.id)
