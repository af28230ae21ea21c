"""Why a use case refused: raised by `flows`, turned into a reply by the bot."""

from __future__ import annotations

from storage.models import Workshop


class NotAllowed(Exception):
    """The user's role does not allow this action."""


class Ambiguous(Exception):
    """The user facilitates several workshops and did not say which one."""

    def __init__(self, choices: list[Workshop]) -> None:
        super().__init__("several workshops")
        self.choices = choices
