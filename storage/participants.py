"""Participants: membership of a workshop, category, language and position in the journey."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from storage import answers, statements, updates, workshops
from storage.connection import Connection, Row
from storage.db import Database, from_required_text, from_text, qualified, to_text
from storage.models import Participant, Workshop

COLUMNS = (
    "id, workshop_id, user_id, category, language, state, joined_at, consented_at,"
    " finished_at, paused_at, prompt_message_id, offer_statement_id, offer_message_id,"
    " caucus_statement_id, caucus_message_id, decantation_sent_at, settled_at, shown_state"
)


def from_row(row: Row) -> Participant:
    return Participant(
        id=row["id"],
        workshop_id=row["workshop_id"],
        user_id=row["user_id"],
        category=row["category"],
        language=row["language"],
        state=row["state"],
        joined_at=from_required_text(row["joined_at"]),
        consented_at=from_text(row["consented_at"]),
        finished_at=from_text(row["finished_at"]),
        paused_at=from_text(row["paused_at"]),
        prompt_message_id=row["prompt_message_id"],
        offer_statement_id=row["offer_statement_id"],
        offer_message_id=row["offer_message_id"],
        caucus_statement_id=row["caucus_statement_id"],
        caucus_message_id=row["caucus_message_id"],
        decantation_sent_at=from_text(row["decantation_sent_at"]),
        settled_at=from_text(row["settled_at"]),
        shown_state=row["shown_state"],
    )


async def _fetch(conn: Connection, participant_id: int) -> Participant | None:
    async with conn.execute(
        f"SELECT {COLUMNS} FROM participants WHERE id = ?", (participant_id,)
    ) as rows:
        row = await rows.fetchone()
    return from_row(row) if row else None


async def join(
    db: Database,
    *,
    workshop_id: int,
    user_id: int,
    language: str,
    initial_state: str,
    now: datetime,
) -> tuple[Participant, bool]:
    """Make the user a participant (or find them one already) and their current workshop.

    Returns the participant and whether they were new.
    """
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO participants (workshop_id, user_id, language, state, joined_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (workshop_id, user_id, language, initial_state, to_text(now)),
        )
        created = cursor.rowcount == 1
        async with conn.execute(
            f"SELECT {COLUMNS} FROM participants WHERE workshop_id = ? AND user_id = ?",
            (workshop_id, user_id),
        ) as rows:
            row = await rows.fetchone()
        assert row is not None
        participant = from_row(row)
        await conn.execute(
            "INSERT INTO users (user_id, current_participant_id, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET"
            " current_participant_id = excluded.current_participant_id,"
            " updated_at = excluded.updated_at",
            (user_id, participant.id, to_text(now)),
        )
    return participant, created


async def of_user(db: Database, *, user_id: int) -> list[Participant]:
    """Every participation of a user, oldest first (for their own data export)."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM participants WHERE user_id = ? ORDER BY id", (user_id,)
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def get(db: Database, *, participant_id: int) -> Participant | None:
    async with db.reading() as conn:
        return await _fetch(conn, participant_id)


