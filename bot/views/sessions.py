"""A workshop's sessions: the invitation with its calendar file, and the automatic
reminders of the eve and the hour before."""

from __future__ import annotations

from bot.views.chat import Chat
from storage.outbox import Claimed


async def send_invitation(chat: Chat, item: Claimed) -> int | None:
    """A session's invitation, with its `.ics`, to one participant."""
    return None


async def send_session_reminder(chat: Chat, item: Claimed) -> int | None:
    """A session's reminder (the eve, or the hour before) to one participant."""
    return None
