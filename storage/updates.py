"""The ledger of handled updates: a redelivered update is recognised and changes nothing."""

from __future__ import annotations

from datetime import datetime

from storage.connection import Connection
from storage.db import Database, to_text

# A claim already made changes nothing and raises nothing (a failed statement would end a
# PostgreSQL transaction): the count of rows it added says which it was.
CLAIM = (
    "INSERT INTO processed_updates (update_id, processed_at, stored) VALUES (?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)


def claim_parameters(update_id: int, now: datetime, *, stored: bool = True) -> tuple[int, str, int]:
    return (update_id, to_text(now), int(stored))


async def claim(conn: Connection, *, update_id: int, now: datetime, stored: bool = True) -> bool:
    """Record `update_id` inside the caller's transaction; False if it was handled before.
    `stored`: what it brought is written in the same transaction."""
    claimed = await conn.execute(CLAIM, claim_parameters(update_id, now, stored=stored))
    return claimed.rowcount == 1


async def remember(db: Database, *, update_id: int, now: datetime) -> bool:
    """Record `update_id` as handled on its own, for an update that stored nothing (a
    refused answer): delivered again later, it must not be taken for a new one."""
    async with db.transaction() as conn:
        return await claim(conn, update_id=update_id, now=now, stored=False)


async def was_handled(db: Database, *, update_id: int) -> bool:
    """Whether an update was handled before (a redelivery)."""
    async with (
        db.reading() as conn,
        conn.execute("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)) as rows,
    ):
        return await rows.fetchone() is not None


async def was_stored(db: Database, *, update_id: int) -> bool:
    """Whether an update was handled and what it brought stored (not a refused answer)."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT 1 FROM processed_updates WHERE update_id = ? AND stored = 1", (update_id,)
        ) as rows,
    ):
        return await rows.fetchone() is not None


async def prune(db: Database, *, before: datetime) -> int:
    """Forget updates handled before `before` (Telegram redelivers only recent ones),
    and which update created each workshop of that time."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?", (to_text(before),)
        )
        # Telegram reuses update ids after a quiet week: an old /newsession's id must not
        # find its workshop again.
        await conn.execute(
            "UPDATE workshops SET source_update_id = NULL WHERE created_at < ?",
            (to_text(before),),
        )
        return cursor.rowcount
