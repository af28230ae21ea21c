"""Broadcasts (/broadcast, /annonce): the preview with its number of recipients and its
confirmation button, and the message each participant receives."""

from __future__ import annotations

from bot.views.chat import Chat
from reports.text import escape
from storage.outbox import Claimed


async def send_broadcast(chat: Chat, item: Claimed) -> int | None:
    """One broadcast to one participant."""
    sent = await chat.send("📣 " + escape(item.mailing.text or ""))
    return sent.message_id if sent else None
