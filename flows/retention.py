"""How long a workshop's personal data is kept: `COOPBOT_RETENTION_DAYS` after it closed,
then a daily job erases its participants' data and keeps its overall figures
(`storage/retention.py` says what goes and what stays). Idempotent: the job runs at
start too, so a bot that was down on the day still erases, and running it again changes
nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flows.errors import Erased
from storage import retention
from storage.db import Database, utc_now
from storage.models import Workshop
from storage.retention import Figures

log = logging.getLogger(__name__)


async def refuse_erased(db: Database, workshop: Workshop) -> None:
    """Raise `Erased` when the workshop's data is gone: a facilitator's command on it
    is told so, not shown empty results."""
    found = await retention.figures(db, workshop_id=workshop.id)
    if found is not None:
        raise Erased(workshop, found.erased_at)


class RetentionService:
    def __init__(self, db: Database, *, days: int, clock: Callable[[], datetime] = utc_now) -> None:
        self.db = db
        self.days = days
        self.clock = clock

    async def erase_expired(self) -> list[Figures]:
        """Erase the personal data of every workshop closed more than `days` ago (each
        once); the figures kept for each workshop erased now."""
        now = self.clock()
        before = now - timedelta(days=self.days)
        erased = []
        for workshop_id in await retention.expired(self.db, closed_before=before):
            found = await retention.erase(
                self.db, workshop_id=workshop_id, closed_before=before, now=now
            )
            if found is not None:
                log.info("erased the participants' data of workshop %d", workshop_id)
                erased.append(found)
        return erased

    async def figures(self, *, workshop_id: int) -> Figures | None:
        return await retention.figures(self.db, workshop_id=workshop_id)
