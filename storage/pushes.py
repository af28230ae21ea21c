"""Syntheses pushed to facilitators: once per workshop and phase, and at a time asked for."""

from __future__ import annotations

from datetime import datetime

from storage import workshops
from storage.db import Database, from_text, to_text
from storage.models import Workshop


async def claim(db: Database, *, workshop_id: int, phase: str, now: datetime) -> bool:
    """Record that a phase's synthesis goes out; False if it went out before."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO pushes (workshop_id, phase, pushed_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (workshop_id, phase, to_text(now)),
        )
        return cursor.rowcount == 1


async def set_due(db: Database, *, workshop_id: int, when: datetime | None) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE workshops SET synthesis_due_at = ? WHERE id = ?",
            (to_text(when) if when else None, workshop_id),
        )


async def due(db: Database, *, now: datetime) -> list[tuple[Workshop, datetime]]:
    """Workshops whose asked-for synthesis time has come."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {workshops.COLUMNS}, synthesis_due_at FROM workshops"
            " WHERE synthesis_due_at IS NOT NULL AND synthesis_due_at <= ?",
            (to_text(now),),
        ) as rows,
    ):
        found = await rows.fetchall()
    result = []
    for row in found:
        when = from_text(row["synthesis_due_at"])
        assert when is not None
        result.append((workshops.from_row(row), when))
    return result


async def take_due(db: Database, *, workshop_id: int, when: datetime) -> bool:
    """Clear a due synthesis, once: False if another run took it first."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE workshops SET synthesis_due_at = NULL WHERE id = ? AND synthesis_due_at = ?",
            (workshop_id, to_text(when)),
        )
        return cursor.rowcount == 1