async def current(db: Database, *, user_id: int) -> Participant | None:
    """The participation the user is in now (the workshop they joined last)."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {qualified(COLUMNS, 'p')}"
            " FROM participants p JOIN users u ON u.current_participant_id = p.id"
            " WHERE u.user_id = ?",
            (user_id,),
        ) as rows,
    ):
        row = await rows.fetchone()
    return from_row(row) if row else None


_CURRENT = "SELECT current_participant_id FROM users WHERE user_id = ?"


@dataclass(frozen=True)
class Standing:
    """Where a user stands as an update arrives: their current participation, its
    workshop, and whether the update was handled before."""

    participant: Participant | None
    workshop: Workshop | None
    handled: bool


async def standing(db: Database, *, user_id: int, update_id: int | None) -> Standing:
    """`current`, the workshop and the update ledger's word, read in one hop."""
    async with db.reading() as conn:
        found, workshop, handled = await conn.each(
            [
                (f"SELECT {COLUMNS} FROM participants WHERE id = ({_CURRENT})", (user_id,)),
                (
                    f"SELECT {workshops.COLUMNS} FROM workshops"
                    f" WHERE id = (SELECT workshop_id FROM participants WHERE id = ({_CURRENT}))",
                    (user_id,),
                ),
                ("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)),
            ]
        )
    participant, place = await found.fetchone(), await workshop.fetchone()
    return Standing(
        from_row(participant) if participant else None,
        workshops.from_row(place) if place else None,
        update_id is not None and await handled.fetchone() is not None,
    )


class StepWrite(Enum):
    """What became of a step written with `record_step`."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the update was handled before: nothing changed
    STALE = "stale"  # the participant had moved on: nothing changed


@dataclass(frozen=True)
class StepChange:
    """One move of a participant through the journey, written atomically."""

    expected_state: str
    new_state: str
    answer: tuple[str, str] | None = None  # (question_id, value); an empty value clears it
    shown: str | None = None  # the answer's value as others read it, when masking changed it
    statement: statements.NewStatement | None = None
    category: str | None = None
    language: str | None = None
    consented: bool = False
    finished: bool = False


# A participant answering the décantation: it was sent to them (which takes them from the
# end to its first prompt) and they have not come back to the end. They finished the
# workshop, and stay finished while they answer it; coming back to the end settles them.
_SETTLING = "(decantation_sent_at IS NOT NULL AND settled_at IS NULL)"


class _LostRace(Exception):
    """Raised inside the transaction to roll back the update's claim with the rest."""


class _Duplicate(Exception):
    """Raised inside the transaction to roll back the move of an update handled before."""


async def record_step(
    db: Database,
    *,
    participant_id: int,
    update_id: int | None,
    change: StepChange,
    now: datetime,
) -> tuple[StepWrite, Participant | None]:
    """Write a move and its answer in one transaction, once per update, and only from the
    state it was computed for. Returns the outcome and the participant as stored after it.
    Within the décantation `finished_at` is kept; the move back to the end records
    `settled_at` (once)."""
    stamp = to_text(now)
    # The move first (returning the row), then the update's claim, in one hop: a claim
    # refused (the update was handled before) rolls the move back with it.
    move = (
        "UPDATE participants SET state = ?,"
        " category = COALESCE(?, category),"
        " language = COALESCE(?, language),"
        " consented_at = CASE WHEN ? THEN COALESCE(consented_at, ?) ELSE consented_at END,"
        " finished_at = CASE WHEN ? THEN COALESCE(finished_at, ?)"
        f" WHEN {_SETTLING} THEN finished_at ELSE NULL END,"
        " settled_at = CASE WHEN ? AND decantation_sent_at IS NOT NULL"
        " THEN COALESCE(settled_at, ?) ELSE settled_at END,"
        " paused_at = NULL"
        f" WHERE id = ? AND state = ? RETURNING {COLUMNS}",
        (
            change.new_state,
            change.category,
            change.language,
            change.consented,
            stamp,
            change.finished,
            stamp,
            change.finished,
            stamp,
            participant_id,
            change.expected_state,
        ),
    )
    claim = [] if update_id is None else [(updates.CLAIM, updates.claim_parameters(update_id, now))]
    try:
        async with db.transaction() as conn:
            moved, *claimed = await conn.each([move, *claim])
            if claimed and claimed[0].rowcount != 1:
                raise _Duplicate
            row = await moved.fetchone()
            if row is None:
                raise _LostRace
            # Nothing below is read back: it goes with the COMMIT's hop.
            if change.language is not None:  # the chosen language becomes the user's too
                conn.defer(
                    "INSERT INTO users (user_id, language, updated_at)"
                    " SELECT user_id, ?, ? FROM participants WHERE id = ?"
                    " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
                    " updated_at = excluded.updated_at",
                    (change.language, stamp, participant_id),
                )
            if change.category is not None:  # their statements speak for their category
                conn.defer(
                    "UPDATE statements SET source_category = ? WHERE participant_id = ?",
                    (change.category, participant_id),
                )
            if change.answer is not None:
                question_id, value = change.answer
                await answers.save(
                    conn,
                    participant_id=participant_id,
                    question_id=question_id,
                    value=value,
                    now=now,
                    shown=change.shown,
                )
            if change.statement is not None:
                await statements.insert(
                    conn, participant_id=participant_id, new=change.statement, now=now
                )
        return StepWrite.APPLIED, from_row(row)
    except _Duplicate:
        return StepWrite.DUPLICATE, await get(db, participant_id=participant_id)
    except _LostRace:
        return StepWrite.STALE, await get(db, participant_id=participant_id)


async def tell_masking(db: Database, *, participant_id: int, now: datetime) -> bool:
    """Record that the participant was told that quotes are anonymised: True the first
    time only, so that they are told once."""
    changed = await db.write(
        "UPDATE participants SET masking_told_at = ? WHERE id = ? AND masking_told_at IS NULL",
        (to_text(now), participant_id),
    )
    return changed == 1


async def set_prompt_message(
    db: Database, *, participant_id: int, message_id: int | None, shown_state: str
) -> None:
    """Remember which message carries the participant's live buttons, and which step it
    shows (one statement: nothing else to keep atomic with it)."""
    await db.write(
        "UPDATE participants SET prompt_message_id = ?, shown_state = ? WHERE id = ?",
        (message_id, shown_state, participant_id),
    )


async def set_offer(
    db: Database, *, participant_id: int, statement_id: int | None, message_id: int | None
) -> None:
    """Remember the agora statement offered to the participant now, and its message."""
    await db.write(
        "UPDATE participants SET offer_statement_id = ?, offer_message_id = ? WHERE id = ?",
        (statement_id, message_id, participant_id),
    )


async def set_offers(db: Database, *, offers: Sequence[tuple[int, int | None, int | None]]) -> None:
    """`set_offer` for many participants in one transaction: (participant id, statement
    id, message id) each (a room's phones, once edited)."""
    if not offers:
        return
    async with db.transaction() as conn:
        await conn.executemany(
            "UPDATE participants SET offer_statement_id = ?, offer_message_id = ? WHERE id = ?",
            [(statement_id, message_id, pid) for pid, statement_id, message_id in offers],
        )


async def set_caucus_offer(
    db: Database, *, participant_id: int, statement_id: int | None, message_id: int | None
) -> None:
    """Remember the group's statement offered to the participant in the caucus now, and the
    one message that shows it."""
    await db.write(
        "UPDATE participants SET caucus_statement_id = ?, caucus_message_id = ? WHERE id = ?",
        (statement_id, message_id, participant_id),
    )


async def release_waiting(
    db: Database, *, workshop_id: int, targets: dict[str, str]
) -> list[Participant]:
    """Move the participants waiting for phase 2 to their first question (`targets` maps a
    category to it), in one transaction. Returns them as moved."""
    released: list[Participant] = []
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT id, category FROM participants WHERE workshop_id = ? AND state = 'peers_wait'",
            (workshop_id,),
        ) as rows:
            waiting = [(row["id"], row["category"]) for row in await rows.fetchall()]
        for participant_id, category in waiting:
            target = targets.get(category)
            if target is None:
                continue
            await conn.execute(
                "UPDATE participants SET state = ?, paused_at = NULL"
                " WHERE id = ? AND state = 'peers_wait'",
                (target, participant_id),
            )
            moved = await _fetch(conn, participant_id)
            if moved is not None:
                released.append(moved)
    return released


