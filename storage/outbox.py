"""The durable outbox: mailings (scheduled or mass messages) and their deliveries (one row
per recipient), written before anything is sent.

A delivery goes pending → sending (claimed, just before its call to Telegram) → sent,
unreachable, failed, skipped or expired (settled, just after). Only one process sends, so
a delivery found `sending` when the bot starts was in flight when it stopped: `recover`
puts it back to pending, marked `doubled`, since Telegram may have shown it already.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flows.kinds import DeliveryStatus, MailingKind, MailingStatus
from storage import participants
from storage.connection import Connection, Row, inserted_id
from storage.db import Database, from_required_text, from_text, qualified, to_text
from storage.models import Delivery, Mailing, Participant, Recipient

MAILING_COLUMNS = (
    "id, workshop_id, kind, target, text, session_id, offset_rule, due_at, expires_at,"
    " automatic, status, created_by, created_at, started_at, finished_at, report_chat_id,"
    " report_message_id, report_language"
)
DELIVERY_COLUMNS = (
    "id, mailing_id, user_id, participant_id, due_at, status, late, doubled, claimed_at,"
    " settled_at, message_id, attempts"
)
ONE_SHOT = tuple(kind.value for kind in MailingKind if kind.one_shot)


def mailing_from_row(row: Row) -> Mailing:
    return Mailing(
        id=row["id"],
        workshop_id=row["workshop_id"],
        kind=row["kind"],
        target=row["target"],
        text=row["text"],
        session_id=row["session_id"],
        offset_rule=row["offset_rule"],
        due_at=from_required_text(row["due_at"]),
        expires_at=from_text(row["expires_at"]),
        automatic=bool(row["automatic"]),
        status=row["status"],
        created_by=row["created_by"],
        created_at=from_required_text(row["created_at"]),
        started_at=from_text(row["started_at"]),
        finished_at=from_text(row["finished_at"]),
        report_chat_id=row["report_chat_id"],
        report_message_id=row["report_message_id"],
        report_language=row["report_language"],
    )


def delivery_from_row(row: Row) -> Delivery:
    return Delivery(
        id=row["id"],
        mailing_id=row["mailing_id"],
        user_id=row["user_id"],
        participant_id=row["participant_id"],
        due_at=from_required_text(row["due_at"]),
        status=row["status"],
        late=bool(row["late"]),
        doubled=bool(row["doubled"]),
        claimed_at=from_text(row["claimed_at"]),
        settled_at=from_text(row["settled_at"]),
        message_id=row["message_id"],
        attempts=row["attempts"],
    )


async def create(
    db: Database,
    *,
    workshop_id: int,
    kind: MailingKind,
    due_at: datetime,
    now: datetime,
    target: str = "all",
    text: str | None = None,
    session_id: int | None = None,
    offset_rule: str | None = None,
    expires_at: datetime | None = None,
    automatic: bool = True,
    status: MailingStatus = MailingStatus.SCHEDULED,
    created_by: int | None = None,
    report_chat_id: int | None = None,
    report_language: str | None = None,
    source_update_id: int | None = None,
) -> Mailing:
    """Store a mailing. The same `source_update_id` again (a redelivered command) returns
    the mailing it made the first time."""
    async with db.transaction() as conn:
        if source_update_id is not None:
            async with conn.execute(
                f"SELECT {MAILING_COLUMNS} FROM mailings WHERE source_update_id = ?",
                (source_update_id,),
            ) as rows:
                existing = await rows.fetchone()
            if existing is not None:
                return mailing_from_row(existing)
        cursor = await conn.execute(
            "INSERT INTO mailings (workshop_id, kind, target, text, session_id, offset_rule,"
            " due_at, expires_at, automatic, status, created_by, created_at, report_chat_id,"
            " report_language, source_update_id, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                workshop_id,
                kind.value,
                target,
                text,
                session_id,
                offset_rule,
                to_text(due_at),
                to_text(expires_at) if expires_at else None,
                int(automatic),
                status.value,
                created_by,
                to_text(now),
                report_chat_id,
                report_language,
                source_update_id,
                to_text(now) if status is MailingStatus.OPEN else None,
            ),
        )
        return await _mailing(conn, await inserted_id(cursor))


async def _mailing(conn: Connection, mailing_id: int | None) -> Mailing:
    async with conn.execute(
        f"SELECT {MAILING_COLUMNS} FROM mailings WHERE id = ?", (mailing_id,)
    ) as rows:
        row = await rows.fetchone()
    assert row is not None
    return mailing_from_row(row)


async def get(db: Database, *, mailing_id: int) -> Mailing | None:
    async with (
        db.reading() as conn,
        conn.execute(f"SELECT {MAILING_COLUMNS} FROM mailings WHERE id = ?", (mailing_id,)) as rows,
    ):
        row = await rows.fetchone()
    return mailing_from_row(row) if row else None


async def of_workshop(
    db: Database,
    *,
    workshop_id: int,
    kinds: Collection[MailingKind] = (),
    statuses: Collection[MailingStatus] = (),
) -> list[Mailing]:
    """A workshop's mailings (of these kinds and statuses, if given), by due time."""
    where, params = ["workshop_id = ?"], [workshop_id]
    if kinds:
        where.append(f"kind IN ({', '.join('?' * len(kinds))})")
        params += [kind.value for kind in kinds]  # type: ignore[misc]
    if statuses:
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        params += [status.value for status in statuses]  # type: ignore[misc]
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {MAILING_COLUMNS} FROM mailings WHERE {' AND '.join(where)}"
            " ORDER BY due_at, id",
            params,
        ) as rows,
    ):
        return [mailing_from_row(row) for row in await rows.fetchall()]


