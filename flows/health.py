"""/health: how the bot's storage stands, for organisers only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from flows.errors import NotAllowed
from flows.outbox import reader_zone
from storage import health
from storage.db import Database
from storage.health import Figures


@dataclass(frozen=True)
class Health:
    """The database's figures, and the reader's time zone to show times in."""

    figures: Figures
    zone: tzinfo


async def read(
    db: Database, *, user_id: int, organisers: frozenset[int], default_zone: tzinfo, now: datetime
) -> Health:
    """The figures as they stand `now`; `NotAllowed` for anyone but an organiser (they
    describe the whole deployment, every workshop's queues in one)."""
    if user_id not in organisers:
        raise NotAllowed("only organisers read the bot's health")
    zone = await reader_zone(db, user_id=user_id, workshop=None, default=default_zone)
    return Health(await health.figures(db, now=now), zone)
