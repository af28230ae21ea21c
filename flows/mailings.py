"""Reminders and broadcasts, as their senders make them: /remind, /reminders, /broadcast.

Only the workshop's organisers and facilitators may write to its participants. A reminder
is a draft until its sender chose its target and pressed "Schedule"; the outbox then opens
it at its time (waiting out the quiet hours) with the participants its target names then.
A broadcast is a draft until its sender confirms it; it then opens at once with every
consented participant. Every change is made once, whatever the double taps and redelivered
updates (`storage.outbox.change_status`, `open_with` and `create` are conditional).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from flows.codes import looks_like_code
from flows.engine import text_length
from flows.errors import NotAllowed
from flows.kinds import AuditAction, MailingKind, MailingStatus
from flows.outbox import OutboxService, Target, reader_zone
from flows.when import split_when
from storage import audit, outbox, workshops
from storage.db import Database, utc_now
from storage.models import Mailing, Workshop
from storage.outbox import NewDelivery

# The sender's words, in UTF-16 units: with the header (a title cut to 100 characters) and
# a late reminder's line, a message stays under Telegram's 4096.
TEXT_LIMIT = 3500
# The targets a reminder may have, in the order its preview shows them.
REMINDER_TARGETS = (
    Target.ALL,
    Target.UNFINISHED_1,
    Target.FINISHED_1,
    Target.UNFINISHED_2,
    Target.FINISHED_2,
)
# /reminders shows the reminders done or cancelled this recently, besides those to come.
RECENT = timedelta(days=14)
LISTED = 12  # at most, the soonest to come first: the list stays one message
CANCELLABLE = (MailingStatus.DRAFT, MailingStatus.SCHEDULED, MailingStatus.OPEN)


class Refusal(StrEnum):
    """Why a reminder or broadcast was not made (besides the sender's role: `NotAllowed`)."""

    USAGE = "usage"  # no workshop code
    UNKNOWN_CODE = "unknown_code"
    CLOSED = "closed"
    NO_TIME = "no_time"  # no date, time or delay could be read
    PAST = "past"
    EMPTY = "empty"
    TOO_LONG = "too_long"


class Refused(Exception):
    """A reminder or broadcast refused, with what its reply needs to say why."""

    def __init__(
        self,
        reason: Refusal,
        *,
        code: str = "",
        when: datetime | None = None,
        length: int = 0,
        limit: int = TEXT_LIMIT,
    ) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.code = code
        self.when = when
        self.length = length
        self.limit = limit


@dataclass(frozen=True)
class Draft:
    """A reminder or broadcast as its sender sees it: in their time zone, with how many it
    would reach now."""

    mailing: Mailing
    workshop: Workshop
    zone: tzinfo
    recipients: int


@dataclass(frozen=True)
class Changed:
    """A button's outcome: the mailing as it is now, and whether this press changed it."""

    draft: Draft
    changed: bool


@dataclass(frozen=True)
class ReminderList:
    workshop: Workshop
    zone: tzinfo
    reminders: list[Mailing]


def arguments(text: str | None) -> str:
    """A command's text without the command itself ("/remind@bot …" → "…")."""
    parts = (text or "").strip().split(maxsplit=1)
    if parts and parts[0].startswith("/"):
        parts = parts[1:]
    return parts[0] if parts else ""


def _after_words(text: str, count: int) -> str:
    """`text` without its first `count` words, its own spacing and line breaks kept."""
    rest = text.lstrip()
    for _ in range(count):
        parts = rest.split(maxsplit=1)
        rest = parts[1] if len(parts) > 1 else ""
    return rest.strip()


class MailingService:
    def __init__(
        self,
        db: Database,
        outbox_service: OutboxService,
        *,
        zone: tzinfo,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.outbox = outbox_service
        self.zone = zone
        self.clock = clock

    async def _workshop(self, user_id: int, code: str) -> Workshop:
        """The open workshop `code` names, if the user organises or facilitates it."""
        found = await workshops.find_by_code(self.db, code=code) if looks_like_code(code) else None
        if found is None:
            raise Refused(Refusal.UNKNOWN_CODE, code=code)
        workshop = found[0]
        await self._check_role(user_id, workshop)
        if not workshop.is_open:
            raise Refused(Refusal.CLOSED)
        return workshop

    async def _check_role(self, user_id: int, workshop: Workshop) -> None:
        if not await workshops.manages(self.db, workshop_id=workshop.id, user_id=user_id):
            raise NotAllowed

    async def zone_for(self, user_id: int, workshop: Workshop | None) -> tzinfo:
        """A person's time zone: their own, else the workshop's, else the deployment's."""
        return await reader_zone(self.db, user_id=user_id, workshop=workshop, default=self.zone)

    async def workshop(self, workshop_id: int) -> Workshop | None:
        return await workshops.get(self.db, workshop_id=workshop_id)

    def _check_text(self, text: str, code: str) -> str:
        text = text.strip()
        if not text:
            raise Refused(Refusal.EMPTY, code=code)
        if text_length(text) > TEXT_LIMIT:
            raise Refused(Refusal.TOO_LONG, code=code, length=text_length(text))
        return text

    async def _draft(self, user_id: int, mailing: Mailing, workshop: Workshop) -> Draft:
        found = await self.outbox.recipients(workshop.id, mailing.target)
        return Draft(mailing, workshop, await self.zone_for(user_id, workshop), len(found))

    async def prepare_reminder(
        self, *, user_id: int, text: str, language: str, update_id: int | None
    ) -> Draft:
        """/remind <code> <when> <text>: a draft reminder for everyone, to be scheduled."""
        words = text.split()
        if not words:
            raise Refused(Refusal.USAGE)
        workshop = await self._workshop(user_id, words[0])
        now = self.clock()
        zone = await self.zone_for(user_id, workshop)
        found = split_when(words[1:], language=language, now=now, zone=zone)
        if found is None:
            raise Refused(Refusal.NO_TIME, code=words[0])
        when, rest = found
        if when <= now:
            raise Refused(Refusal.PAST, code=words[0], when=when)
        words_taken = len(words) - len(rest)
        body = self._check_text(_after_words(text, words_taken), words[0])
        mailing = await self._create(
            workshop, MailingKind.REMINDER, when.astimezone(UTC), body, user_id, language, update_id
        )
        return await self._draft(user_id, mailing, workshop)

    async def prepare_broadcast(
        self, *, user_id: int, text: str, language: str, update_id: int | None
    ) -> Draft:
        """/broadcast <code> <text>: a draft broadcast, with how many it would reach."""
        words = text.split()
        if not words:
            raise Refused(Refusal.USAGE)
        workshop = await self._workshop(user_id, words[0])
        body = self._check_text(_after_words(text, 1), words[0])
        now = self.clock()
        mailing = await self._create(
            workshop, MailingKind.BROADCAST, now, body, user_id, language, update_id
        )
        return await self._draft(user_id, mailing, workshop)

    async def _create(
        self,
        workshop: Workshop,
        kind: MailingKind,
        due_at: datetime,
        text: str,
        user_id: int,
        language: str,
        update_id: int | None,
    ) -> Mailing:
        """A draft for everyone, reported to its sender; a reminder waits out quiet hours
        (automatic), a broadcast does not. A redelivered command finds its draft again."""
        return await outbox.create(
            self.db,
            workshop_id=workshop.id,
            kind=kind,
            due_at=due_at,  # stored times compare as text: all in UTC
            now=self.clock(),
            target=Target.ALL.value,
            text=text,
            automatic=kind is MailingKind.REMINDER,
            status=MailingStatus.DRAFT,
            created_by=user_id,
            report_chat_id=user_id,
            report_language=language,
            source_update_id=update_id,
        )

    async def _own(
        self, user_id: int, mailing_id: int, kind: MailingKind
    ) -> tuple[Mailing, Workshop]:
        """A mailing of this kind, if the user may act on it (`NotAllowed` otherwise)."""
        mailing = await outbox.get(self.db, mailing_id=mailing_id)
        if mailing is None or mailing.kind != kind.value:
            raise NotAllowed
        workshop = await workshops.get(self.db, workshop_id=mailing.workshop_id)
        if workshop is None:
            raise NotAllowed
        await self._check_role(user_id, workshop)
        return mailing, workshop

    async def _changed(
        self, user_id: int, mailing_id: int, workshop: Workshop, changed: bool
    ) -> Changed:
        mailing = await outbox.get(self.db, mailing_id=mailing_id)
        assert mailing is not None
        return Changed(await self._draft(user_id, mailing, workshop), changed)

    async def choose_target(self, *, user_id: int, mailing_id: int, target: Target) -> Changed:
        """A reminder's target, chosen on its preview (only while it is a draft)."""
        mailing, workshop = await self._own(user_id, mailing_id, MailingKind.REMINDER)
        changed = mailing.target != target.value and await outbox.set_target(
            self.db, mailing_id=mailing_id, target=target.value, expected=(MailingStatus.DRAFT,)
        )
        return await self._changed(user_id, mailing_id, workshop, changed)

    async def schedule(self, *, user_id: int, mailing_id: int) -> Changed:
        """ "Schedule" on a reminder's preview: the outbox opens it at its time."""
        mailing, workshop = await self._own(user_id, mailing_id, MailingKind.REMINDER)
        if not workshop.is_open:
            raise Refused(Refusal.CLOSED)
        if mailing.status == MailingStatus.DRAFT and mailing.due_at <= self.clock():
            raise Refused(Refusal.PAST)  # a preview left open past its time: not sent late
        changed = await outbox.change_status(
            self.db,
            mailing_id=mailing_id,
            to=MailingStatus.SCHEDULED,
            expected=(MailingStatus.DRAFT,),
            now=self.clock(),
        )
        return await self._changed(user_id, mailing_id, workshop, changed)

    async def cancel(self, *, user_id: int, mailing_id: int) -> Changed:
        """Cancel a reminder or a broadcast not sent yet: what was not sent never will be."""
        mailing = await outbox.get(self.db, mailing_id=mailing_id)
        kind = MailingKind(mailing.kind) if mailing else MailingKind.REMINDER
        if kind not in (MailingKind.REMINDER, MailingKind.BROADCAST):
            raise NotAllowed
        _, workshop = await self._own(user_id, mailing_id, kind)
        expected = CANCELLABLE if kind is MailingKind.REMINDER else (MailingStatus.DRAFT,)
        changed = await outbox.change_status(
            self.db,
            mailing_id=mailing_id,
            to=MailingStatus.CANCELLED,
            expected=expected,
            now=self.clock(),
        )
        return await self._changed(user_id, mailing_id, workshop, changed)

    async def confirm_broadcast(self, *, user_id: int, mailing_id: int) -> Changed:
        """ "📣 Send": the broadcast opens now with every consented participant (once)."""
        _, workshop = await self._own(user_id, mailing_id, MailingKind.BROADCAST)
        if not workshop.is_open:
            raise Refused(Refusal.CLOSED)
        now = self.clock()
        found = await self.outbox.recipients(workshop.id, Target.ALL)
        changed = await outbox.open_with(
            self.db,
            mailing_id=mailing_id,
            recipients=[NewDelivery(r.user_id, r.participant_id, now) for r in found],
            now=now,
            expected=(MailingStatus.DRAFT,),
        )
        if changed:
            await audit.record(
                self.db,
                workshop_id=workshop.id,
                actor_id=user_id,
                action=AuditAction.BROADCAST,
                now=now,
                detail=str(len(found)),
            )
        return await self._changed(user_id, mailing_id, workshop, changed)

    async def reminders(self, *, user_id: int, code: str) -> ReminderList:
        """/reminders <code>: the reminders to come, and those of the last days."""
        if not code:
            raise Refused(Refusal.USAGE)
        workshop = await self._workshop(user_id, code)
        return await self._reminders(user_id, workshop)

    async def _reminders(self, user_id: int, workshop: Workshop) -> ReminderList:
        since = self.clock() - RECENT
        found = [
            mailing
            for mailing in await outbox.of_workshop(
                self.db, workshop_id=workshop.id, kinds=(MailingKind.REMINDER,)
            )
            if mailing.status in (MailingStatus.SCHEDULED, MailingStatus.OPEN)
            or (mailing.status != MailingStatus.DRAFT and mailing.due_at >= since)
        ]
        # The soonest to come first in the count, then the latest gone: in time order.
        now = self.clock()
        coming = [m for m in found if m.due_at >= now][:LISTED]
        room = LISTED - len(coming)
        gone = [m for m in found if m.due_at < now][-room:] if room else []
        return ReminderList(workshop, await self.zone_for(user_id, workshop), gone + coming)

    async def cancel_listed(self, *, user_id: int, mailing_id: int) -> tuple[ReminderList, bool]:
        """A cancel button of /reminders: the reminder cancelled, and the list as it is now."""
        changed = await self.cancel(user_id=user_id, mailing_id=mailing_id)
        return await self._reminders(user_id, changed.draft.workshop), changed.changed
