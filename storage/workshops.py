"""Workshops and their facilitators."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from flows.kinds import AuditAction
from storage import audit, updates
from storage.connection import Row, inserted_id
from storage.db import (
    Database,
    differs,
    equals,
    from_required_text,
    from_text,
    qualified,
    to_text,
)
from storage.models import Workshop

COLUMNS = (
    "id, code, facilitator_code, title, journey_id, created_by, created_at, closed_at,"
    " peers_opened_at, agora_opened_at, agora_closed_at, review, caucus, caucus_keep,"
    " caucus_commitments, caucus_closed_at, agora_mode, room_statement_id, room_vote_closed,"
    " room_order, territory, timezone, decantation_seconds, export_key"
)


def from_row(row: Row) -> Workshop:
    return Workshop(
        id=row["id"],
        code=row["code"],
        facilitator_code=row["facilitator_code"],
        title=row["title"],
        journey_id=row["journey_id"],
        created_by=row["created_by"],
        created_at=from_required_text(row["created_at"]),
        closed_at=from_text(row["closed_at"]),
        peers_opened_at=from_text(row["peers_opened_at"]),
        agora_opened_at=from_text(row["agora_opened_at"]),
        agora_closed_at=from_text(row["agora_closed_at"]),
        review=bool(row["review"]),
        caucus=bool(row["caucus"]),
        caucus_keep=row["caucus_keep"],
        caucus_commitments=row["caucus_commitments"],
        caucus_closed_at=from_text(row["caucus_closed_at"]),
        agora_mode=row["agora_mode"],
        room_statement_id=row["room_statement_id"],
        room_vote_closed=bool(row["room_vote_closed"]),
        room_order=tuple(filter(None, (row["room_order"] or "").split(","))),
        territory=row["territory"],
        timezone=row["timezone"],
        decantation_seconds=row["decantation_seconds"],
        export_key=row["export_key"],
    )


async def create(
    db: Database,
    *,
    code: str,
    facilitator_code: str,
    title: str,
    journey_id: str,
    created_by: int,
    now: datetime,
    source_update_id: int | None = None,
) -> Workshop:
    """Store a new workshop; its creator facilitates it too. The same `source_update_id`
    again (a redelivered command) returns the workshop it created the first time."""
    async with db.transaction() as conn:
        if source_update_id is not None:
            async with conn.execute(
                f"SELECT {COLUMNS} FROM workshops WHERE source_update_id = ?",
                (source_update_id,),
            ) as rows:
                existing = await rows.fetchone()
            if existing is not None:
                return from_row(existing)
        cursor = await conn.execute(
            "INSERT INTO workshops (code, facilitator_code, title, journey_id, created_by,"
            " created_at, source_update_id, peers_opened_at, export_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                code,
                facilitator_code,
                title,
                journey_id,
                created_by,
                to_text(now),
                source_update_id,
                to_text(now),
                secrets.token_hex(16),
            ),
        )
        workshop_id = await inserted_id(cursor)
        await conn.execute(
            "INSERT INTO facilitators (workshop_id, user_id, added_at) VALUES (?, ?, ?)",
            (workshop_id, created_by, to_text(now)),
        )
        await conn.execute(
            "INSERT INTO organisers (workshop_id, user_id, added_at) VALUES (?, ?, ?)",
            (workshop_id, created_by, to_text(now)),
        )
        assert workshop_id is not None
        await audit.insert(
            conn, workshop_id=workshop_id, actor_id=created_by, action=AuditAction.CREATED, now=now
        )
        async with conn.execute(
            f"SELECT {COLUMNS} FROM workshops WHERE id = ?", (workshop_id,)
        ) as rows:
            row = await rows.fetchone()
    assert row is not None
    return from_row(row)


async def get(db: Database, *, workshop_id: int) -> Workshop | None:
    async with (
        db.reading() as conn,
        conn.execute(f"SELECT {COLUMNS} FROM workshops WHERE id = ?", (workshop_id,)) as rows,
    ):
        row = await rows.fetchone()
    return from_row(row) if row else None


async def find_by_code(db: Database, *, code: str) -> tuple[Workshop, bool] | None:
    """The workshop a join or facilitator code opens, and whether it is the facilitator code."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM workshops WHERE code = ? OR facilitator_code = ?",
            (code, code),
        ) as rows,
    ):
        row = await rows.fetchone()
    if row is None:
        return None
    workshop = from_row(row)
    return workshop, workshop.facilitator_code == code