async def standing(db: Database, *, session_id: int | None = None) -> list[Mailing]:
    """The open mailings that take new recipients as they come (invitations, session
    reminders, décantations) in open workshops; those of one session if given."""
    kinds = [kind.value for kind in MailingKind if not kind.one_shot]
    where = "" if session_id is None else " AND m.session_id = ?"
    params: list[object] = [*kinds, *([] if session_id is None else [session_id])]
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {qualified(MAILING_COLUMNS, 'm')} FROM mailings m"
            " JOIN workshops w ON w.id = m.workshop_id"
            f" WHERE m.status = 'open' AND w.closed_at IS NULL"
            f" AND m.kind IN ({', '.join('?' * len(kinds))}){where} ORDER BY m.id",
            params,
        ) as rows,
    ):
        return [mailing_from_row(row) for row in await rows.fetchall()]


async def change_status(
    db: Database,
    *,
    mailing_id: int,
    to: MailingStatus,
    expected: Collection[MailingStatus],
    now: datetime,
    due_at: datetime | None = None,
) -> bool:
    """Move a mailing to `to` if it is in one of the `expected` statuses (once: a double
    tap on "send" or "cancel" changes it once). Cancelling also skips its pending
    deliveries; `due_at` moves its time (a draft confirmed now)."""
    states = [status.value for status in expected]
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE mailings SET status = ?, due_at = COALESCE(?, due_at),"
            " finished_at = CASE WHEN ? IN ('done', 'cancelled') THEN ? ELSE finished_at END"
            f" WHERE id = ? AND status IN ({', '.join('?' * len(states))})",
            (
                to.value,
                to_text(due_at) if due_at else None,
                to.value,
                to_text(now),
                mailing_id,
                *states,
            ),
        )
        changed = cursor.rowcount == 1
        if changed and to is MailingStatus.CANCELLED:
            await conn.execute(
                "UPDATE deliveries SET status = 'skipped', settled_at = ?"
                " WHERE mailing_id = ? AND status = 'pending'",
                (to_text(now), mailing_id),
            )
        return changed


