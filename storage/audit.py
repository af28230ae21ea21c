"""The audit: who did what to which workshop, with a short detail and never what a
participant wrote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.kinds import AuditAction
from storage.connection import Connection
from storage.db import Database, from_required_text, to_text


@dataclass(frozen=True)
class AuditEntry:
    id: int
    workshop_id: int
    actor_id: int | None  # the organiser or facilitator; None: the bot, or an erased account
    action: str  # AuditAction
    detail: str  # a statement's number, a phase's mode, a count; "" when nothing
    at: datetime


async def insert(
    conn: Connection,
    *,
    workshop_id: int,
    actor_id: int | None,
    action: AuditAction,
    now: datetime,
    detail: str = "",
    update_id: int | None = None,
) -> bool:
    """Record an action inside the caller's transaction; False if the same update recorded
    it before (a redelivery)."""
    cursor = await conn.execute(
        "INSERT INTO audit (workshop_id, actor_id, action, detail, at,"
        " source_update_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (workshop_id, actor_id, action.value, detail, to_text(now), update_id),
    )
    return cursor.rowcount == 1


async def record(
    db: Database,
    *,
    workshop_id: int,
    actor_id: int | None,
    action: AuditAction,
    now: datetime,
    detail: str = "",
    update_id: int | None = None,
) -> bool:
    """Record an action just done, in a transaction of its own."""
    async with db.transaction() as conn:
        return await insert(
            conn,
            workshop_id=workshop_id,
            actor_id=actor_id,
            action=action,
            now=now,
            detail=detail,
            update_id=update_id,
        )


async def latest(db: Database, *, workshop_id: int, limit: int) -> list[AuditEntry]:
    """The workshop's `limit` latest entries, newest first."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT id, workshop_id, actor_id, action, detail, at FROM audit"
            " WHERE workshop_id = ? ORDER BY id DESC LIMIT ?",
            (workshop_id, limit),
        ) as rows,
    ):
        found = await rows.fetchall()
    return [
        AuditEntry(
            id=row["id"],
            workshop_id=row["workshop_id"],
            actor_id=row["actor_id"],
            action=row["action"],
            detail=row["detail"],
            at=from_required_text(row["at"]),
        )
        for row in found
    ]


async def count(db: Database, *, workshop_id: int) -> int:
    async with (
        db.reading() as conn,
        conn.execute("SELECT COUNT(*) FROM audit WHERE workshop_id = ?", (workshop_id,)) as rows,
    ):
        row = await rows.fetchone()
    return int(row[0]) if row else 0


async def forget_updates(db: Database, *, before: datetime) -> None:
    """Forget which update recorded entries older than `before`: Telegram reuses update
    ids after a quiet week, and a new action must not pass for a redelivery."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE audit SET source_update_id = NULL"
            " WHERE source_update_id IS NOT NULL AND at < ?",
            (to_text(before),),
        )