async def add_facilitator(db: Database, *, workshop_id: int, user_id: int, now: datetime) -> bool:
    """Make `user_id` a facilitator; False if they already were."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO facilitators (workshop_id, user_id, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (workshop_id, user_id, to_text(now)),
        )
        return cursor.rowcount == 1


async def is_facilitator(db: Database, *, workshop_id: int, user_id: int) -> bool:
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT 1 FROM facilitators WHERE workshop_id = ? AND user_id = ?",
            (workshop_id, user_id),
        ) as rows,
    ):
        return await rows.fetchone() is not None


async def facilitated_by(db: Database, *, user_id: int) -> list[Workshop]:
    """The open workshops `user_id` facilitates, newest first."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {qualified(COLUMNS, 'w')}"
            " FROM workshops w JOIN facilitators f ON f.workshop_id = w.id"
            " WHERE f.user_id = ? AND w.closed_at IS NULL ORDER BY w.id DESC",
            (user_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def facilitators(db: Database, *, workshop_id: int) -> list[int]:
    """The user ids of the workshop's facilitators."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT user_id FROM facilitators WHERE workshop_id = ? ORDER BY added_at, user_id",
            (workshop_id,),
        ) as rows,
    ):
        return [row["user_id"] for row in await rows.fetchall()]


_PHASE_COLUMNS = ("peers_opened_at", "agora_opened_at", "agora_closed_at", "caucus_closed_at")


async def set_phase(
    db: Database, *, workshop_id: int, column: str, when: datetime | None, only_if_unset: bool
) -> bool:
    """Set (or clear, with `when=None`) one of the phase timestamps. With `only_if_unset` the
    change applies only if it was not set before, so that asking twice changes nothing.
    Returns whether the row changed."""
    if column not in _PHASE_COLUMNS:
        raise ValueError(f"not a phase column: {column}")
    condition = f" AND {column} IS NULL" if only_if_unset else ""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            f"UPDATE workshops SET {column} = ? WHERE id = ?{condition}",
            (to_text(when) if when else None, workshop_id),
        )
        return cursor.rowcount == 1


async def open_ids(db: Database) -> list[int]:
    """The ids of the workshops not closed."""
    async with (
        db.reading() as conn,
        conn.execute("SELECT id FROM workshops WHERE closed_at IS NULL ORDER BY id") as rows,
    ):
        return [row["id"] for row in await rows.fetchall()]


_SETTINGS = (
    "review",
    "caucus",
    "caucus_keep",
    "caucus_commitments",
    "agora_mode",
    "room_order",
    "territory",
    "timezone",
    "decantation_seconds",
)


async def configure(db: Database, *, workshop_id: int, **values: int | str | None) -> bool:
    """Change some of a workshop's settings (`review`, `caucus`, `caucus_keep`,
    `caucus_commitments`, `agora_mode`, `room_order`, `territory`, `timezone`,
    `decantation_seconds`). Returns whether anything changed."""
    unknown = set(values) - set(_SETTINGS)
    if unknown or not values:
        raise ValueError(f"not workshop settings: {sorted(unknown) or 'none'}")
    assignments = ", ".join(f"{column} = ?" for column in values)
    differences = [differs(column, value) for column, value in values.items()]
    async with db.transaction() as conn:
        cursor = await conn.execute(
            f"UPDATE workshops SET {assignments} WHERE id = ?"
            f" AND ({' OR '.join(sql for sql, _ in differences)})",
            (*values.values(), workshop_id, *(v for _, given in differences for v in given)),
        )
        return cursor.rowcount == 1


async def move_room(
    db: Database,
    *,
    workshop_id: int,
    statement_id: int | None,
    expected: int | None,
    vote_closed: bool = False,
) -> bool:
    """Put the room on `statement_id` (its vote open, unless `vote_closed`), only if it is on
    `expected` still: two facilitators pressing "next" at once move it once."""
    on_expected, given = equals("room_statement_id", expected)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE workshops SET room_statement_id = ?, room_vote_closed = ?"
            f" WHERE id = ? AND {on_expected}",
            (statement_id, int(vote_closed), workshop_id, *given),
        )
        return cursor.rowcount == 1


async def close_room_vote(db: Database, *, workshop_id: int, statement_id: int) -> bool:
    """Close the vote on the room's statement, if the room is still on it (once)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE workshops SET room_vote_closed = 1"
            " WHERE id = ? AND room_statement_id = ? AND room_vote_closed = 0",
            (workshop_id, statement_id),
        )
        return cursor.rowcount == 1


async def add_room_control(
    db: Database, *, workshop_id: int, chat_id: int, message_id: int
) -> None:
    """Remember a facilitator's room control message (one per facilitator: the latest)."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO room_controls (workshop_id, chat_id, message_id)"
            " VALUES (?, ?, ?) ON CONFLICT (workshop_id, chat_id)"
            " DO UPDATE SET message_id = excluded.message_id",
            (workshop_id, chat_id, message_id),
        )


async def room_controls(db: Database, *, workshop_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of each facilitator's room control message."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT chat_id, message_id FROM room_controls WHERE workshop_id = ?",
            (workshop_id,),
        ) as rows,
    ):
        return [(row["chat_id"], row["message_id"]) for row in await rows.fetchall()]


async def in_room_mode(db: Database) -> list[int]:
    """The open workshops whose agora is open and paced by the room."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT id FROM workshops WHERE closed_at IS NULL AND agora_mode = 'room'"
            " AND agora_opened_at IS NOT NULL AND agora_closed_at IS NULL ORDER BY id"
        ) as rows,
    ):
        return [row["id"] for row in await rows.fetchall()]