async def due_to_open(db: Database, *, now: datetime) -> list[Mailing]:
    """The scheduled one-shot mailings whose time has come: their recipients are to be
    chosen now (`open_with`)."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {MAILING_COLUMNS} FROM mailings WHERE status = 'scheduled' AND due_at <= ?"
            " ORDER BY due_at, id",
            (to_text(now),),
        ) as rows,
    ):
        return [mailing_from_row(row) for row in await rows.fetchall()]


@dataclass(frozen=True)
class NewDelivery:
    user_id: int
    participant_id: int | None
    due_at: datetime
    late: bool = False
    skip: bool = False  # recorded as skipped: not for them (joined after its time)


async def open_with(
    db: Database,
    *,
    mailing_id: int,
    recipients: Sequence[NewDelivery],
    now: datetime,
    expected: Collection[MailingStatus] = (MailingStatus.SCHEDULED,),
) -> bool:
    """Open a mailing with its recipients, in one transaction: False (and nothing added) if
    it was not in an `expected` status any more (opened by another run, or cancelled)."""
    states = [status.value for status in expected]
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE mailings SET status = 'open', started_at = COALESCE(started_at, ?)"
            f" WHERE id = ? AND status IN ({', '.join('?' * len(states))})",
            (to_text(now), mailing_id, *states),
        )
        if cursor.rowcount != 1:
            return False
        await _insert(conn, mailing_id, recipients)
        return True


async def add(db: Database, *, mailing_id: int, recipients: Sequence[NewDelivery]) -> int:
    """Add recipients to an open mailing (a standing one's newcomers); one already there
    is kept as it is. Returns how many were added."""
    async with db.transaction() as conn:
        return await _insert(conn, mailing_id, recipients)


async def _insert(conn: Connection, mailing_id: int, recipients: Sequence[NewDelivery]) -> int:
    return await conn.insert_many(
        "deliveries (mailing_id, user_id, participant_id, due_at, late, status)",
        [
            (
                mailing_id,
                r.user_id,
                r.participant_id,
                to_text(r.due_at),
                int(r.late),
                "skipped" if r.skip else "pending",
            )
            for r in recipients
        ],
        then="ON CONFLICT DO NOTHING",
    )


async def reschedule(db: Database, *, moves: Sequence[tuple[int, datetime]]) -> None:
    """Move pending deliveries to new times: (delivery id, due at)."""
    async with db.transaction() as conn:
        await conn.executemany(
            "UPDATE deliveries SET due_at = ? WHERE id = ? AND status = 'pending'",
            [(to_text(when), delivery_id) for delivery_id, when in moves],
        )


async def deliveries(
    db: Database, *, mailing_id: int, statuses: Collection[DeliveryStatus] = ()
) -> list[Delivery]:
    where = ""
    params: list[object] = [mailing_id]
    if statuses:
        where = f" AND status IN ({', '.join('?' * len(statuses))})"
        params += [status.value for status in statuses]
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE mailing_id = ?{where} ORDER BY id",
            params,
        ) as rows,
    ):
        return [delivery_from_row(row) for row in await rows.fetchall()]


# Which participants a standing mailing takes, besides having consented.
_STANDING_CONDITIONS = {
    "consented": "",
    "finished": " AND p.finished_at IS NOT NULL",
    "unsettled": " AND p.decantation_sent_at IS NOT NULL AND p.settled_at IS NULL",
}


async def missing_recipients(
    db: Database, *, mailing_id: int, workshop_id: int, having: str = "consented"
) -> list[Recipient]:
    """The workshop's consented participants who have no delivery in this mailing yet:
    all (`consented`), those who finished their journey (`finished`), or those sent the
    décantation who have not answered it (`unsettled`)."""
    return await _recipients(
        db,
        "p.workshop_id = ? AND p.consented_at IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.mailing_id = ?"
        f" AND d.user_id = p.user_id){_STANDING_CONDITIONS[having]}",
        (workshop_id, mailing_id),
    )


async def workshops_lacking(db: Database, *, kind: MailingKind) -> list[int]:
    """The open workshops that have no mailing of this kind (a standing one to create)."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT id FROM workshops w WHERE closed_at IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM mailings m WHERE m.workshop_id = w.id AND m.kind = ?) ORDER BY id",
            (kind.value,),
        ) as rows,
    ):
        return [row["id"] for row in await rows.fetchall()]


