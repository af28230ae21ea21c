"""Retention: a closed workshop's participants' data is erased once its retention period
is over, and only its overall figures are kept (the `erasures` table).

Erased: the participants (and with them, by foreign keys, their answers, votes, caucus
votes, deliveries and users' pointers to them), every statement and resolution of the
workshop, its mailings (the organisers' words and who they went to), its room controls
and its live screen's links. Kept: the workshop itself (title, territory, codes, phases'
dates), its sessions (dates and places), its organisers and facilitators, its audit, and
the figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flows.kinds import AuditAction
from storage import audit
from storage.connection import Connection, Row
from storage.db import Database, from_required_text, to_text


@dataclass(frozen=True)
class Figures:
    """What is left of a workshop after its retention period: counts, no one's data."""

    workshop_id: int
    erased_at: datetime
    participants: int  # who consented
    by_category: dict[str, int]  # consented participants per category ("" when none chosen)
    answers: int
    statements: int
    votes: int  # agora votes
    caucus_votes: int
    resolutions: int


_COLUMNS = (
    "workshop_id, erased_at, participants, by_category, answers, statements, votes,"
    " caucus_votes, resolutions"
)


def _from_row(row: Row) -> Figures:
    return Figures(
        workshop_id=row["workshop_id"],
        erased_at=from_required_text(row["erased_at"]),
        participants=row["participants"],
        by_category=json.loads(row["by_category"]),
        answers=row["answers"],
        statements=row["statements"],
        votes=row["votes"],
        caucus_votes=row["caucus_votes"],
        resolutions=row["resolutions"],
    )


async def expired(db: Database, *, closed_before: datetime) -> list[int]:
    """The workshops closed before `closed_before` whose data was not erased yet."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT id FROM workshops WHERE closed_at IS NOT NULL AND closed_at < ?"
            " AND id NOT IN (SELECT workshop_id FROM erasures) ORDER BY id",
            (to_text(closed_before),),
        ) as rows,
    ):
        return [row["id"] for row in await rows.fetchall()]


async def _one(conn: Connection, sql: str, workshop_id: int) -> int:
    async with conn.execute(sql, (workshop_id,)) as rows:
        row = await rows.fetchone()
    return int(row[0]) if row else 0


async def erase(
    db: Database, *, workshop_id: int, closed_before: datetime, now: datetime
) -> Figures | None:
    """Count, then erase the participants' data of a workshop closed before `closed_before`,
    with its `erased` audit entry, in one transaction. None (nothing changed) when it is
    not closed so long, or was erased already."""
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT 1 FROM workshops WHERE id = ? AND closed_at IS NOT NULL AND closed_at < ?"
            " AND id NOT IN (SELECT workshop_id FROM erasures)",
            (workshop_id, to_text(closed_before)),
        ) as rows:
            if await rows.fetchone() is None:
                return None
        async with conn.execute(
            "SELECT COALESCE(category, '') AS category, COUNT(*) AS n FROM participants"
            " WHERE workshop_id = ? AND consented_at IS NOT NULL GROUP BY category"
            " ORDER BY category",
            (workshop_id,),
        ) as rows:
            by_category = {row["category"]: row["n"] for row in await rows.fetchall()}
        of_participants = "SELECT id FROM participants WHERE workshop_id = ?"
        of_statements = "SELECT id FROM statements WHERE workshop_id = ?"
        figures = (
            workshop_id,
            to_text(now),
            sum(by_category.values()),
            json.dumps(by_category, sort_keys=True),
            await _one(
                conn,
                f"SELECT COUNT(*) FROM answers WHERE participant_id IN ({of_participants})",
                workshop_id,
            ),
            await _one(conn, "SELECT COUNT(*) FROM statements WHERE workshop_id = ?", workshop_id),
            await _one(
                conn,
                f"SELECT COUNT(*) FROM votes WHERE statement_id IN ({of_statements})",
                workshop_id,
            ),
            await _one(
                conn,
                f"SELECT COUNT(*) FROM caucus_votes WHERE statement_id IN ({of_statements})",
                workshop_id,
            ),
            await _one(conn, "SELECT COUNT(*) FROM resolutions WHERE workshop_id = ?", workshop_id),
        )
        await conn.execute(
            f"INSERT INTO erasures ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", figures
        )
        async with conn.execute(
            "SELECT DISTINCT user_id FROM participants WHERE workshop_id = ?", (workshop_id,)
        ) as rows:
            people = [row["user_id"] for row in await rows.fetchall()]
        # Participants first: their answers, votes, statements, deliveries and the users'
        # pointers to them go with them (foreign keys).
        await conn.execute("DELETE FROM participants WHERE workshop_id = ?", (workshop_id,))
        # Then what the bot kept of those people (language, time zone) when nothing else
        # ties them to it: no other participation, no role.
        await conn.executemany(
            "DELETE FROM users WHERE user_id = ?"
            " AND NOT EXISTS (SELECT 1 FROM participants WHERE user_id = users.user_id)"
            " AND NOT EXISTS (SELECT 1 FROM facilitators WHERE user_id = users.user_id)"
            " AND NOT EXISTS (SELECT 1 FROM organisers WHERE user_id = users.user_id)",
            [(user_id,) for user_id in people],
        )
        # The live screen's links go too: nothing is left to show (a page open on one
        # answers 404 at its next look).
        for table in ("statements", "resolutions", "mailings", "room_controls", "screen_links"):
            await conn.execute(f"DELETE FROM {table} WHERE workshop_id = ?", (workshop_id,))
        await conn.execute(
            "UPDATE workshops SET room_statement_id = NULL WHERE id = ?", (workshop_id,)
        )
        await audit.insert(
            conn, workshop_id=workshop_id, actor_id=None, action=AuditAction.ERASED, now=now
        )
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM erasures WHERE workshop_id = ?", (workshop_id,)
        ) as rows:
            row = await rows.fetchone()
    assert row is not None
    return _from_row(row)


async def figures(db: Database, *, workshop_id: int) -> Figures | None:
    """What is left of an erased workshop; None when its data is still there."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {_COLUMNS} FROM erasures WHERE workshop_id = ?", (workshop_id,)
        ) as rows,
    ):
        row = await rows.fetchone()
    return _from_row(row) if row else None
