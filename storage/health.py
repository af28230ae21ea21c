"""The figures `/health` shows an organiser: how big the database is and what waits in it.

Reads only, and cheap ones: counts over indexed columns and the size of the files, so that
an organiser can ask while the bot is busy (or while its disk is full).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_text


@dataclass(frozen=True)
class Figures:
    """The database's size on disk and the outbox's queues."""

    database_bytes: int  # the file and its write-ahead log, or the server's database
    schema_version: int
    deliveries_pending: int  # due now or later, not yet sent
    deliveries_due: int  # of those, due now
    deliveries_sending: int  # claimed: their call to Telegram is in flight
    mailings_due: int  # scheduled, their time come, recipients not chosen yet


async def figures(db: Database, *, now: datetime) -> Figures:
    """The figures as they stand now."""
    moment = to_text(now)
    version = await db.schema_version()
    size = await db.size_in_bytes()
    async with db.reading() as conn:
        async with conn.execute(
            "SELECT COUNT(*) FILTER (WHERE status = 'pending') AS pending,"
            " COUNT(*) FILTER (WHERE status = 'pending' AND due_at <= ?) AS due,"
            " COUNT(*) FILTER (WHERE status = 'sending') AS sending"
            " FROM deliveries WHERE status IN ('pending', 'sending')",
            (moment,),
        ) as rows:
            deliveries = await rows.fetchone()
        async with conn.execute(
            "SELECT COUNT(*) FROM mailings WHERE status = 'scheduled' AND due_at <= ?",
            (moment,),
        ) as rows:
            mailings = await rows.fetchone()
    assert deliveries is not None and mailings is not None
    return Figures(
        database_bytes=size,
        schema_version=version,
        deliveries_pending=int(deliveries["pending"]),
        deliveries_due=int(deliveries["due"]),
        deliveries_sending=int(deliveries["sending"]),
        mailings_due=int(mailings[0]),
    )