async def decantations_to_move(db: Database, *, held_from: datetime) -> list[int]:
    """The workshops with a décantation still to come that does not fit their agora: due
    (before `held_from`) while the agora is open, or held (from `held_from` on) once it
    has closed. A delivery made again (revived) or added while the agora moved is caught
    here at the next sweep."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT DISTINCT w.id FROM deliveries d JOIN mailings m ON m.id = d.mailing_id"
            " JOIN workshops w ON w.id = m.workshop_id WHERE m.kind = ? AND d.status = 'pending'"
            " AND ((w.agora_opened_at IS NOT NULL AND w.agora_closed_at IS NULL AND d.due_at < ?)"
            " OR (w.agora_closed_at IS NOT NULL AND d.due_at >= ?)) ORDER BY w.id",
            (MailingKind.DECANTATION.value, to_text(held_from), to_text(held_from)),
        ) as rows,
    ):
        return [row["id"] for row in await rows.fetchall()]


async def recipients(
    db: Database,
    *,
    workshop_id: int,
    states: Collection[str] | None = None,
    excluding: bool = False,
) -> list[Recipient]:
    """The workshop's consented participants: all, or those whose state is among `states`
    (with `excluding`: not among them)."""
    where, params = "p.workshop_id = ? AND p.consented_at IS NOT NULL", [workshop_id]
    if states is not None:
        listed = ", ".join("?" * len(states)) or "NULL"
        where += f" AND p.state {'NOT IN' if excluding else 'IN'} ({listed})"
        params += list(states)  # type: ignore[arg-type]
    return await _recipients(db, where, params)


async def recipients_by_id(db: Database, *, participant_ids: Collection[int]) -> list[Recipient]:
    listed = ", ".join("?" * len(participant_ids)) or "NULL"
    return await _recipients(
        db, f"p.id IN ({listed}) AND p.consented_at IS NOT NULL", list(participant_ids)
    )


async def _recipients(db: Database, where: str, params: Sequence[object]) -> list[Recipient]:
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT p.id, p.user_id, p.language, p.state, p.category, p.finished_at,"
            " p.paused_at, p.decantation_sent_at, u.timezone, u.unreachable_at"
            " FROM participants p LEFT JOIN users u ON u.user_id = p.user_id"
            f" WHERE {where} ORDER BY p.id",
            params,
        ) as rows,
    ):
        return [
            Recipient(
                participant_id=row["id"],
                user_id=row["user_id"],
                language=row["language"],
                timezone=row["timezone"],
                state=row["state"],
                category=row["category"],
                finished_at=from_text(row["finished_at"]),
                paused=row["paused_at"] is not None,
                unreachable=row["unreachable_at"] is not None,
                decantation_sent_at=from_text(row["decantation_sent_at"]),
            )
            for row in await rows.fetchall()
        ]


@dataclass(frozen=True)
class DueWorkshop:
    """A workshop with deliveries due, and whether any of them waits out quiet hours."""

    workshop_id: int
    timezone: str | None
    automatic: bool


async def due_workshops(db: Database, *, now: datetime) -> list[DueWorkshop]:
    """The workshops that have pending deliveries due now (to decide their quiet hours)."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT DISTINCT m.workshop_id, w.timezone, m.automatic FROM deliveries d"
            " JOIN mailings m ON m.id = d.mailing_id JOIN workshops w ON w.id = m.workshop_id"
            " WHERE d.status = 'pending' AND d.due_at <= ? AND m.status = 'open'",
            (to_text(now),),
        ) as rows,
    ):
        return [
            DueWorkshop(row["workshop_id"], row["timezone"], bool(row["automatic"]))
            for row in await rows.fetchall()
        ]


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for sending, with its mailing and its participant as they are."""

    delivery: Delivery
    mailing: Mailing
    participant: Participant | None
    paused: bool = False
    unreachable: bool = False


async def claim(
    db: Database,
    *,
    now: datetime,
    limit: int,
    held: Collection[int] = (),
    late_after: float = 120.0,
    worker: str | None = None,
) -> list[Claimed]:
    """Claim up to `limit` due deliveries (oldest first) for `worker`, marking them
    `sending` in one transaction before anything is sent. Automatic mailings of the `held`
    workshops (in their quiet hours) wait. Deliveries of expired mailings are settled
    `expired` on the way. A delivery claimed more than `late_after` seconds after its time
    is marked late."""
    stamp = to_text(now)
    held_list = ", ".join("?" * len(held)) or "NULL"
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE deliveries SET status = 'expired', settled_at = ? WHERE status = 'pending'"
            " AND due_at <= ? AND mailing_id IN (SELECT id FROM mailings WHERE status = 'open'"
            " AND expires_at IS NOT NULL AND expires_at <= ?)",
            (stamp, stamp, stamp),
        )
        async with conn.execute(
            f"SELECT {qualified(DELIVERY_COLUMNS, 'd')} FROM deliveries d"
            " JOIN mailings m ON m.id = d.mailing_id"
            " WHERE d.status = 'pending' AND d.due_at <= ? AND m.status = 'open'"
            # IN (NULL) is NULL, not false: without COALESCE no automatic mailing would go.
            f" AND NOT COALESCE(m.automatic = 1 AND m.workshop_id IN ({held_list}), FALSE)"
            " ORDER BY d.due_at, d.id LIMIT ?",
            (stamp, *held, limit),
        ) as rows:
            found = [delivery_from_row(row) for row in await rows.fetchall()]
        if not found:
            return []
        ids = [d.id for d in found]
        listed = ", ".join("?" * len(ids))
        await conn.execute(
            f"UPDATE deliveries SET status = 'sending', claimed_at = ?, claimed_by = ?,"
            " late = CASE WHEN late = 1 OR due_at < ? THEN 1 ELSE 0"
            f" END WHERE id IN ({listed})",
            (stamp, worker, to_text(now - timedelta(seconds=late_after)), *ids),
        )
        async with conn.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id IN ({listed}) ORDER BY due_at, id",
            ids,
        ) as rows:
            claimed = [delivery_from_row(row) for row in await rows.fetchall()]
        mailing_ids = sorted({d.mailing_id for d in claimed})
        async with conn.execute(
            f"SELECT {MAILING_COLUMNS} FROM mailings"
            f" WHERE id IN ({', '.join('?' * len(mailing_ids))})",
            mailing_ids,
        ) as rows:
            mailings = {row["id"]: mailing_from_row(row) for row in await rows.fetchall()}
        participant_ids = sorted({d.participant_id for d in claimed if d.participant_id})
        people: dict[int, Participant] = {}
        flags: dict[int, tuple[bool, bool]] = {}
        if participant_ids:
            async with conn.execute(
                f"SELECT {qualified(participants.COLUMNS, 'p')}, u.unreachable_at"
                " FROM participants p LEFT JOIN users u ON u.user_id = p.user_id"
                f" WHERE p.id IN ({', '.join('?' * len(participant_ids))})",
                participant_ids,
            ) as rows:
                for row in await rows.fetchall():
                    person = participants.from_row(row)
                    people[person.id] = person
                    away = row["unreachable_at"] is not None
                    flags[person.id] = (person.paused_at is not None, away)
    result = []
    for delivery in claimed:
        owner = people.get(delivery.participant_id) if delivery.participant_id else None
        paused, unreachable = flags.get(owner.id, (False, False)) if owner else (False, False)
        result.append(Claimed(delivery, mailings[delivery.mailing_id], owner, paused, unreachable))
    return result


async def settle(
    db: Database,
    *,
    delivery_id: int,
    status: DeliveryStatus,
    now: datetime,
    message_id: int | None = None,
    user_id: int | None = None,
) -> bool:
    """Record how a claimed delivery went (once). UNREACHABLE also marks the user as
    unreachable (`user_id`), so that nothing automatic is tried again until they come
    back."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE deliveries SET status = ?, settled_at = ?, message_id = ?"
            " WHERE id = ? AND status = 'sending'",
            (status.value, to_text(now), message_id, delivery_id),
        )
        settled = cursor.rowcount == 1
        if settled and status is DeliveryStatus.UNREACHABLE and user_id is not None:
            await conn.execute(
                "INSERT INTO users (user_id, unreachable_at, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET unreachable_at = excluded.unreachable_at",
                (user_id, to_text(now), to_text(now)),
            )
        elif settled and status is DeliveryStatus.SENT and user_id is not None:
            await conn.execute(  # it reached them: they are back
                "UPDATE users SET unreachable_at = NULL WHERE user_id = ?"
                " AND unreachable_at IS NOT NULL",
                (user_id,),
            )
        return settled


