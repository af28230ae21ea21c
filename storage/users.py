"""Per-user preferences: language, and the workshop the user is taking part in now."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, to_text


async def language(db: Database, *, user_id: int) -> str | None:
    """The language the user chose with /language, if any."""
    async with (
        db.reading() as conn,
        conn.execute("SELECT language FROM users WHERE user_id = ?", (user_id,)) as rows,
    ):
        row = await rows.fetchone()
    return row["language"] if row else None


async def set_language(db: Database, *, user_id: int, language: str, now: datetime) -> None:
    """Remember the user's language, and apply it to the workshop they are in now."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, language, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
            " updated_at = excluded.updated_at",
            (user_id, language, to_text(now)),
        )
        await conn.execute(
            "UPDATE participants SET language = ? WHERE id ="
            " (SELECT current_participant_id FROM users WHERE user_id = ?)",
            (language, user_id),
        )


async def erase(db: Database, *, user_id: int) -> int:
    """Erase everything stored about a user: participations (with their answers),
    facilitator roles, preferences, and their id in the audit. Returns how many
    participations went."""
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM participants WHERE user_id = ?", (user_id,))
        erased = cursor.rowcount
        await conn.execute("DELETE FROM facilitators WHERE user_id = ?", (user_id,))
        await conn.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
        # What they did as a facilitator stays in the audit, without their id.
        await conn.execute("UPDATE audit SET actor_id = NULL WHERE actor_id = ?", (user_id,))
        return erased


async def awaiting(db: Database, *, user_id: int) -> str | None:
    """What the user's next typed message answers, when a facilitator prompt asked for one
    (for instance a resolution's reformulation), or None."""
    async with (
        db.reading() as conn,
        conn.execute("SELECT awaiting FROM users WHERE user_id = ?", (user_id,)) as rows,
    ):
        row = await rows.fetchone()
    return row["awaiting"] if row else None


async def set_awaiting(db: Database, *, user_id: int, awaiting: str | None, now: datetime) -> None:
    """Remember (or forget, with None) what the user's next typed message answers."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, awaiting, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET awaiting = excluded.awaiting,"
            " updated_at = excluded.updated_at",
            (user_id, awaiting, to_text(now)),
        )


async def timezone(db: Database, *, user_id: int) -> str | None:
    """The IANA time zone the user chose with /timezone, if any."""
    async with (
        db.reading() as conn,
        conn.execute("SELECT timezone FROM users WHERE user_id = ?", (user_id,)) as rows,
    ):
        row = await rows.fetchone()
    return row["timezone"] if row else None


async def set_timezone(db: Database, *, user_id: int, timezone: str, now: datetime) -> None:
    """Remember the user's own time zone: their reminders and the dates shown to them
    follow it."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, timezone, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone,"
            " updated_at = excluded.updated_at",
            (user_id, timezone, to_text(now)),
        )
