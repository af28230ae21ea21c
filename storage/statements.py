"""Statements put to the agora (phase 2 requests and commitments, agora proposals), their
moderation, and the messages that carry them to facilitators."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flows.kinds import StatementKind, StatementStatus
from storage import updates
from storage.connection import Connection, Row, inserted_id
from storage.db import Database, from_required_text, from_text, qualified, to_text
from storage.models import Statement

COLUMNS = (
    "id, workshop_id, number, participant_id, kind, source_category, target_category,"
    " question_id, text, status, created_at, decided_at, decided_by, in_agora_at, merged_into,"
    " written"
)


def from_row(row: Row) -> Statement:
    return Statement(
        id=row["id"],
        workshop_id=row["workshop_id"],
        number=row["number"],
        participant_id=row["participant_id"],
        kind=row["kind"],
        source_category=row["source_category"],
        target_category=row["target_category"],
        question_id=row["question_id"],
        text=row["text"],
        status=row["status"],
        created_at=from_required_text(row["created_at"]),
        decided_at=from_text(row["decided_at"]),
        decided_by=row["decided_by"],
        in_agora_at=from_text(row["in_agora_at"]),
        merged_into=row["merged_into"],
        written=row["written"],
    )


@dataclass(frozen=True)
class NewStatement:
    """A statement to store, inside the transaction of the step or proposal that makes it."""

    kind: str
    text: str  # as everyone reads it
    target_category: str | None = None
    question_id: str | None = None
    status: str = StatementStatus.APPROVED
    in_agora: bool = False  # put to everyone at once (approved, needing no group's choice)
    written: str | None = None  # the author's own words, when masking changed `text`


async def insert(
    conn: Connection,
    *,
    participant_id: int,
    new: NewStatement,
    now: datetime,
) -> Statement:
    """Store a statement of a participant (numbered next in their workshop, never reusing
    a number) in the caller's transaction; its source category is the participant's."""
    await conn.execute(
        "UPDATE workshops SET statements_made = statements_made + 1"
        " WHERE id = (SELECT workshop_id FROM participants WHERE id = ?)",
        (participant_id,),
    )
    cursor = await conn.execute(
        "INSERT INTO statements (workshop_id, number, participant_id, kind, source_category,"
        " target_category, question_id, text, written, status, created_at)"
        " SELECT p.workshop_id, w.statements_made,"
        " p.id, ?, p.category, ?, ?, ?, ?, ?, ? FROM participants p"
        " JOIN workshops w ON w.id = p.workshop_id WHERE p.id = ? RETURNING id",
        (
            new.kind,
            new.target_category,
            new.question_id,
            new.text,
            new.written,
            new.status,
            to_text(now),
            participant_id,
        ),
    )
    statement = await _fetch(conn, await inserted_id(cursor))
    assert statement is not None
    if new.in_agora and await enter(conn, statement.id, now):
        statement = await _fetch(conn, statement.id)
        assert statement is not None
    if statement.kind in (StatementKind.REQUEST, StatementKind.COMMITMENT):
        # Writing counts as agreeing: the author's vote in their group's caucus.
        await conn.execute(
            "INSERT INTO caucus_votes (statement_id, participant_id, value, voted_at)"
            " VALUES (?, ?, 'agree', ?) ON CONFLICT DO NOTHING",
            (statement.id, participant_id, to_text(now)),
        )
    return statement


async def _fetch(conn: Connection, statement_id: int) -> Statement | None:
    async with conn.execute(
        f"SELECT {COLUMNS} FROM statements WHERE id = ?", (statement_id,)
    ) as rows:
        row = await rows.fetchone()
    return from_row(row) if row else None


async def get(db: Database, *, statement_id: int) -> Statement | None:
    async with db.reading() as conn:
        return await _fetch(conn, statement_id)


async def by_number(db: Database, *, workshop_id: int, number: int) -> Statement | None:
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM statements WHERE workshop_id = ? AND number = ?",
            (workshop_id, number),
        ) as rows,
    ):
        row = await rows.fetchone()
    return from_row(row) if row else None


async def of_step(db: Database, *, participant_id: int, question_id: str) -> list[Statement]:
    """The statements a participant made at one phase 2 question, in order."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM statements WHERE participant_id = ? AND question_id = ?"
            " ORDER BY id",
            (participant_id, question_id),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def of_participant(db: Database, *, participant_id: int) -> list[Statement]:
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM statements WHERE participant_id = ? ORDER BY id",
            (participant_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def of_workshop(
    db: Database, *, workshop_id: int, statuses: tuple[str, ...] = (StatementStatus.APPROVED,)
) -> list[Statement]:
    marks = ", ".join("?" for _ in statuses)
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM statements WHERE workshop_id = ? AND status IN ({marks})"
            " ORDER BY number",
            (workshop_id, *statuses),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def tally(db: Database, *, workshop_id: int) -> tuple[Counter[str], int]:
    """How many statements of the workshop are in each status, and how many votes they have."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT status, COUNT(*), SUM(vote_count) FROM statements WHERE workshop_id = ?"
            " GROUP BY status",
            (workshop_id,),
        ) as rows,
    ):
        found = await rows.fetchall()
    counts = Counter({row[0]: row[1] for row in found})
    votes = sum(row[2] or 0 for row in found if row[0] == StatementStatus.APPROVED)
    return counts, votes


@dataclass(frozen=True)
class Candidate:
    """A statement a participant may be offered: just what choosing among them needs."""

    id: int
    number: int
    vote_count: int


async def unvoted(db: Database, *, workshop_id: int, participant_id: int) -> list[Candidate]:
    """The approved statements of the workshop that the participant neither wrote nor voted
    on, with the number of votes each has so far."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT s.id, s.number, s.vote_count FROM statements s"
            " WHERE s.workshop_id = ? AND s.status = 'approved' AND s.in_agora_at IS NOT NULL"
            " AND (s.participant_id IS NULL OR s.participant_id <> ?)"
            " AND NOT EXISTS (SELECT 1 FROM votes v"
            "   WHERE v.statement_id = s.id AND v.participant_id = ?)"
            " ORDER BY s.number",  # ties broken the same way on either engine
            (workshop_id, participant_id, participant_id),
        ) as rows,
    ):
        return [Candidate(row[0], row[1], row[2]) for row in await rows.fetchall()]


