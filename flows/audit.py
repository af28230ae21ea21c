"""/audit: who did what to a workshop, for its organisers.

The use cases record their own actions (`storage.audit.record`, or inside their
transaction); this reads them back, with each actor's role as the reader may know it:
themselves, an organiser or a facilitator (by Telegram id, which organisers already use
to add co-organisers), the bot, or an account erased since. Participants never act on
a workshop, so no entry names one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from flows.kinds import AuditAction
from flows.organising import OrganiserService
from storage import audit, retention, workshops
from storage.audit import AuditEntry
from storage.db import Database, utc_now
from storage.models import Workshop
from storage.retention import Figures

SHOWN = 30  # the latest entries /audit lists


class Actor(StrEnum):
    """Who an entry's actor is to the reader."""

    YOU = "you"
    ORGANISER = "organiser"
    FACILITATOR = "facilitator"
    BOT = "bot"  # the retention job
    GONE = "gone"  # an account erased since (/forget), or no longer in any role


@dataclass(frozen=True)
class Line:
    entry: AuditEntry
    actor: Actor


@dataclass(frozen=True)
class AuditLog:
    """A workshop's latest entries, newest first, and how many there are in all."""

    workshop: Workshop
    lines: list[Line]
    total: int
    zone: tzinfo  # the reader's
    erased: Figures | None


class AuditService:
    def __init__(
        self,
        db: Database,
        organising: OrganiserService,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.organising = organising
        self.clock = clock

    async def log(self, *, user_id: int, code: str) -> AuditLog:
        """The workshop's audit, for its organisers only (`NotAllowed`, `UnknownWorkshop`
        as their other commands)."""
        workshop = await self.organising.managed(user_id=user_id, code=code)
        organisers = set(await workshops.organisers(self.db, workshop_id=workshop.id))
        facilitators = set(await workshops.facilitators(self.db, workshop_id=workshop.id))
        entries = await audit.latest(self.db, workshop_id=workshop.id, limit=SHOWN)
        lines = [Line(entry, _actor(entry, user_id, organisers, facilitators)) for entry in entries]
        return AuditLog(
            workshop,
            lines,
            await audit.count(self.db, workshop_id=workshop.id),
            await self.organising.reader_zone(user_id, workshop),
            await retention.figures(self.db, workshop_id=workshop.id),
        )

    async def exported(self, *, user_id: int, workshop: Workshop, update_id: int | None) -> None:
        """An export was sent (once per update: a redelivered /export records nothing)."""
        await audit.record(
            self.db,
            workshop_id=workshop.id,
            actor_id=user_id,
            action=AuditAction.EXPORTED,
            now=self.clock(),
            update_id=update_id,
        )


def _actor(entry: AuditEntry, reader: int, organisers: set[int], facilitators: set[int]) -> Actor:
    if entry.actor_id is None:
        return Actor.BOT if entry.action == AuditAction.ERASED else Actor.GONE
    if entry.actor_id == reader:
        return Actor.YOU
    if entry.actor_id in organisers:
        return Actor.ORGANISER
    if entry.actor_id in facilitators:
        return Actor.FACILITATOR
    return Actor.GONE
