"""Why a use case refused: raised by `flows`, turned into a reply by the bot."""

from __future__ import annotations

from datetime import datetime

from storage.models import Workshop


class NotAllowed(Exception):
    """The user's role does not allow this action."""


class Ambiguous(Exception):
    """The user facilitates several workshops and did not say which one."""

    def __init__(self, choices: list[Workshop]) -> None:
        super().__init__("several workshops")
        self.choices = choices


class Erased(NotAllowed):
    """The workshop's retention period is over: its participants' data was erased."""

    def __init__(self, workshop: Workshop, erased_at: datetime) -> None:
        super().__init__("erased")
        self.workshop = workshop
        self.erased_at = erased_at