async def decide(
    db: Database,
    *,
    statement_id: int,
    status: str,
    by: int,
    now: datetime,
    from_status: str,
    enter_agora: bool = False,
) -> tuple[bool, Statement | None]:
    """Move a statement from `from_status` to `status` (approve, reject, withdraw), and with
    `enter_agora` put an approved one to everyone in the same transaction. Returns whether
    it changed (False if someone decided first) and the statement as stored."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE statements SET status = ?, decided_at = ?, decided_by = ?"
            " WHERE id = ? AND status = ?",
            (status, to_text(now), by, statement_id, from_status),
        )
        changed = cursor.rowcount == 1
        if changed and enter_agora:
            await enter(conn, statement_id, now)
        return changed, await _fetch(conn, statement_id)


async def add_moderation_message(
    db: Database, *, statement_id: int, chat_id: int, message_id: int
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO moderation_messages (statement_id, chat_id, message_id)"
            " VALUES (?, ?, ?) ON CONFLICT (statement_id, chat_id)"
            " DO UPDATE SET message_id = excluded.message_id",
            (statement_id, chat_id, message_id),
        )


async def moderation_messages(db: Database, *, statement_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of each facilitator's message about the statement."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT chat_id, message_id FROM moderation_messages WHERE statement_id = ?",
            (statement_id,),
        ) as rows,
    ):
        return [(row["chat_id"], row["message_id"]) for row in await rows.fetchall()]


async def propose(
    db: Database,
    *,
    update_id: int | None,
    participant_id: int,
    text: str,
    now: datetime,
    reviewed: bool = True,
    written: str | None = None,
) -> Statement | None:
    """A participant's new statement during the agora: waiting for review, or (`reviewed`
    False) put to everyone at once; once per update (None if handled before). `text` is
    what everyone reads, `written` the author's words when they differ."""
    async with db.transaction() as conn:
        if update_id is not None and not await updates.claim(conn, update_id=update_id, now=now):
            return None
        return await insert(
            conn,
            participant_id=participant_id,
            new=NewStatement(
                kind=StatementKind.PROPOSAL,
                text=text,
                status=StatementStatus.PENDING if reviewed else StatementStatus.APPROVED,
                in_agora=not reviewed,
                written=written,
            ),
            now=now,
        )


