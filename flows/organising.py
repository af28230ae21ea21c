"""Organisers manage their workshops: dated sessions (each
with its invitation and automatic reminders), closing, a new facilitator link,
co-organisers; and anyone's own time zone.

Who may do what: a user named in `COOPBOT_ORGANISERS` creates workshops and adds
co-organisers to those they organise; the organisers of a workshop (its creator and its
co-organisers, the `organisers` table) manage it. Every use case checks the role and raises
`NotAllowed` (`UnknownWorkshop` when the code opens no workshop). A co-organiser is made a
facilitator too, so that /progress, /remind, /broadcast... accept them without more rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from flows.codes import looks_like_code, new_code
from flows.engine import text_length
from flows.errors import NotAllowed
from flows.kinds import AuditAction, MailingKind, MailingStatus
from flows.outbox import SessionRule, reader_zone, zone_named
from flows.when import split_when
from flows.zones import zone_name
from storage import audit, outbox, sessions, users, workshops
from storage.db import Database, utc_now
from storage.models import Session, Workshop

# The longest place or territory kept: a line of an invitation, not a description.
MAX_PLACE_LENGTH = 200
# The words that make `/session <code> …` set the territory or the time zone instead of
# adding a session (English and French).
TERRITORY_WORDS = ("territory", "territoire")
ZONE_WORDS = ("timezone", "zone", "fuseau")
# What a session's three standing mailings are: the invitation, then its reminders.
SESSION_MAILINGS: tuple[tuple[MailingKind, str | None], ...] = (
    (MailingKind.INVITATION, None),
    (MailingKind.SESSION_REMINDER, SessionRule.EVE),
    (MailingKind.SESSION_REMINDER, SessionRule.HOUR_BEFORE),
)


class UnknownWorkshop(NotAllowed):
    """The code opens no workshop (or is a facilitator code that was revoked)."""


class NotListed(NotAllowed):
    """Only the organisers named in the settings may do this (add a co-organiser)."""


class Question(StrEnum):
    """What /newsession asks after the links, one after the other (`flows/newsession.py`)."""

    WHEN = "when"
    PLACE = "place"
    TERRITORY = "territory"
    DECANTATION = "decantation"


class Problem(StrEnum):
    """Why an organiser's input changed nothing."""

    USAGE = "usage"  # /session without what it needs
    UNREADABLE = "unreadable"  # no date and time read
    PAST = "past"  # a session that would have begun already
    TOO_LONG = "too_long"  # a place or territory over MAX_PLACE_LENGTH
    CLOSED = "closed"  # the workshop is closed
    UNKNOWN_ZONE = "unknown_zone"  # not an IANA time zone
    NOT_A_USER = "not_a_user"  # /coorganiser without a Telegram id
    NOT_DAYS = "not_days"  # the décantation's delay is not a number of days from 0 to 90
    STALE = "stale"  # a skip button of a question no longer asked
    DUPLICATE = "duplicate"  # the same message again: handled once already


@dataclass(frozen=True)
class Change:
    """What an organiser's command or answer did: the workshop as it is now, the session
    added, the next question asked (None: no more), or why nothing changed."""

    workshop: Workshop
    session: Session | None = None
    asking: Question | None = None
    problem: Problem | None = None
    changed: bool = True  # False: it was so already (closed twice, added twice)
    length: int = 0  # of a text too long
    limit: int = 0
    zone: tzinfo | None = None  # the zone dates are read and shown in for this user


@dataclass(frozen=True)
class Managed:
    """One workshop in /workshops: its counts, and its next session."""

    workshop: Workshop
    joined: int
    finished: int
    next_session: Session | None
    sessions: int
    zone: tzinfo  # the reader's, for its dates


@dataclass(frozen=True)
class SessionNotice:
    """What a session's invitation or reminder says, for one reader."""

    session: Session
    workshop: Workshop
    zone: tzinfo  # the reader's: the dates they read
    workshop_zone: tzinfo  # the place's: the calendar file's


def too_long(workshop: Workshop, text: str, asking: Question | None = None) -> Change:
    length = text_length(text)
    return Change(workshop, None, asking, Problem.TOO_LONG, False, length, MAX_PLACE_LENGTH)