async def add_organiser(
    db: Database, *, workshop_id: int, user_id: int, added_by: int | None, now: datetime
) -> bool:
    """Make `user_id` an organiser of the workshop (a co-organiser); False if they were."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO organisers (workshop_id, user_id, added_by, added_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (workshop_id, user_id, added_by, to_text(now)),
        )
        return cursor.rowcount == 1


async def is_organiser(db: Database, *, workshop_id: int, user_id: int) -> bool:
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT 1 FROM organisers WHERE workshop_id = ? AND user_id = ?",
            (workshop_id, user_id),
        ) as rows,
    ):
        return await rows.fetchone() is not None


async def manages(db: Database, *, workshop_id: int, user_id: int) -> bool:
    """Whether the user organises or facilitates the workshop (reminders, broadcasts,
    the décantation are theirs to set)."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT 1 FROM organisers WHERE workshop_id = ? AND user_id = ?"
            " UNION SELECT 1 FROM facilitators WHERE workshop_id = ? AND user_id = ?",
            (workshop_id, user_id, workshop_id, user_id),
        ) as rows,
    ):
        return await rows.fetchone() is not None


async def organisers(db: Database, *, workshop_id: int) -> list[int]:
    """The user ids of the workshop's organisers, its creator first."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT user_id FROM organisers WHERE workshop_id = ? ORDER BY added_at, user_id",
            (workshop_id,),
        ) as rows,
    ):
        return [row["user_id"] for row in await rows.fetchall()]


async def organised_by(db: Database, *, user_id: int, closed: bool = True) -> list[Workshop]:
    """The workshops `user_id` organises (with the closed ones unless `closed` is False),
    newest first."""
    only_open = "" if closed else " AND w.closed_at IS NULL"
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {qualified(COLUMNS, 'w')}"
            " FROM workshops w JOIN organisers o ON o.workshop_id = w.id"
            f" WHERE o.user_id = ?{only_open} ORDER BY w.id DESC",
            (user_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def close(db: Database, *, workshop_id: int, now: datetime) -> bool:
    """Close a workshop (once): it takes no more answers, and nothing automatic is sent
    for it any more."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE workshops SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (to_text(now), workshop_id),
        )
        if cursor.rowcount != 1:
            return False
        # Its reminders, invitations and décantations stop with it (a broadcast already
        # confirmed goes on: its sender chose to send it).
        await conn.execute(
            "UPDATE mailings SET status = 'cancelled', finished_at = ? WHERE workshop_id = ?"
            " AND (status IN ('draft', 'scheduled') OR (status = 'open' AND automatic = 1))",
            (to_text(now), workshop_id),
        )
        await conn.execute(
            "UPDATE deliveries SET status = 'skipped', settled_at = ? WHERE status = 'pending'"
            " AND mailing_id IN (SELECT id FROM mailings WHERE workshop_id = ?"
            " AND status = 'cancelled')",
            (to_text(now), workshop_id),
        )
        return True


async def replace_facilitator_code(
    db: Database,
    *,
    workshop_id: int,
    expected: str,
    code: str,
    update_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Issue a new facilitator code in place of `expected` (the old link stops working);
    False if it was replaced meanwhile, or if `update_id` (the /revoke or the pressed
    button) was handled before: a redelivery or a double tap issues one code, not two.
    Facilitators who joined keep their role."""
    async with db.transaction() as conn:
        claimed = (
            update_id is None
            or now is None
            or await updates.claim(conn, update_id=update_id, now=now)
        )
        if not claimed:
            return False
        cursor = await conn.execute(
            "UPDATE workshops SET facilitator_code = ? WHERE id = ? AND facilitator_code = ?",
            (code, workshop_id, expected),
        )
        return cursor.rowcount == 1


async def counts(db: Database, *, workshop_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per workshop: (participants who consented, those who finished)."""
    if not workshop_ids:
        return {}
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT workshop_id, COUNT(*) AS joined, COUNT(finished_at) AS finished"
            " FROM participants WHERE consented_at IS NOT NULL"
            f" AND workshop_id IN ({', '.join('?' * len(workshop_ids))}) GROUP BY workshop_id",
            list(workshop_ids),
        ) as rows,
    ):
        found = await rows.fetchall()
    return {row["workshop_id"]: (row["joined"], row["finished"]) for row in found}
