"""The figures `/health` shows an organiser: how big the database is and what waits in it.

Reads only, and cheap ones: counts over indexed columns and the size of the files, so that
an organiser can ask while the bot is busy (or while its disk is full).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.db import Database, to_text
from storage.migrations import schema_version


@dataclass(frozen=True)
class Figures:
    """The database's size on disk and the outbox's queues."""

    database_bytes: int  # the file and its write-ahead log
    schema_version: int
    deliveries_pending: int  # due now or later, not yet sent
    deliveries_due: int  # of those, due now
    deliveries_sending: int  # claimed: their call to Telegram is in flight
    mailings_due: int  # scheduled, their time come, recipients not chosen yet


def size_on_disk(path: Path) -> int:
    """The bytes of the database file and of its WAL and shared-memory files."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        try:
            total += part.stat().st_size
        except OSError:  # no WAL yet, or an in-memory database
            continue
    return total


async def figures(db: Database, *, now: datetime) -> Figures:
    """The figures as they stand now."""
    moment = to_text(now)
    async with db.reading() as conn:
        version = await schema_version(conn)
        async with conn.execute(
            "SELECT COALESCE(SUM(status = 'pending'), 0) AS pending,"
            " COALESCE(SUM(status = 'pending' AND due_at <= ?), 0) AS due,"
            " COALESCE(SUM(status = 'sending'), 0) AS sending"
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
        database_bytes=size_on_disk(db.path),
        schema_version=version,
        deliveries_pending=int(deliveries["pending"]),
        deliveries_due=int(deliveries["due"]),
        deliveries_sending=int(deliveries["sending"]),
        mailings_due=int(mailings[0]),
    )
