"""Reminders set with /remind: what participants receive, and what organisers and
facilitators see when they set, list and cancel them."""

from __future__ import annotations

from bot.views.chat import Chat
from reports.text import escape
from storage.outbox import Claimed


async def send_reminder(chat: Chat, item: Claimed) -> int | None:
    """One reminder to one participant, in their language."""
    sent = await chat.send("⏰ " + escape(item.mailing.text or ""))
    return sent.message_id if sent else None