async def of_workshop(db: Database, *, workshop_id: int) -> list[Participant]:
    """Every participant of a workshop who gave consent, in the order they joined."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {COLUMNS} FROM participants"
            " WHERE workshop_id = ? AND consented_at IS NOT NULL ORDER BY id",
            (workshop_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def set_paused(db: Database, *, participant_id: int, paused: bool, now: datetime) -> None:
    await db.write(
        "UPDATE participants SET paused_at = ? WHERE id = ?",
        (to_text(now) if paused else None, participant_id),
    )


async def leave(db: Database, *, participant_id: int) -> None:
    """Remove a participant and everything they answered (declined consent, erasure)."""
    await db.write("DELETE FROM participants WHERE id = ?", (participant_id,))


async def states_by_category(
    db: Database, *, workshop_id: int
) -> list[tuple[str | None, str, int]]:
    """How many participants of the workshop stand at each state, per category."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT category, state, COUNT(*) AS n FROM participants WHERE workshop_id = ?"
            " GROUP BY category, state ORDER BY category, state",
            (workshop_id,),
        ) as rows,
    ):
        return [(row["category"], row["state"], row["n"]) for row in await rows.fetchall()]


async def start_decantation(
    db: Database, *, participant_id: int, first_state: str, done_state: str, now: datetime
) -> Participant | None:
    """Move a participant at the end of the journey to the décantation's first prompt and
    record when it was sent, once: None if it was sent before, or they are not at the end
    (answering again, or erased)."""
    async with db.transaction() as conn:
        moved = await conn.execute(
            "UPDATE participants SET state = ?, decantation_sent_at = ?"
            " WHERE id = ? AND state = ? AND decantation_sent_at IS NULL AND settled_at IS NULL"
            f" AND finished_at IS NOT NULL RETURNING {COLUMNS}",
            (first_state, to_text(now), participant_id, done_state),
        )
        row = await moved.fetchone()
    return from_row(row) if row else None


async def move_states(db: Database, *, moves: Mapping[str, str]) -> int:
    """Move every participant standing at one of `moves`' states to its new state (the
    journey's retired prompts, at start), in one transaction; returns how many moved."""
    async with db.transaction() as conn:
        moved = await conn.executemany(
            "UPDATE participants SET state = ? WHERE state = ?",
            [(new, old) for old, new in moves.items()],
        )
        return moved.rowcount
