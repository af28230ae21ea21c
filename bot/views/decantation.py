"""The décantation: the ninth moment sent some days after a participant finished, with
their commitments recalled; its one reminder; and the follow-up of resolutions and
commitments."""

from __future__ import annotations

from bot.views.chat import Chat
from storage.outbox import Claimed


async def send_decantation(chat: Chat, item: Claimed) -> int | None:
    """The ninth moment's first prompt, with the participant's commitments recalled."""
    return None


async def send_decantation_reminder(chat: Chat, item: Claimed) -> int | None:
    """Once, if the ninth moment is still unanswered."""
    return None


async def send_followup(chat: Chat, item: Claimed) -> int | None:
    """A carrier or author asked where they stand."""
    return None
