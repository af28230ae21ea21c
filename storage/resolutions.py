"""Resolutions: what a workshop's room converged on, who carries it, and by when."""

from __future__ import annotations

from datetime import date, datetime

from storage.connection import Connection, Row, inserted_id
from storage.db import Database, from_required_text, to_text
from storage.models import Resolution

COLUMNS = (
    "id, workshop_id, number, statement_id, text, carrier_category, carrier_name, due_on,"
    " created_by, created_at, updated_at"
)
_FIELDS = ("text", "carrier_category", "carrier_name", "due_on")


def from_row(row: Row) -> Resolution:
    return Resolution(
        id=row["id"],
        workshop_id=row["workshop_id"],
        number=row["number"],
        statement_id=row["statement_id"],
        text=row["text"],
        carrier_category=row["carrier_category"],
        carrier_name=row["carrier_name"],
        due_on=date.fromisoformat(row["due_on"]) if row["due_on"] else None,
        created_by=row["created_by"],
        created_at=from_required_text(row["created_at"]),
        updated_at=from_required_text(row["updated_at"]),
    )


async def _fetch(conn: Connection, where: str, value: int) -> Resolution | None:
    async with conn.execute(
        f"SELECT {COLUMNS} FROM resolutions WHERE {where} = ?", (value,)
    ) as rows:
        row = await rows.fetchone()
    return from_row(row) if row else None


async def record(
    db: Database,
    *,
    workshop_id: int,
    statement_id: int,
    text: str,
    carrier_category: str | None,
    by: int,
    now: datetime,
) -> tuple[Resolution, bool]:
    """The resolution that comes from a statement: recorded the first time (numbered next in
    its workshop), found again after. Returns it and whether it is new."""
    async with db.transaction() as conn:
        found = await _fetch(conn, "statement_id", statement_id)
        if found is not None:
            return found, False
        await conn.execute(
            "UPDATE workshops SET resolutions_made = resolutions_made + 1 WHERE id = ?",
            (workshop_id,),
        )
        cursor = await conn.execute(
            "INSERT INTO resolutions (workshop_id, number, statement_id, text, carrier_category,"
            " created_by, created_at, updated_at)"
            " SELECT id, resolutions_made, ?, ?, ?, ?, ?, ? FROM workshops WHERE id = ?"
            " RETURNING id",
            (statement_id, text, carrier_category, by, to_text(now), to_text(now), workshop_id),
        )
        made = await _fetch(conn, "id", await inserted_id(cursor))
    assert made is not None
    return made, True


async def update(
    db: Database, *, resolution_id: int, now: datetime, **values: str | date | None
) -> Resolution | None:
    """Change a resolution's text, carrier (a category or a name: setting one clears the
    other) or due date."""
    unknown = set(values) - set(_FIELDS)
    if unknown or not values:
        raise ValueError(f"not resolution fields: {sorted(unknown) or 'none'}")
    if "carrier_category" in values and "carrier_name" not in values:
        values["carrier_name"] = None
    elif "carrier_name" in values and "carrier_category" not in values:
        values["carrier_category"] = None
    stored = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
    assignments = ", ".join(f"{column} = ?" for column in stored)
    async with db.transaction() as conn:
        await conn.execute(
            f"UPDATE resolutions SET {assignments}, updated_at = ? WHERE id = ?",
            (*stored.values(), to_text(now), resolution_id),
        )
        return await _fetch(conn, "id", resolution_id)


async def get(db: Database, *, resolution_id: int) -> Resolution | None:
    async with db.reading() as conn:
        return await _fetch(conn, "id", resolution_id)


async def of_workshop(db: Database, *, workshop_id: int) -> list[Resolution]:
    """A workshop's resolutions, by number."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM resolutions WHERE workshop_id = ? ORDER BY number",
            (workshop_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]