async def in_agora(db: Database, *, workshop_id: int) -> list[Statement]:
    """The statements put to everyone now (approved, entered the agora), by number."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM statements WHERE workshop_id = ? AND status = 'approved'"
            " AND in_agora_at IS NOT NULL ORDER BY number",
            (workshop_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def authors(db: Database, *, statement_id: int) -> list[int]:
    """The participants who wrote a statement: its author and the authors of the statements
    merged into it (at any depth)."""
    async with (
        db.reading() as conn,
        conn.execute(
            "WITH RECURSIVE family(id) AS (SELECT CAST(? AS BIGINT) UNION"
            " SELECT s.id FROM statements s JOIN family f ON s.merged_into = f.id)"
            " SELECT DISTINCT s.participant_id FROM statements s JOIN family f ON f.id = s.id"
            " WHERE s.participant_id IS NOT NULL ORDER BY s.participant_id",
            (statement_id,),
        ) as rows,
    ):
        return [row[0] for row in await rows.fetchall()]


async def enter(conn: Connection, statement_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE statements SET in_agora_at = ? WHERE id = ? AND status = 'approved'"
        " AND in_agora_at IS NULL",
        (to_text(now), statement_id),
    )
    if cursor.rowcount != 1:
        return False
    # Writing a statement counts as agreeing with it (as Pol.is does): its authors' votes.
    await conn.execute(
        "WITH RECURSIVE family(id) AS (SELECT CAST(? AS BIGINT) UNION"
        " SELECT s.id FROM statements s JOIN family f ON s.merged_into = f.id)"
        " INSERT INTO votes (statement_id, participant_id, value, voted_at)"
        " SELECT DISTINCT CAST(? AS BIGINT), s.participant_id, 'agree', ? FROM statements s"
        " JOIN family f ON f.id = s.id WHERE s.participant_id IS NOT NULL"
        " ON CONFLICT DO NOTHING",
        (statement_id, statement_id, to_text(now)),
    )
    return True


async def enter_agora(db: Database, *, statement_ids: list[int], now: datetime) -> list[int]:
    """Put approved statements to everyone, in one transaction, each with its authors'
    agreement stored as their vote. Returns the ids that entered now (not before)."""
    entered = []
    async with db.transaction() as conn:
        for statement_id in statement_ids:
            if await enter(conn, statement_id, now):
                entered.append(statement_id)
    return entered


async def merge(
    db: Database, *, statement_id: int, into_id: int, by: int, now: datetime
) -> tuple[bool, Statement | None]:
    """Fold a statement waiting for review (or approved, not yet put to everyone) into
    another of the same workshop: its caucus and agora votes count for the one kept (a
    voter's own vote on the kept one wins), and its author becomes one of the kept one's
    authors. Returns whether it changed and the kept statement as stored."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE statements SET status = 'merged', merged_into = ?, decided_at = ?,"
            " decided_by = ? WHERE id = ? AND id != ? AND status IN ('pending', 'approved')"
            " AND in_agora_at IS NULL AND workshop_id ="
            " (SELECT workshop_id FROM statements WHERE id = ?"
            "  AND status IN ('pending', 'approved'))",
            (into_id, to_text(now), by, statement_id, into_id, into_id),
        )
        if cursor.rowcount != 1:
            return False, await _fetch(conn, into_id)
        for table in ("caucus_votes", "votes"):
            await conn.execute(
                f"INSERT INTO {table} (statement_id, participant_id, value, voted_at)"
                f" SELECT ?, participant_id, value, voted_at FROM {table}"
                " WHERE statement_id = ? ON CONFLICT DO NOTHING",
                (into_id, statement_id),
            )
        await conn.execute(
            "INSERT INTO caucus_votes (statement_id, participant_id, value, voted_at)"
            " SELECT ?, participant_id, 'agree', ? FROM statements"
            " WHERE id = ? AND participant_id IS NOT NULL ON CONFLICT DO NOTHING",
            (into_id, to_text(now), statement_id),
        )
        kept = await _fetch(conn, into_id)
        if kept is not None and kept.in_agora_at is not None:
            await conn.execute(
                "INSERT INTO votes (statement_id, participant_id, value, voted_at)"
                " SELECT ?, participant_id, 'agree', ? FROM statements"
                " WHERE id = ? AND participant_id IS NOT NULL ON CONFLICT DO NOTHING",
                (into_id, to_text(now), statement_id),
            )
        return True, kept


async def unqueued(db: Database) -> list[Statement]:
    """Statements waiting for review that no facilitator has been shown yet, oldest first."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM statements s WHERE status = 'pending'"
            " AND NOT EXISTS (SELECT 1 FROM moderation_messages m WHERE m.statement_id = s.id)"
            " ORDER BY workshop_id, number",
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def on_message(db: Database, *, chat_id: int, message_id: int) -> list[Statement]:
    """The statements a facilitator's review message is about (a batch), by number."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {qualified(COLUMNS, 's')} FROM statements s JOIN moderation_messages m"
            " ON m.statement_id = s.id WHERE m.chat_id = ? AND m.message_id = ?"
            " ORDER BY s.number",
            (chat_id, message_id),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]
