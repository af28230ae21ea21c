"""Who gets a scheduled or mass message, and when: the outbox's rules, apart from sending.

Every mailing is stored before anything is sent (`storage/outbox.py`). A one-shot mailing
(a reminder, a broadcast, a follow-up) chooses its recipients when its time comes, from
its target; a standing one (a session's invitation and reminders, the décantation and its
reminder) takes each participant as they qualify, at a time of their own (the eve of a
session at 18:00 in their time zone, some days after they finished). The bot's sender
(`bot/outbox.py`) claims what is due, sends it and settles it through this service.

Automatic mailings (all but broadcasts) wait out the quiet hours of their workshop's
time zone, and skip people who paused or who blocked the bot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows import followup
from flows.engine import DONE, PEERS_WAIT, JourneyEngine
from flows.kinds import DeliveryStatus, MailingKind, MailingStatus
from storage import outbox, participants, sessions, users, workshops
from storage.db import Database, utc_now
from storage.models import Mailing, Recipient, Workshop
from storage.outbox import Claimed, Counts, NewDelivery


class Target(StrEnum):
    """Whom a reminder or broadcast is for."""

    ALL = "all"
    UNFINISHED_1 = "unfinished:1"  # still in phase 1 (or not started)
    FINISHED_1 = "finished:1"  # past phase 1
    UNFINISHED_2 = "unfinished:2"  # not at the end of the journey yet
    FINISHED_2 = "finished:2"  # at the end of the journey
    CARRIERS = "carriers"  # a follow-up: carriers of resolutions and authors of commitments


class SessionRule(StrEnum):
    """When a session's automatic reminders go: the eve at 18:00 in the person's time zone,
    and one hour before it starts."""

    EVE = "eve_18"
    HOUR_BEFORE = "hour_before"


EVE_AT = time(18, 0)
# A delivery the network kept from going (after `bot.delivery`'s own quick retries) is
# tried again this much later, then this much, then given up: a short outage loses nobody
# their reminder.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=5), timedelta(minutes=30))
# The décantation's one reminder comes this fraction of the workshop's delay after it (3
# days for the default 10): the same rhythm when a test shortens the delay to seconds.
DECANTATION_REMINDER_FRACTION = 0.3
# With no delay at all (the décantation right at the end), its reminder waits this long.
DECANTATION_REMINDER_AT_LEAST = timedelta(days=3)


def decantation_reminder_gap(delay: timedelta) -> timedelta:
    """How long after the décantation its one reminder comes, for the workshop's delay."""
    if delay <= timedelta(0):
        return DECANTATION_REMINDER_AT_LEAST
    return delay * DECANTATION_REMINDER_FRACTION


# While the agora is open, the deferred moments wait this long (moved when it closes).
HELD = timedelta(days=3650)
# Several workers on one database: each says it is alive this often; one not seen for
# WORKER_LEASE is gone, and its deliveries in flight go again from another worker (it
# may have sent them: marked doubled). A day later it is forgotten.
WORKER_BEAT = timedelta(seconds=10)
WORKER_LEASE = timedelta(seconds=60)
WORKER_FORGET = timedelta(days=1)


def decantation_due(finished_at: datetime, workshop: Workshop, delay: timedelta) -> datetime:
    """When a participant's deferred moments are due: `delay` after they finished, and
    never before the workshop's collective part is behind them (the nourishing feedback
    asks about it): held while the agora is open, `delay` after it closed once it has."""
    if workshop.agora_opened_at is None:
        return finished_at + delay
    if workshop.agora_closed_at is None:
        return finished_at + HELD
    return max(finished_at, workshop.agora_closed_at) + delay


