"""The outbox's storage and rules, on a real SQLite file: claiming, recovering after a crash,
quiet hours, expiry, who is skipped, finishing once; and the sender's pace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.broadcast import participant_ids, seed
from bot.outbox import Pace
from flows.engine import JourneyEngine
from flows.journey_file import default_journey
from flows.kinds import DeliveryStatus, MailingKind, MailingStatus
from flows.outbox import (
    RETRY_DELAYS,
    OutboxService,
    QuietHours,
    SessionRule,
    decantation_reminder_gap,
    session_due,
)
from storage import outbox
from storage.db import Database, to_text
from storage.models import Mailing
from storage.outbox import NewDelivery
from tests import stored

PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # 12:00 in Paris
NIGHT = datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 23:30 in Paris
PEOPLE = participant_ids(4)
LEASE = timedelta(seconds=60)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "outbox.sqlite3"
    await (await Database.open(path)).close()
    seed(path, len(PEOPLE), organiser=1)
    database = await Database.open(path)
    yield database
    await database.close()


@pytest.fixture
async def shared_db(server_database: str) -> AsyncIterator[Database]:
    """The same, on a PostgreSQL database several workers may share."""
    await (await Database.open(server_database)).close()
    seed(server_database, len(PEOPLE), organiser=1, connect=stored.connect)
    stored.settle_identities(server_database)
    database = await Database.open(server_database)
    yield database
    await database.close()


def service(db: Database, now: datetime) -> OutboxService:
    return OutboxService(db, JourneyEngine(default_journey()), zone=PARIS, clock=lambda: now)


async def mailing(
    db: Database,
    kind: MailingKind,
    now: datetime,
    *,
    people: list[int] = PEOPLE,
    expires_at: datetime | None = None,
    report_chat_id: int | None = None,
) -> Mailing:
    """An open mailing with a delivery due now for each of `people`."""
    created = await outbox.create(
        db,
        workshop_id=1,
        kind=kind,
        due_at=now,
        now=now,
        text="Hello",
        automatic=kind is not MailingKind.BROADCAST,
        status=MailingStatus.OPEN,
        expires_at=expires_at,
        report_chat_id=report_chat_id,
    )
    new = [NewDelivery(user, PEOPLE.index(user) + 1, now) for user in people]
    assert await outbox.add(db, mailing_id=created.id, recipients=new) == len(people)
    return created


def delivery_statuses(db: Database, mailing_id: int) -> dict[int, str]:
    with stored.connect(db.target) as conn:
        rows = conn.execute(
            "SELECT user_id, status FROM deliveries WHERE mailing_id = ?", (mailing_id,)
        )
        return dict(rows.fetchall())


async def test_a_claim_marks_sending_and_never_returns_a_delivery_twice(db: Database) -> None:
    sent = await mailing(db, MailingKind.BROADCAST, NOON)
    first = await outbox.claim(db, now=NOON, limit=2)
    assert len(first) == 2
    assert all(item.delivery.status == DeliveryStatus.SENDING.value for item in first)
    # Two claims at once (and a third): each delivery goes to one of them only.
    batches = await asyncio.gather(*(outbox.claim(db, now=NOON, limit=2) for _ in range(3)))
    claimed = [item.delivery.id for batch in [first, *batches] for item in batch]
    assert len(claimed) == len(set(claimed)) == len(PEOPLE)
    assert set(delivery_statuses(db, sent.id).values()) == {"sending"}
    assert await outbox.claim(db, now=NOON, limit=8) == []


async def test_recover_puts_what_was_in_flight_back_marked_doubled(db: Database) -> None:
    sent = await mailing(db, MailingKind.BROADCAST, NOON)
    done, in_flight = await outbox.claim(db, now=NOON, limit=2)
    await outbox.settle(db, delivery_id=done.delivery.id, status=DeliveryStatus.SENT, now=NOON)
    # The crash: in_flight was on its way. The next start is another worker; on a file no
    # other process shares, it takes the stopped one's claims over at once.
    assert await outbox.recover(db, worker="next", now=NOON, lease=LEASE) == 1
    again = await outbox.claim(db, now=NOON, limit=8)
    assert again[0].delivery.id == in_flight.delivery.id  # oldest first
    assert next(i for i in again if i.delivery.id == in_flight.delivery.id).delivery.doubled
    for item in again:
        await outbox.settle(db, delivery_id=item.delivery.id, status=DeliveryStatus.SENT, now=NOON)
    counts = await outbox.counts(db, mailing_id=sent.id)
    assert counts[DeliveryStatus.SENT] == len(PEOPLE)
    assert counts.doubled == 1
    # A settled delivery is settled once: a late second answer changes nothing.
    assert not await outbox.settle(
        db, delivery_id=done.delivery.id, status=DeliveryStatus.FAILED, now=NOON
    )


async def test_a_live_workers_claims_stay_its_own_and_a_gone_ones_go_to_another(
    shared_db: Database,
) -> None:
    db, beat = shared_db, timedelta(days=1)
    await mailing(db, MailingKind.BROADCAST, NOON)
    for worker in ("a", "b"):
        await outbox.worker_seen(db, worker=worker, now=NOON, forget=beat)
    taken_by_a = await outbox.claim(db, now=NOON, limit=2, worker="a")
    taken_by_b = await outbox.claim(db, now=NOON, limit=1, worker="b")
    # "b" starts again 30 s later (a deploy): "a", seen 30 s ago, is alive; "b" takes back
    # what it had itself in flight only if it is another worker now.
    later = NOON + timedelta(seconds=30)
    assert await outbox.recover(db, worker="c", now=later, lease=LEASE) == 0
    # "a" is not seen for longer than the lease: gone. Its two go to whoever recovers.
    gone = NOON + LEASE + timedelta(seconds=1)
    await outbox.worker_seen(db, worker="b", now=gone, forget=beat)
    assert await outbox.recover(db, worker="b", now=gone, lease=LEASE) == 2
    again = await outbox.claim(db, now=gone, limit=8, worker="b")
    assert {item.delivery.id for item in again} == {
        *(item.delivery.id for item in taken_by_a),
        *(  # and the one nobody had claimed yet
            d
            for d in range(1, len(PEOPLE) + 1)
            if d not in {item.delivery.id for item in [*taken_by_a, *taken_by_b]}
        ),
    }
    from_a = {item.delivery.id for item in taken_by_a}
    assert [item.delivery.doubled for item in again] == [
        item.delivery.id in from_a for item in again
    ]  # what "a" had in flight may have been shown: marked doubled, and only that
    # A worker's own claims are never taken back from it, however long ago it was seen.
    assert await outbox.recover(db, worker="b", now=gone + beat, lease=LEASE) == 0


def test_quiet_hours_across_midnight() -> None:
    quiet = QuietHours(time(21, 0), time(8, 0))
    at = lambda hour, minute=0: datetime(2026, 6, 10, hour, minute, tzinfo=PARIS)  # noqa: E731
    assert quiet.holds(at(21), PARIS) and quiet.holds(at(23, 59), PARIS)
    assert quiet.holds(at(0), PARIS) and quiet.holds(at(7, 59), PARIS)
    assert not quiet.holds(at(8), PARIS) and not quiet.holds(at(20, 59), PARIS)
    assert not quiet.holds(at(12), PARIS)
    # The same moment is quiet in one zone and not in another.
    assert quiet.holds(NIGHT, PARIS) and not quiet.holds(NIGHT, ZoneInfo("America/New_York"))
    assert quiet.ends_after(at(23), PARIS) == at(8) + timedelta(days=1)
    assert quiet.ends_after(at(6), PARIS) == at(8)
    assert quiet.ends_after(at(12), PARIS) == at(12)
    assert QuietHours(time(9), time(17)).holds(at(12), PARIS)
    assert not QuietHours(time(0), time(0)).holds(at(3), PARIS)  # none


def test_an_eve_reminder_far_west_comes_before_the_workshops_quiet_hours() -> None:
    """The eve at 18:00 in Martinique is 23:00 in Paris, the workshop's zone: held, it
    would go at 08:00 Paris, 03:00 there. It goes before the quiet hours instead."""
    martinique = ZoneInfo("America/Martinique")
    starts = datetime(2026, 6, 12, 10, 0, tzinfo=PARIS)
    eve = session_due(SessionRule.EVE, starts, martinique)
    assert eve == datetime(2026, 6, 11, 18, 0, tzinfo=martinique)
    quiet = QuietHours()
    moved = quiet.before(eve, PARIS)
    assert moved == datetime(2026, 6, 11, 20, 59, tzinfo=PARIS)
    assert moved.astimezone(martinique).date() == eve.date()  # still the eve, there
    # In the workshop's own zone nothing moves.
    assert quiet.before(session_due(SessionRule.EVE, starts, PARIS), PARIS) == datetime(
        2026, 6, 11, 18, 0, tzinfo=PARIS
    )


def test_the_decantation_reminder_never_follows_at_once() -> None:
    assert decantation_reminder_gap(timedelta(days=10)) == timedelta(days=3)
    assert decantation_reminder_gap(timedelta(seconds=3)) == timedelta(seconds=0.9)
    assert decantation_reminder_gap(timedelta(0)) == timedelta(days=3)  # sent at the end


async def test_someone_back_gets_what_was_skipped_while_away(db: Database) -> None:
    standing = await mailing(db, MailingKind.DECANTATION, NOON, people=PEOPLE[:1])
    once = await mailing(db, MailingKind.REMINDER, NOON, people=PEOPLE[:1])
    for item in await outbox.claim(db, now=NOON, limit=8):
        await outbox.settle(
            db, delivery_id=item.delivery.id, status=DeliveryStatus.SKIPPED, now=NOON
        )
    assert await outbox.revive(db, user_id=PEOPLE[0]) == 1
    assert delivery_statuses(db, standing.id)[PEOPLE[0]] == "pending"
    assert delivery_statuses(db, once.id)[PEOPLE[0]] == "skipped"  # a one-shot stays so
    # Blocked when it was sent (403), then back: it goes again too.
    (item,) = await outbox.claim(db, now=NOON, limit=8)
    away = DeliveryStatus.UNREACHABLE
    await outbox.settle(db, delivery_id=item.delivery.id, status=away, now=NOON)
    assert await outbox.revive(db, user_id=PEOPLE[0]) == 1
    assert delivery_statuses(db, standing.id)[PEOPLE[0]] == "pending"


async def test_a_mailing_cancelled_while_sending_still_ends_and_reports(db: Database) -> None:
    """A reminder cancelled while one of its deliveries was in flight, which a crash then
    put back: that one is not sent, and the mailing ends with its report."""
    sent = await mailing(db, MailingKind.REMINDER, NOON, people=PEOPLE[:2], report_chat_id=9)
    first, _in_flight = await outbox.claim(db, now=NOON, limit=2)
    await outbox.settle(db, delivery_id=first.delivery.id, status=DeliveryStatus.SENT, now=NOON)
    assert await outbox.change_status(
        db,
        mailing_id=sent.id,
        to=MailingStatus.CANCELLED,
        expected=(MailingStatus.OPEN,),
        now=NOON,
    )
    # The second was in flight: pending again.
    assert await outbox.recover(db, worker="next", now=NOON, lease=LEASE) == 1
    assert await outbox.claim(db, now=NOON, limit=8) == []  # never sent
    assert [m.id for m in await outbox.finish(db, now=NOON)] == [sent.id]
    assert delivery_statuses(db, sent.id) == {PEOPLE[0]: "sent", PEOPLE[1]: "skipped"}


async def test_quiet_hours_hold_automatic_mailings_not_broadcasts(db: Database) -> None:
    reminder = await mailing(db, MailingKind.REMINDER, NIGHT)
    broadcast = await mailing(db, MailingKind.BROADCAST, NIGHT)
    claimed = await service(db, NIGHT).claim(8)
    assert {item.mailing.id for item in claimed} == {broadcast.id}
    assert set(delivery_statuses(db, reminder.id).values()) == {"pending"}
    # In the morning the reminder goes.
    morning = NIGHT + timedelta(hours=9)
    claimed = await service(db, morning).claim(8)
    assert {item.mailing.id for item in claimed} == {reminder.id}


async def test_expired_deliveries_are_not_sent(db: Database) -> None:
    session_reminder = await mailing(
        db, MailingKind.SESSION_REMINDER, NOON - timedelta(hours=2), expires_at=NOON
    )
    assert await service(db, NOON).claim(8) == []
    assert set(delivery_statuses(db, session_reminder.id).values()) == {"expired"}


async def test_paused_and_unreachable_people_are_skipped_by_automatic_mailings(
    db: Database,
) -> None:
    paused, away = PEOPLE[1], PEOPLE[2]
    with stored.connect(db.path) as conn:
        conn.execute(
            "UPDATE participants SET paused_at = ? WHERE user_id = ?", (to_text(NOON), paused)
        )
        conn.execute("UPDATE users SET unreachable_at = ? WHERE user_id = ?", (to_text(NOON), away))
    reminder = await mailing(db, MailingKind.REMINDER, NOON)
    claimed = await service(db, NOON).claim(8)
    assert {item.delivery.user_id for item in claimed} == {PEOPLE[0], PEOPLE[3]}
    statuses = delivery_statuses(db, reminder.id)
    assert statuses[paused] == statuses[away] == "skipped"
    # A broadcast is not automatic: a paused person gets it (a blocked one is tried, and
    # Telegram's 403 settles it).
    broadcast = await mailing(db, MailingKind.BROADCAST, NOON)
    claimed = await service(db, NOON).claim(8)
    assert {item.delivery.user_id for item in claimed} == set(PEOPLE)
    assert all(item.mailing.id == broadcast.id for item in claimed)


async def test_finish_returns_a_mailing_until_it_is_reported(db: Database) -> None:
    sent = await mailing(db, MailingKind.BROADCAST, NOON, people=PEOPLE[:2], report_chat_id=9)
    standing = await mailing(db, MailingKind.INVITATION, NOON, people=PEOPLE[:1])
    first, second = await outbox.claim(db, now=NOON, limit=2)
    await outbox.settle(db, delivery_id=first.delivery.id, status=DeliveryStatus.SENT, now=NOON)
    assert await outbox.finish(db, now=NOON) == []  # one still in flight
    await outbox.settle(db, delivery_id=second.delivery.id, status=DeliveryStatus.SENT, now=NOON)
    rest = await outbox.claim(db, now=NOON, limit=8)
    for item in rest:
        await outbox.settle(db, delivery_id=item.delivery.id, status=DeliveryStatus.SENT, now=NOON)
    finished = await outbox.finish(db, now=NOON)
    assert [m.id for m in finished] == [sent.id]  # a standing mailing stays open
    # Its report is due until it is recorded as sent (a crash in between: sent at start).
    assert [m.id for m in await outbox.finish(db, now=NOON)] == [sent.id]
    await outbox.reported(db, mailing_id=sent.id, now=NOON)
    assert await outbox.finish(db, now=NOON) == []
    current = await outbox.get(db, mailing_id=standing.id)
    assert current is not None and current.status == MailingStatus.OPEN.value


@pytest.mark.parametrize("limit", [30, 1000])
def test_the_pace_keeps_any_second_under_the_limit(limit: int) -> None:
    """Turns taken as fast as the pace allows, some of them late: no window of one second
    ever holds more than `limit` of them."""
    pace = Pace.under(limit)
    now, turns = 0.0, []
    for step in range(limit * 3):
        now = max(now, now + pace.wait(now))
        assert pace.available(now, 8) >= 1
        pace.take(now)
        turns.append(now)
        now += pace.interval * (0.2 if step % 7 else 1.5)  # the work between two turns
    assert all(turns[i + limit] - turns[i] > 1.0 for i in range(len(turns) - limit))
    # And the pace is not much slower than the limit.
    assert (len(turns) - 1) / (turns[-1] - turns[0]) > limit * 0.9


async def test_a_delivery_the_network_kept_goes_again_three_times_at_most(db: Database) -> None:
    await mailing(db, MailingKind.REMINDER, NOON, people=PEOPLE[:1])
    now = NOON
    for attempt, delay in enumerate(RETRY_DELAYS):
        (item,) = await service(db, now).claim(8)
        assert item.delivery.attempts == attempt
        assert await service(db, now).postpone(item, maybe_shown=attempt == 1)
        assert await outbox.claim(db, now=now + delay - timedelta(seconds=1), limit=8) == []
        now += delay
    (item,) = await service(db, now).claim(8)
    assert item.delivery.doubled  # the second call timed out: it may have been shown
    assert not await service(db, now).postpone(item, maybe_shown=False)  # given up: failed


async def test_the_workers_alive_share_the_limit(shared_db: Database, db: Database) -> None:
    beat = timedelta(days=1)
    assert await outbox.workers_alive(shared_db, now=NOON, lease=LEASE) == 1  # the asker
    for worker, seen in (("a", NOON), ("b", NOON - LEASE / 2), ("gone", NOON - 2 * LEASE)):
        await outbox.worker_seen(shared_db, worker=worker, now=seen, forget=beat)
    assert await outbox.workers_alive(shared_db, now=NOON, lease=LEASE) == 2
    # "b" stops and says so: one left at once, and what "b" had in flight goes again.
    await mailing(shared_db, MailingKind.BROADCAST, NOON)
    taken = await outbox.claim(shared_db, now=NOON, limit=2, worker="b")
    await outbox.worker_left(shared_db, worker="b")
    assert await outbox.workers_alive(shared_db, now=NOON, lease=LEASE) == 1
    assert await outbox.recover(shared_db, worker="a", now=NOON, lease=LEASE) == len(taken) == 2
    # A file has one process: it never shares.
    await outbox.worker_seen(db, worker="a", now=NOON, forget=beat)
    await outbox.worker_seen(db, worker="b", now=NOON, forget=beat)
    assert await outbox.workers_alive(db, now=NOON, lease=LEASE) == 1


async def add_a_large_mailing(db: Database) -> None:
    """1,201 recipients (three statements of up to 500 rows), a few of them already there
    and some named twice: each is added once, and the count says how many were new."""
    created = await mailing(db, MailingKind.BROADCAST, NOON)  # PEOPLE are in it already
    many = [NewDelivery(user, None, NOON) for user in range(10_000, 10_000 + 1_195)]
    named = [*(NewDelivery(user, None, NOON) for user in PEOPLE), *many, many[0], many[-1]]
    assert len(named) == 1_201 and len(PEOPLE) == 4
    added = await outbox.add(db, mailing_id=created.id, recipients=named)
    assert added == 1_195
    statuses = delivery_statuses(db, created.id)
    assert len(statuses) == len(PEOPLE) + 1_195
    assert await outbox.add(db, mailing_id=created.id, recipients=many[:3]) == 0


async def test_a_large_mailings_recipients_are_added_each_once(db: Database) -> None:
    await add_a_large_mailing(db)


async def test_a_large_mailings_recipients_are_added_each_once_on_a_server(
    shared_db: Database,
) -> None:
    await add_a_large_mailing(shared_db)
