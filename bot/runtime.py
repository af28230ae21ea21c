"""What handlers reach through the context: settings, the journey, and the running service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from telegram.ext import ContextTypes

from bot.settings import Settings
from flows.agora import AgoraService
from flows.engine import JourneyEngine
from flows.facilitation import FacilitationService
from flows.journey import Journey
from flows.service import WorkshopService
from storage.db import Database

RUNTIME_KEY = "coopbot"


@dataclass
class LiveBoard:
    """A facilitator's board message, edited in place while participants answer."""

    workshop_id: int
    language: str
    content: str  # the board as last shown, without its time line
    until: datetime


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


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    value = context.application.bot_data[RUNTIME_KEY]
    assert isinstance(value, Runtime)
    return value