async def reschedule_decantation(db: Database, *, workshop_id: int) -> int:
    """Move the deferred moments (and their reminder) still to come to the workshop's
    delay and agora, when either changes; returns how many deliveries moved."""
    workshop = await workshops.get(db, workshop_id=workshop_id)
    if workshop is None:
        return 0
    delay = timedelta(seconds=workshop.decantation_seconds)
    who = {p.id: p for p in await participants.of_workshop(db, workshop_id=workshop_id)}
    moves: list[tuple[int, datetime]] = []
    kinds = (MailingKind.DECANTATION, MailingKind.DECANTATION_REMINDER)
    for mailing in await outbox.of_workshop(db, workshop_id=workshop_id, kinds=kinds):
        pending = await outbox.deliveries(
            db, mailing_id=mailing.id, statuses=(DeliveryStatus.PENDING,)
        )
        for delivery in pending:
            person = who.get(delivery.participant_id or 0)
            if person is None:
                continue
            if mailing.kind == MailingKind.DECANTATION and person.finished_at is not None:
                moves.append((delivery.id, decantation_due(person.finished_at, workshop, delay)))
            elif person.decantation_sent_at is not None:
                due = person.decantation_sent_at + decantation_reminder_gap(delay)
                moves.append((delivery.id, due))
    await outbox.reschedule(db, moves=moves)
    return len(moves)


@dataclass(frozen=True)
class QuietHours:
    """Hours in which nothing automatic is sent (in the workshop's time zone)."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    @classmethod
    def none(cls) -> QuietHours:
        """No quiet hours: automatic mailings go at any hour."""
        return cls(time(0, 0), time(0, 0))

    def holds(self, moment: datetime, zone: tzinfo) -> bool:
        local = moment.astimezone(zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def before(self, moment: datetime, zone: tzinfo) -> datetime:
        """`moment`, or, when it falls in quiet hours, the last minute before they began
        (the eve of a session at 18:00 far west of the workshop would otherwise wait for
        the workshop's morning, the middle of that person's night)."""
        if not self.holds(moment, zone):
            return moment
        local = moment.astimezone(zone)
        start = datetime.combine(local.date(), self.start, tzinfo=zone)
        if start > local:
            start -= timedelta(days=1)
        return start - timedelta(minutes=1)

    def ends_after(self, moment: datetime, zone: tzinfo) -> datetime:
        """The end of the quiet hours that `moment` falls in (itself when it falls in none)."""
        if not self.holds(moment, zone):
            return moment
        local = moment.astimezone(zone)
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end += timedelta(days=1)
        return end


@dataclass(frozen=True)
class Batch:
    """Deliveries claimed for sending; `exhausted`: nothing else was due."""

    sendable: list[Claimed]
    exhausted: bool


def zone_named(name: str | None, default: tzinfo) -> tzinfo:
    """The time zone of that IANA name, else `default` (an unknown name never breaks a send)."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


async def reader_zone(
    db: Database, *, user_id: int, workshop: Workshop | None, default: tzinfo
) -> tzinfo:
    """A person's time zone for a workshop: their own (/timezone), else the workshop's,
    else the deployment's (`default`)."""
    workshop_zone = zone_named(workshop.timezone if workshop else None, default)
    return zone_named(await users.timezone(db, user_id=user_id), workshop_zone)


def session_due(rule: str, starts_at: datetime, zone: tzinfo) -> datetime:
    """When a session reminder of this rule is due for someone in `zone`."""
    if rule == SessionRule.HOUR_BEFORE:
        return starts_at - timedelta(hours=1)
    eve = starts_at.astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(eve, EVE_AT, tzinfo=zone)