async def postpone(
    db: Database, *, delivery_id: int, due_at: datetime, maybe_shown: bool, limit: int
) -> bool:
    """A claimed delivery the network or Telegram's flood control kept from going: pending
    again at `due_at`, its attempts counted (`maybe_shown`: the call timed out, so it may
    have been shown; it then counts as possibly doubled). False, and nothing changed,
    after `limit` attempts: then it is settled failed by the caller."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE deliveries SET status = 'pending', due_at = ?, claimed_at = NULL,"
            " attempts = attempts + 1, doubled = CASE WHEN ? = 1 THEN 1 ELSE doubled END"
            " WHERE id = ? AND status = 'sending' AND attempts < ?",
            (to_text(due_at), int(maybe_shown), delivery_id, limit),
        )
        return cursor.rowcount == 1


async def recover(db: Database, *, worker: str, now: datetime, lease: timedelta) -> int:
    """The deliveries claimed by a worker that is gone were in flight when it stopped:
    back to pending, marked doubled (Telegram may have shown them). Gone: not seen within
    `lease`; on a database no other process shares (a SQLite file), any worker but
    `worker`, at once. A live worker's claims are its own. Returns how many."""
    cutoff = to_text(now - (lease if db.shared else timedelta(0)))
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE deliveries SET status = 'pending', doubled = 1, claimed_at = NULL,"
            " claimed_by = NULL WHERE status = 'sending'"
            " AND (claimed_by IS NULL OR (claimed_by <> ? AND claimed_by NOT IN"
            " (SELECT id FROM workers WHERE seen_at >= ?)))",
            (worker, cutoff),
        )
        return cursor.rowcount


