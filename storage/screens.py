"""The live screen's secret links: one workshop's page for the room, behind a token.

A link is live until revoked; revoking makes its address answer 404. A workshop has at
most one live link at a time: issuing a new one revokes the others in the same
transaction, so two facilitators asking at once never leave two addresses open.

A Mini App's tickets are kept here too, not in the memory of the worker that issued them:
behind a load balancer the event stream a ticket opens may reach another worker. Taking
one deletes it in the statement that finds it, so it opens one stream, on one worker, and
an expired one opens none; the expired ones are pruned as new ones are issued.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.kinds import AuditAction
from storage import audit
from storage.connection import Connection, Row, inserted_id
from storage.db import Database, from_required_text, from_text, to_text
from storage.models import ScreenLink

COLUMNS = "id, workshop_id, token, language, created_by, created_at, revoked_at"


def from_row(row: Row) -> ScreenLink:
    return ScreenLink(
        id=row["id"],
        workshop_id=row["workshop_id"],
        token=row["token"],
        language=row["language"],
        created_by=row["created_by"],
        created_at=from_required_text(row["created_at"]),
        revoked_at=from_text(row["revoked_at"]),
    )


async def issue(
    db: Database,
    *,
    workshop_id: int,
    token: str,
    language: str,
    by: int,
    now: datetime,
    replacing: int | None = None,
) -> tuple[ScreenLink | None, bool]:
    """The workshop's live link, and whether it was issued now (the audit records that in
    the same transaction).

    Without `replacing` (/screen): the live link if there is one, else a new one; two
    facilitators asking at once get the same. With it (the "new link" button under that
    link): a new link only while `replacing` is still the live one, which is revoked; else
    (None, False): the button was under an old address, and the one in use stays."""
    async with db.transaction() as conn:
        if replacing is None:
            live = await _live(conn, workshop_id)
            if live is not None:
                return live, False
        else:
            cursor = await conn.execute(
                "UPDATE screen_links SET revoked_at = ?"
                " WHERE id = ? AND workshop_id = ? AND revoked_at IS NULL",
                (to_text(now), replacing, workshop_id),
            )
            if not cursor.rowcount:
                return None, False
        cursor = await conn.execute(
            "INSERT INTO screen_links (workshop_id, token, language, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (workshop_id, token, language, by, to_text(now)),
        )
        link_id = await inserted_id(cursor)
        await audit.insert(
            conn, workshop_id=workshop_id, actor_id=by, action=AuditAction.SCREEN_LINK, now=now
        )
        async with conn.execute(
            f"SELECT {COLUMNS} FROM screen_links WHERE id = ?", (link_id,)
        ) as rows:
            row = await rows.fetchone()
    assert row is not None
    return from_row(row), True


async def _live(conn: Connection, workshop_id: int) -> ScreenLink | None:
    async with conn.execute(
        f"SELECT {COLUMNS} FROM screen_links WHERE workshop_id = ? AND revoked_at IS NULL"
        " ORDER BY id DESC LIMIT 1",
        (workshop_id,),
    ) as rows:
        row = await rows.fetchone()
    return from_row(row) if row else None


async def revoke(db: Database, *, link_id: int, by: int, now: datetime) -> bool:
    """Revoke a link, if it is live (the audit records it in the same transaction);
    whether it was."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE screen_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
            " RETURNING workshop_id",
            (to_text(now), link_id),
        )
        revoked = await cursor.fetchone()
        if revoked is None:
            return False
        await audit.insert(
            conn,
            workshop_id=revoked["workshop_id"],
            actor_id=by,
            action=AuditAction.SCREEN_REVOKED,
            now=now,
        )
        return True


async def get(db: Database, *, link_id: int) -> ScreenLink | None:
    async with (
        db.reading() as conn,
        conn.execute(f"SELECT {COLUMNS} FROM screen_links WHERE id = ?", (link_id,)) as rows,
    ):
        row = await rows.fetchone()
    return from_row(row) if row else None


async def by_token(db: Database, *, token: str) -> ScreenLink | None:
    """The live link with this token (None: unknown or revoked, which look alike)."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM screen_links WHERE token = ? AND revoked_at IS NULL",
            (token,),
        ) as rows,
    ):
        row = await rows.fetchone()
    return from_row(row) if row else None


async def live_tokens(db: Database, *, workshop_ids: list[int]) -> set[str]:
    """The tokens still live among these workshops' links (the screens open on a revoked
    one are closed)."""
    if not workshop_ids:
        return set()
    marks = ", ".join("?" for _ in workshop_ids)
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT token FROM screen_links WHERE workshop_id IN ({marks}) AND revoked_at IS NULL",
            tuple(workshop_ids),
        ) as rows,
    ):
        return {row["token"] for row in await rows.fetchall()}


async def summary_inputs(db: Database, *, workshop_id: int) -> tuple[object, ...]:
    """What says whether the agora's summary may have changed, besides the counts of
    votes and statements: the last vote changed, the resolutions and their last edit."""
    async with db.reading() as conn:
        async with conn.execute(
            "SELECT MAX(COALESCE(v.changed_at, v.voted_at)) AS last FROM votes v"
            " JOIN statements s ON s.id = v.statement_id WHERE s.workshop_id = ?",
            (workshop_id,),
        ) as rows:
            voted = await rows.fetchone()
        async with conn.execute(
            "SELECT COUNT(*) AS n, MAX(updated_at) AS last FROM resolutions WHERE workshop_id = ?",
            (workshop_id,),
        ) as rows:
            resolved = await rows.fetchone()
    assert voted is not None and resolved is not None
    return voted["last"], resolved["n"], resolved["last"]


async def issue_ticket(
    db: Database, *, ticket: str, workshop_id: int, language: str, now: datetime, life: timedelta
) -> None:
    """Keep a Mini App's ticket for `life`, pruning the expired ones in the same
    transaction (a page that never used its ticket leaves nothing behind for long)."""
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM screen_tickets WHERE expires_at <= ?", (to_text(now),))
        await conn.execute(
            "INSERT INTO screen_tickets (ticket, workshop_id, language, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (ticket, workshop_id, language, to_text(now + life)),
        )


async def take_ticket(db: Database, *, ticket: str, workshop_id: int, now: datetime) -> str | None:
    """The language of the page a ticket opens, the ticket used up; None for an unknown,
    used, expired or other workshop's one. One statement finds it and deletes it: two
    workers given the same ticket at once open one stream between them."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM screen_tickets WHERE ticket = ? AND workshop_id = ? AND expires_at > ?"
            " RETURNING language",
            (ticket, workshop_id, to_text(now)),
        )
        row = await cursor.fetchone()
    return str(row["language"]) if row else None