class OutboxService:
    """The outbox's rules: opening due mailings, adding newcomers to standing ones,
    claiming what is due outside quiet hours, and settling what was sent."""

    def __init__(
        self,
        db: Database,
        engine: JourneyEngine,
        *,
        zone: tzinfo,
        quiet: QuietHours | None = None,
        clock: Callable[[], datetime] = utc_now,
        worker: str = "",
    ) -> None:
        self.db = db
        self.engine = engine
        self.zone = zone
        self.quiet = quiet or QuietHours()
        self.clock = clock
        self.worker = worker  # this process, among the workers claiming deliveries
        self._past_phase_1 = (PEERS_WAIT, *(p.id for p in engine.peer_prompts), DONE)

    def zone_of(self, workshop: Workshop | None) -> tzinfo:
        return zone_named(workshop.timezone if workshop else None, self.zone)

    async def recover(self) -> int:
        """This worker is alive; what a worker gone had in flight goes again, marked
        doubled (at start: what was in flight when the bot stopped). How many."""
        now = self.clock()
        await outbox.worker_seen(self.db, worker=self.worker, now=now, forget=WORKER_FORGET)
        return await outbox.recover(self.db, worker=self.worker, now=now, lease=WORKER_LEASE)

    async def leave(self) -> None:
        """This worker stops: the others stop counting it at once."""
        await outbox.worker_left(self.db, worker=self.worker)

    async def workers_alive(self) -> int:
        """How many workers share the database now (they share Telegram's limit)."""
        return await outbox.workers_alive(self.db, now=self.clock(), lease=WORKER_LEASE)

    async def recipients(self, workshop_id: int, target: str) -> list[Recipient]:
        """The participants a one-shot mailing's target names, now."""
        if target == Target.FINISHED_1:
            return await outbox.recipients(
                self.db, workshop_id=workshop_id, states=self._past_phase_1
            )
        if target == Target.UNFINISHED_1:
            return await outbox.recipients(
                self.db, workshop_id=workshop_id, states=self._past_phase_1, excluding=True
            )
        if target == Target.FINISHED_2:
            return await outbox.recipients(self.db, workshop_id=workshop_id, states=(DONE,))
        if target == Target.UNFINISHED_2:
            return await outbox.recipients(
                self.db, workshop_id=workshop_id, states=(DONE,), excluding=True
            )
        return await outbox.recipients(self.db, workshop_id=workshop_id)

    async def open_due(self) -> int:
        """Open the scheduled one-shot mailings whose time has come, with the recipients
        their target names now (a follow-up's: `flows.followup.carriers`). Returns how
        many opened."""
        now = self.clock()
        opened = 0
        for mailing in await outbox.due_to_open(self.db, now=now):
            if mailing.target == Target.CARRIERS:
                chosen = await followup.carriers(self.db, workshop_id=mailing.workshop_id)
                found = await outbox.recipients_by_id(self.db, participant_ids=chosen)
            else:
                found = await self.recipients(mailing.workshop_id, mailing.target)
            late = (now - mailing.due_at).total_seconds() > 120
            new = [
                NewDelivery(r.user_id, r.participant_id, mailing.due_at, late=late) for r in found
            ]
            if await outbox.open_with(self.db, mailing_id=mailing.id, recipients=new, now=now):
                opened += 1
        return opened

    async def sweep(self) -> int:
        """Give every standing mailing its newcomers, each due at their own time; create
        the décantation mailings open workshops lack. Returns how many were added."""
        now = self.clock()
        for kind in (MailingKind.DECANTATION, MailingKind.DECANTATION_REMINDER):
            for workshop_id in await outbox.workshops_lacking(self.db, kind=kind):
                await outbox.create(
                    self.db,
                    workshop_id=workshop_id,
                    kind=kind,
                    due_at=now,
                    now=now,
                    status=MailingStatus.OPEN,
                )
        for workshop_id in await outbox.decantations_to_move(self.db, held_from=now + HELD / 2):
            await reschedule_decantation(self.db, workshop_id=workshop_id)
        added = 0
        known: dict[int, Workshop | None] = {}
        for mailing in await outbox.standing(self.db):
            if mailing.workshop_id not in known:
                known[mailing.workshop_id] = await workshops.get(
                    self.db, workshop_id=mailing.workshop_id
                )
            added += await self._add_newcomers(mailing, known[mailing.workshop_id], now)
        return added

    async def _add_newcomers(
        self, mailing: Mailing, workshop: Workshop | None, now: datetime
    ) -> int:
        kind = MailingKind(mailing.kind)
        having = {
            MailingKind.DECANTATION: "finished",
            MailingKind.DECANTATION_REMINDER: "unsettled",
        }.get(kind, "consented")
        found = await outbox.missing_recipients(
            self.db, mailing_id=mailing.id, workshop_id=mailing.workshop_id, having=having
        )
        if not found:
            return 0
        delay = timedelta(seconds=workshop.decantation_seconds if workshop else 864000)
        session = None
        if mailing.session_id is not None:
            session = await sessions.get(self.db, session_id=mailing.session_id)
            if session is None or session.cancelled_at is not None:
                return 0
        new: list[NewDelivery] = []
        for person in found:
            zone = zone_named(person.timezone, self.zone_of(workshop))
            if kind is MailingKind.DECANTATION:
                assert person.finished_at is not None and workshop is not None
                due = decantation_due(person.finished_at, workshop, delay)
            elif kind is MailingKind.DECANTATION_REMINDER:
                assert person.decantation_sent_at is not None
                due = person.decantation_sent_at + decantation_reminder_gap(delay)
            elif kind is MailingKind.SESSION_REMINDER:
                assert session is not None and mailing.offset_rule is not None
                due = session_due(mailing.offset_rule, session.starts_at, zone)
                if mailing.offset_rule == SessionRule.EVE:  # not held into the night there
                    due = self.quiet.before(due, self.zone_of(workshop))
                if due < now:  # joined after its time: this reminder is not for them
                    new.append(NewDelivery(person.user_id, person.participant_id, due, skip=True))
                    continue
            elif session is not None and session.starts_at <= now:
                new.append(NewDelivery(person.user_id, person.participant_id, now, skip=True))
                continue  # an invitation to a session that has begun
            else:  # an invitation: now
                due = now
            new.append(NewDelivery(person.user_id, person.participant_id, due))
        return await outbox.add(self.db, mailing_id=mailing.id, recipients=new)

    async def held_workshops(self) -> list[int]:
        """The workshops with automatic deliveries due now that are in their quiet hours."""
        now = self.clock()
        held = []
        for due in await outbox.due_workshops(self.db, now=now):
            if due.automatic and self.quiet.holds(now, zone_named(due.timezone, self.zone)):
                held.append(due.workshop_id)
        return held

    async def claim(self, limit: int) -> list[Claimed]:
        """Claim up to `limit` due deliveries, outside the quiet hours of their workshops;
        those that must not go (someone paused or unreachable, for automatic mailings)
        are settled skipped on the way and not returned."""
        return (await self.claim_batch(limit)).sendable

    async def claim_batch(self, limit: int) -> Batch:
        """`claim`, also telling whether anything is left due (the sender then asks again
        at once, else only when woken)."""
        held = await self.held_workshops()
        claimed = await outbox.claim(
            self.db, now=self.clock(), limit=limit, held=held, worker=self.worker
        )
        sendable = []
        for item in claimed:
            if item.mailing.automatic and (item.paused or item.unreachable):
                await self.settle(item, DeliveryStatus.SKIPPED)
            else:
                sendable.append(item)
        return Batch(sendable, exhausted=len(claimed) < limit)

    async def settle(
        self, item: Claimed, status: DeliveryStatus, message_id: int | None = None
    ) -> bool:
        return await outbox.settle(
            self.db,
            delivery_id=item.delivery.id,
            status=status,
            now=self.clock(),
            message_id=message_id,
            user_id=item.delivery.user_id,
        )

    async def postpone(self, item: Claimed, *, maybe_shown: bool) -> bool:
        """Try a delivery again later (a network failure, Telegram's flood control): after
        `RETRY_DELAYS[n]` for the n-th time, then no more (False: settle it failed)."""
        attempt = item.delivery.attempts
        if attempt >= len(RETRY_DELAYS):
            return False
        return await outbox.postpone(
            self.db,
            delivery_id=item.delivery.id,
            due_at=self.clock() + RETRY_DELAYS[attempt],
            maybe_shown=maybe_shown,
            limit=len(RETRY_DELAYS),
        )

    async def finished(self) -> list[Mailing]:
        """The one-shot mailings that have just sent their last delivery (each once)."""
        return await outbox.finish(self.db, now=self.clock())

    async def mailing(self, mailing_id: int) -> Mailing | None:
        return await outbox.get(self.db, mailing_id=mailing_id)

    async def set_report_message(self, mailing_id: int, message_id: int) -> None:
        await outbox.set_report_message(self.db, mailing_id=mailing_id, message_id=message_id)

    async def counts(self, mailing_id: int) -> Counts:
        return await outbox.counts(self.db, mailing_id=mailing_id)

    async def reported(self, mailing_id: int) -> None:
        await outbox.reported(self.db, mailing_id=mailing_id, now=self.clock())

    async def mark_reachable(self, *, user_id: int, reachable: bool) -> None:
        """They blocked the bot, or came back: then what was skipped while they were away
        (the décantation, an invitation) goes again."""
        await outbox.mark_reachable(self.db, user_id=user_id, reachable=reachable, now=self.clock())
        if reachable:
            await outbox.revive(self.db, user_id=user_id)