async def workers_alive(db: Database, *, now: datetime, lease: timedelta) -> int:
    """How many workers were seen within `lease` (at least 1: the one asking)."""
    if not db.shared:
        return 1
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT COUNT(*) AS alive FROM workers WHERE seen_at >= ?",
            (to_text(now - lease),),
        ) as rows,
    ):
        found = await rows.fetchone()
    return max(1, int(found["alive"])) if found is not None else 1


async def worker_left(db: Database, *, worker: str) -> None:
    """`worker` stopped: it no longer counts among those alive, and what it left in flight
    goes to the others at once."""
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM workers WHERE id = ?", (worker,))


async def worker_seen(db: Database, *, worker: str, now: datetime, forget: timedelta) -> None:
    """`worker` is alive now (it claims deliveries); workers not seen for `forget` are
    forgotten."""
    stamp = to_text(now)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO workers (id, started_at, seen_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (worker, stamp, stamp),
        )
        conn.defer("DELETE FROM workers WHERE seen_at < ?", (to_text(now - forget),))


async def finish(db: Database, *, now: datetime) -> list[Mailing]:
    """Close the open one-shot mailings that have nothing left to send, and return every
    mailing whose final report is due: done (or cancelled after it began), nothing in
    flight, a sender to tell, not reported yet. A report is due until `reported` is
    recorded, so that a crash between the two sends it at the next start."""
    kinds = ", ".join("?" * len(ONE_SHOT))
    idle = (
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.mailing_id = m.id"
        " AND d.status IN ('pending', 'sending'))"
    )
    async with db.transaction() as conn:
        # Put back (a crash, the network) after its mailing was cancelled: not to be sent.
        await conn.execute(
            "UPDATE deliveries SET status = 'skipped', settled_at = ? WHERE status = 'pending'"
            " AND mailing_id IN (SELECT id FROM mailings WHERE status = 'cancelled')",
            (to_text(now),),
        )
        await conn.execute(
            f"UPDATE mailings SET status = 'done', finished_at = ? WHERE id IN (SELECT m.id"
            f" FROM mailings m WHERE m.status = 'open' AND m.kind IN ({kinds}){idle})",
            (to_text(now), *ONE_SHOT),
        )
        async with conn.execute(
            f"SELECT {MAILING_COLUMNS} FROM mailings m WHERE m.status IN ('done', 'cancelled')"
            " AND m.started_at IS NOT NULL AND m.report_chat_id IS NOT NULL"
            f" AND m.reported_at IS NULL{idle} ORDER BY m.id",
        ) as rows:
            return [mailing_from_row(row) for row in await rows.fetchall()]


