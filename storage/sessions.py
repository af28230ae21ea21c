"""A workshop's dated sessions: when and where each meeting takes place."""

from __future__ import annotations

from datetime import datetime

from storage.connection import Row, inserted_id
from storage.db import Database, from_required_text, from_text, to_text
from storage.models import Session

COLUMNS = "id, workshop_id, number, starts_at, ends_at, place, created_by, created_at, cancelled_at"


def from_row(row: Row) -> Session:
    return Session(
        id=row["id"],
        workshop_id=row["workshop_id"],
        number=row["number"],
        starts_at=from_required_text(row["starts_at"]),
        ends_at=from_text(row["ends_at"]),
        place=row["place"],
        created_by=row["created_by"],
        created_at=from_required_text(row["created_at"]),
        cancelled_at=from_text(row["cancelled_at"]),
    )


async def add(
    db: Database,
    *,
    workshop_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    place: str | None,
    created_by: int | None,
    now: datetime,
    source_update_id: int | None = None,
) -> Session:
    """Store a session, numbered after the workshop's last one (numbers never reused). The
    same `source_update_id` again (a redelivered /session) returns the session it added."""
    async with db.transaction() as conn:
        if source_update_id is not None:
            async with conn.execute(
                f"SELECT {COLUMNS} FROM sessions WHERE source_update_id = ?",
                (source_update_id,),
            ) as rows:
                existing = await rows.fetchone()
            if existing is not None:
                return from_row(existing)
        await conn.execute(
            "UPDATE workshops SET sessions_made = sessions_made + 1 WHERE id = ?", (workshop_id,)
        )
        cursor = await conn.execute(
            "INSERT INTO sessions (workshop_id, number, starts_at, ends_at, place, created_by,"
            " created_at, source_update_id) VALUES (?,"
            " (SELECT sessions_made FROM workshops WHERE id = ?), ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                workshop_id,
                workshop_id,
                to_text(starts_at),
                to_text(ends_at) if ends_at else None,
                place,
                created_by,
                to_text(now),
                source_update_id,
            ),
        )
        async with conn.execute(
            f"SELECT {COLUMNS} FROM sessions WHERE id = ?", (await inserted_id(cursor),)
        ) as rows:
            row = await rows.fetchone()
    assert row is not None
    return from_row(row)


async def get(db: Database, *, session_id: int) -> Session | None:
    async with (
        db.reading() as conn,
        conn.execute(f"SELECT {COLUMNS} FROM sessions WHERE id = ?", (session_id,)) as rows,
    ):
        row = await rows.fetchone()
    return from_row(row) if row else None


async def of_workshop(db: Database, *, workshop_id: int, cancelled: bool = False) -> list[Session]:
    """A workshop's sessions by time (with the cancelled ones if `cancelled`)."""
    where = "" if cancelled else " AND cancelled_at IS NULL"
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM sessions WHERE workshop_id = ?{where}"
            " ORDER BY starts_at, number",
            (workshop_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def cancel(db: Database, *, session_id: int, now: datetime) -> bool:
    """Cancel a session (once); its invitation and reminders stop with it."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE sessions SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL",
            (to_text(now), session_id),
        )
        if cursor.rowcount == 1:
            await conn.execute(
                "UPDATE mailings SET status = 'cancelled', finished_at = ?"
                " WHERE session_id = ? AND status IN ('scheduled', 'open')",
                (to_text(now), session_id),
            )
            await conn.execute(
                "UPDATE deliveries SET status = 'skipped', settled_at = ? WHERE status ="
                " 'pending' AND mailing_id IN (SELECT id FROM mailings WHERE session_id = ?)",
                (to_text(now), session_id),
            )
        return cursor.rowcount == 1
