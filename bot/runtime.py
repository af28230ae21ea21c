"""What handlers reach through the context: settings, the journey, and the running service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram.ext import ContextTypes, JobQueue

from bot.faults import Faults
from bot.settings import Settings
from flows.agora import AgoraService
from flows.audit import AuditService
from flows.caucus import CaucusService
from flows.decantation import DecantationService
from flows.engine import JourneyEngine
from flows.facilitation import FacilitationService
from flows.journey import Journey
from flows.mailings import MailingService
from flows.newsession import CreationQuestions
from flows.organising import OrganiserService
from flows.outbox import OutboxService
from flows.quotes import QuoteService
from flows.resolutions import ResolutionService
from flows.retention import RetentionService
from flows.review import ReviewService
from flows.room import RoomService
from flows.screen import ScreenService
from flows.service import WorkshopService
from storage.db import Database, utc_now

if TYPE_CHECKING:
    from bot.web.server import WebScreen

RUNTIME_KEY = "coopbot"


@dataclass
class LiveBoard:
    """A facilitator's board message, edited in place while participants answer."""

    workshop_id: int
    language: str
    content: str  # the board as last shown, without its time line
    until: datetime


@dataclass
class RoomPace:
    """How a room's control messages are kept live while votes come in: edited at most
    once a second each (Telegram's limit per chat), the last change always shown."""

    last_refresh: float = 0.0  # when they were last edited (event loop time)
    pending: bool = False  # a refresh is scheduled
    refreshing: bool = False  # a refresh is under way
    shown: dict[tuple[int, int], str] = field(default_factory=dict)  # as last shown
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one sync of its phones at once

    @property
    def busy(self) -> bool:
        return self.pending or self.refreshing


@dataclass
class Runtime:
    """What handlers need: settings, the journey, and (once started) the service."""

    settings: Settings
    journey: Journey
    engine: JourneyEngine
    database: Database | None = None
    service_: WorkshopService | None = field(default=None, repr=False)
    agora_: AgoraService | None = field(default=None, repr=False)
    facilitation_: FacilitationService | None = field(default=None, repr=False)
    # (chat id, message id) -> the board it shows; kept in memory: after a restart, the
    # next /progress starts a new one.
    live_boards: dict[tuple[int, int], LiveBoard] = field(default_factory=dict)
    room_: RoomService | None = field(default=None, repr=False)
    resolutions_: ResolutionService | None = field(default=None, repr=False)
    jobs: JobQueue | None = field(default=None, repr=False)  # type: ignore[type-arg]
    # workshop id -> the pace of its room's control messages (in memory: after a restart
    # the next change edits them).
    rooms: dict[int, RoomPace] = field(default_factory=dict)
    caucus_: CaucusService | None = field(default=None, repr=False)
    review_: ReviewService | None = field(default=None, repr=False)
    # Show the review queue's new statements a few seconds from now, in one batch (set by
    # bot.jobs.schedule; a no-op until then).
    review_soon: Callable[[], None] = field(default=lambda: None, repr=False)
    # One review batch sent at a time: a statement is never shown twice as new.
    review_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # participant id -> the lock around their one caucus or agora message: their own vote
    # and a facilitator's approval, handled side by side, must not both send it.
    ballots: dict[int, asyncio.Lock] = field(default_factory=dict, repr=False)

    outbox_: OutboxService | None = field(default=None, repr=False)
    # This process among the workers sharing the database: its claims of deliveries are
    # its own while it lives.
    worker: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    # What "now" is for the outbox and the follow-up (the tests move it: quiet hours, the
    # eve of a session).
    clock: Callable[[], datetime] = field(default=utc_now, repr=False)
    # Look for due deliveries now (set by bot.app.open_services; a no-op until then).
    wake_outbox: Callable[[], None] = field(default=lambda: None, repr=False)
    # The outbox's sender (`bot.outbox.Outbox`), once started.
    sender: Any = field(default=None, repr=False)
    # How many workers share the database (and Telegram's limit), as last counted.
    workers_sharing: int = 1
    organising_: OrganiserService | None = field(default=None, repr=False)
    creation_: CreationQuestions | None = field(default=None, repr=False)
    decantation_: DecantationService | None = field(default=None, repr=False)

    mailings_: MailingService | None = field(default=None, repr=False)
    audit_: AuditService | None = field(default=None, repr=False)
    retention_: RetentionService | None = field(default=None, repr=False)
    # The faults met since the start (`bot.faults`), for the log and `/health`.
    faults: Faults = field(default_factory=Faults, repr=False)
    screens_: ScreenService | None = field(default=None, repr=False)
    # The live screen's web server (`bot.web.server`), when COOPBOT_WEB_LISTEN is set.
    web: WebScreen | None = field(default=None, repr=False)
    quotes_: QuoteService | None = field(default=None, repr=False)

    def ballot(self, participant_id: int) -> asyncio.Lock:
        """The lock to hold while deciding and sending what a participant's one caucus or
        agora message shows."""
        return self.ballots.setdefault(participant_id, asyncio.Lock())

    @property
    def service(self) -> WorkshopService:
        if self.service_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.service_

    @property
    def agora(self) -> AgoraService:
        if self.agora_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.agora_

    @property
    def facilitation(self) -> FacilitationService:
        if self.facilitation_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.facilitation_

    @property
    def room(self) -> RoomService:
        if self.room_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.room_

    @property
    def resolutions(self) -> ResolutionService:
        if self.resolutions_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.resolutions_

    @property
    def caucus(self) -> CaucusService:
        if self.caucus_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.caucus_

    @property
    def outbox(self) -> OutboxService:
        if self.outbox_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.outbox_

    @property
    def decantation(self) -> DecantationService:
        if self.decantation_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.decantation_

    @property
    def creation(self) -> CreationQuestions:
        if self.creation_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.creation_

    @property
    def organising(self) -> OrganiserService:
        if self.organising_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.organising_

    @property
    def mailings(self) -> MailingService:
        if self.mailings_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.mailings_

    @property
    def audit(self) -> AuditService:
        if self.audit_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.audit_

    @property
    def retention(self) -> RetentionService:
        if self.retention_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.retention_

    @property
    def screens(self) -> ScreenService:
        if self.screens_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.screens_

    @property
    def quotes(self) -> QuoteService:
        if self.quotes_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.quotes_

    @property
    def review(self) -> ReviewService:
        if self.review_ is None:
            raise RuntimeError("the application was not started with open_services()")
        return self.review_


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    value = context.application.bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value