class OrganiserService:
    """The organisers' use cases over one database."""

    def __init__(
        self,
        db: Database,
        *,
        organisers: frozenset[int],
        zone: tzinfo,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.organisers = organisers
        self.zone = zone
        self.clock = clock

    # -- roles -------------------------------------------------------------------

    def is_listed(self, user_id: int) -> bool:
        """Named in COOPBOT_ORGANISERS: may create workshops and add co-organisers."""
        return user_id in self.organisers

    async def managed(self, *, user_id: int, code: str) -> Workshop:
        """The workshop `code` opens, if `user_id` organises it."""
        found = await workshops.find_by_code(self.db, code=code) if looks_like_code(code) else None
        if found is None:
            raise UnknownWorkshop
        return await self._checked(user_id, found[0])

    async def managed_by_id(self, *, user_id: int, workshop_id: int) -> Workshop:
        """The workshop a button names, if `user_id` organises it (checked on every press)."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        if workshop is None:
            raise UnknownWorkshop
        return await self._checked(user_id, workshop)

    async def _checked(self, user_id: int, workshop: Workshop) -> Workshop:
        if not await workshops.is_organiser(self.db, workshop_id=workshop.id, user_id=user_id):
            raise NotAllowed
        return workshop

    # -- zones -------------------------------------------------------------------

    async def zone_of(self, *, user_id: int) -> tzinfo:
        """The zone the user reads dates in: their own, else the deployment's."""
        return zone_named(await users.timezone(self.db, user_id=user_id), self.zone)

    def workshop_zone(self, workshop: Workshop) -> tzinfo:
        """Where the workshop meets: its own zone, else the deployment's."""
        return zone_named(workshop.timezone, self.zone)

    async def reader_zone(self, user_id: int, workshop: Workshop) -> tzinfo:
        """The zone a workshop's dates are shown in to this user: their own, else the
        workshop's."""
        return await reader_zone(self.db, user_id=user_id, workshop=workshop, default=self.zone)

    async def timezone(self, *, user_id: int) -> str | None:
        """The zone the user chose, if any."""
        return await users.timezone(self.db, user_id=user_id)

    async def set_timezone(self, *, user_id: int, typed: str) -> str | None:
        """Set the user's own zone; the IANA name stored, or None when `typed` names none."""
        name = zone_name(typed)
        if name is not None:
            await users.set_timezone(self.db, user_id=user_id, timezone=name, now=self.clock())
        return name

    # -- /workshops --------------------------------------------------------------

    async def workshops(self, *, user_id: int) -> list[Managed]:
        """The workshops the user organises (closed ones too), newest first, with their
        counts and next session."""
        found = await workshops.organised_by(self.db, user_id=user_id)
        if not found and not self.is_listed(user_id):
            raise NotAllowed
        counts = await workshops.counts(self.db, workshop_ids=[w.id for w in found])
        now = self.clock()
        listed = []
        for workshop in found:
            planned = await sessions.of_workshop(self.db, workshop_id=workshop.id)
            coming = [s for s in planned if s.starts_at > now]
            joined, finished = counts.get(workshop.id, (0, 0))
            listed.append(
                Managed(
                    workshop,
                    joined,
                    finished,
                    coming[0] if coming else None,
                    len(planned),
                    await self.reader_zone(user_id, workshop),
                )
            )
        return listed

    async def sessions_of(
        self, *, user_id: int, workshop_id: int
    ) -> tuple[Workshop, list[Session], tzinfo]:
        """A workshop's sessions (not cancelled), and the zone to show them in."""
        workshop = await self.managed_by_id(user_id=user_id, workshop_id=workshop_id)
        found = await sessions.of_workshop(self.db, workshop_id=workshop_id)
        return workshop, found, await self.reader_zone(user_id, workshop)

    # -- /session ----------------------------------------------------------------

    async def session(
        self,
        *,
        user_id: int,
        code: str | None,
        words: Sequence[str],
        language: str,
        update_id: int | None = None,
    ) -> Change:
        """/session <code> <when> [place…] adds a session; /session <code> territory <text>
        sets the territory; /session <code> timezone <IANA name> the workshop's zone."""
        if code is None:
            raise UnknownWorkshop
        workshop = await self.managed(user_id=user_id, code=code)
        zone = self.workshop_zone(workshop)
        shown = await self.reader_zone(user_id, workshop)
        if not workshop.is_open:
            return Change(workshop, problem=Problem.CLOSED, changed=False, zone=shown)
        if not words:
            return Change(workshop, problem=Problem.USAGE, changed=False, zone=shown)
        keyword, rest = words[0].lower(), " ".join(words[1:]).strip()
        if keyword in TERRITORY_WORDS or keyword in ZONE_WORDS:
            return await self._setting(workshop, keyword, rest)
        read = split_when(words, language=language, now=self.clock(), zone=zone)
        if read is None:
            return Change(workshop, problem=Problem.UNREADABLE, changed=False, zone=shown)
        starts_at, after = read
        if starts_at <= self.clock():
            return Change(workshop, problem=Problem.PAST, changed=False, zone=shown)
        place = " ".join(after).strip() or None
        if place is not None and text_length(place) > MAX_PLACE_LENGTH:
            return too_long(workshop, place)
        added = await self.add_session(workshop, starts_at, place, user_id, update_id)
        return Change(workshop, session=added, zone=shown)

    async def _setting(self, workshop: Workshop, keyword: str, value: str) -> Change:
        zone = self.workshop_zone(workshop)
        if not value:
            return Change(workshop, problem=Problem.USAGE, changed=False, zone=zone)
        if keyword in ZONE_WORDS:
            name = zone_name(value)
            if name is None:
                return Change(workshop, problem=Problem.UNKNOWN_ZONE, changed=False, zone=zone)
            changed = await workshops.configure(self.db, workshop_id=workshop.id, timezone=name)
        else:
            if text_length(value) > MAX_PLACE_LENGTH:
                return too_long(workshop, value)
            changed = await workshops.configure(self.db, workshop_id=workshop.id, territory=value)
        now = await self._reread(workshop)
        return Change(now, changed=changed, zone=self.workshop_zone(now))

    async def add_session(
        self,
        workshop: Workshop,
        starts_at: datetime,
        place: str | None,
        user_id: int,
        update_id: int | None,
    ) -> Session:
        """A session and its three standing mailings: the invitation, the eve's reminder
        and the hour before's. Asked again by the same update, the same session; a
        mailing a crash left out is made then."""
        added = await sessions.add(
            self.db,
            workshop_id=workshop.id,
            starts_at=starts_at,
            ends_at=None,
            place=place,
            created_by=user_id,
            now=self.clock(),
            source_update_id=update_id,
        )
        made = {
            (m.kind, m.offset_rule)
            for m in await outbox.of_workshop(
                self.db,
                workshop_id=workshop.id,
                kinds=(MailingKind.INVITATION, MailingKind.SESSION_REMINDER),
            )
            if m.session_id == added.id
        }
        for kind, rule in SESSION_MAILINGS:
            if (kind.value, rule) in made:
                continue
            await outbox.create(
                self.db,
                workshop_id=workshop.id,
                kind=kind,
                due_at=self.clock(),
                now=self.clock(),
                session_id=added.id,
                offset_rule=rule,
                expires_at=added.starts_at,
                automatic=True,
                status=MailingStatus.OPEN,
                created_by=user_id,
            )
        return added

    # -- closing, the facilitator link, co-organisers --------------------------------

    async def close(
        self, *, user_id: int, code: str | None = None, workshop_id: int | None = None
    ) -> Change:
        """Close the workshop (once): it takes no more answers nor joins."""
        workshop = await self._named(user_id, code, workshop_id)
        changed = await workshops.close(self.db, workshop_id=workshop.id, now=self.clock())
        if changed:
            await audit.record(
                self.db,
                workshop_id=workshop.id,
                actor_id=user_id,
                action=AuditAction.CLOSED,
                now=self.clock(),
            )
        return Change(await self._reread(workshop), changed=changed)

    async def revoke(
        self,
        *,
        user_id: int,
        code: str | None = None,
        workshop_id: int | None = None,
        update_id: int | None = None,
        replacing: str | None = None,
    ) -> Change:
        """A new facilitator code in place of the old one, which then opens nothing. Once:
        a redelivered /revoke (`update_id`) or a second tap on a button made for the code
        it replaced (`replacing`, its first characters) changes nothing. Facilitators who
        joined keep their role."""
        workshop = await self._named(user_id, code, workshop_id)
        if replacing is not None and not workshop.facilitator_code.startswith(replacing):
            return Change(workshop, changed=False)
        changed = await workshops.replace_facilitator_code(
            self.db,
            workshop_id=workshop.id,
            expected=workshop.facilitator_code,
            code=new_code(),
            update_id=update_id,
            now=self.clock(),
        )
        if changed:
            await audit.record(
                self.db,
                workshop_id=workshop.id,
                actor_id=user_id,
                action=AuditAction.REVOKED,
                now=self.clock(),
            )
        return Change(await self._reread(workshop), changed=changed)

    async def _reread(self, workshop: Workshop) -> Workshop:
        found = await workshops.get(self.db, workshop_id=workshop.id)
        assert found is not None
        return found

    async def _named(self, user_id: int, code: str | None, workshop_id: int | None) -> Workshop:
        if workshop_id is not None:
            return await self.managed_by_id(user_id=user_id, workshop_id=workshop_id)
        if code is None:
            raise UnknownWorkshop
        return await self.managed(user_id=user_id, code=code)

    async def add_coorganiser(self, *, user_id: int, code: str | None, typed_id: str) -> Change:
        """Make the user `typed_id` names an organiser (and a facilitator) of the workshop:
        only organisers named in the settings, for a workshop they organise."""
        if code is None:
            raise UnknownWorkshop
        workshop = await self.managed(user_id=user_id, code=code)
        if not self.is_listed(user_id):
            raise NotListed
        if not typed_id.isdecimal() or not 0 < int(typed_id) < 2**52:  # Telegram's ids
            return Change(workshop, problem=Problem.NOT_A_USER, changed=False)
        other, now = int(typed_id), self.clock()
        added = await workshops.add_organiser(
            self.db, workshop_id=workshop.id, user_id=other, added_by=user_id, now=now
        )
        await workshops.add_facilitator(self.db, workshop_id=workshop.id, user_id=other, now=now)
        return Change(workshop, changed=added)

    # -- what sessions' messages say -----------------------------------------------

    async def notice(self, *, session_id: int, user_id: int) -> SessionNotice | None:
        """A session as one reader is told of it; None when it is cancelled or gone, or
        its workshop closed."""
        session = await sessions.get(self.db, session_id=session_id)
        if session is None or session.cancelled_at is not None:
            return None
        workshop = await workshops.get(self.db, workshop_id=session.workshop_id)
        if workshop is None or not workshop.is_open:
            return None
        reader = await self.reader_zone(user_id, workshop)
        return SessionNotice(session, workshop, reader, self.workshop_zone(workshop))