async def reported(db: Database, *, mailing_id: int, now: datetime) -> None:
    """The final report of a mailing went to its sender."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mailings SET reported_at = ? WHERE id = ?", (to_text(now), mailing_id)
        )


async def revive(
    db: Database, *, user_id: int | None = None, participant_id: int | None = None
) -> int:
    """Someone who was skipped while paused or unreachable is back (resumed, unblocked):
    their skipped or unreachable deliveries of the standing mailings still open go again
    (those whose moment passed expire on the way). Returns how many."""
    # Not the décantation's reminder: whoever comes back is shown where they are anyway.
    standing = [
        kind.value
        for kind in MailingKind
        if not kind.one_shot and kind is not MailingKind.DECANTATION_REMINDER
    ]
    who, value = (
        ("participant_id", participant_id) if participant_id is not None else ("user_id", user_id)
    )
    async with db.transaction() as conn:
        cursor = await conn.execute(
            f"UPDATE deliveries SET status = 'pending', settled_at = NULL WHERE {who} = ?"
            " AND status IN ('skipped', 'unreachable') AND mailing_id IN (SELECT id FROM"
            f" mailings WHERE status = 'open' AND kind IN ({', '.join('?' * len(standing))}))",
            (value, *standing),
        )
        return cursor.rowcount


@dataclass
class Counts:
    """How a mailing's deliveries stand, by status; `doubled` and `late` among them."""

    by_status: dict[str, int] = field(default_factory=dict)
    doubled: int = 0
    late: int = 0

    def __getitem__(self, status: DeliveryStatus) -> int:
        return self.by_status.get(status.value, 0)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


async def counts(db: Database, *, mailing_id: int) -> Counts:
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT status, COUNT(*) AS n, SUM(doubled) AS doubled, SUM(late) AS late"
            " FROM deliveries WHERE mailing_id = ? GROUP BY status",
            (mailing_id,),
        ) as rows,
    ):
        found = await rows.fetchall()
    result = Counts()
    for row in found:
        result.by_status[row["status"]] = row["n"]
        if row["status"] == DeliveryStatus.SENT.value:
            result.doubled += row["doubled"] or 0
        result.late += row["late"] or 0
    return result


async def set_report_message(db: Database, *, mailing_id: int, message_id: int) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE mailings SET report_message_id = ? WHERE id = ?", (message_id, mailing_id)
        )


async def mark_reachable(db: Database, *, user_id: int, reachable: bool, now: datetime) -> None:
    """A user blocked the bot (False) or came back (True)."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, unreachable_at, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET unreachable_at = excluded.unreachable_at,"
            " updated_at = excluded.updated_at",
            (user_id, None if reachable else to_text(now), to_text(now)),
        )


async def set_target(
    db: Database, *, mailing_id: int, target: str, expected: Collection[MailingStatus]
) -> bool:
    """Change whom a mailing is for, while it is in one of the `expected` statuses (a
    reminder's preview: its recipients are not chosen yet)."""
    states = [status.value for status in expected]
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE mailings SET target = ?"
            f" WHERE id = ? AND status IN ({', '.join('?' * len(states))})",
            (target, mailing_id, *states),
        )
        return cursor.rowcount == 1
