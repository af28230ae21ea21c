"""/health: uptime, database size, queues and the last fault, for organisers."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.views import health as view
from bot.views.chat import chat_of
from flows import health
from flows.errors import NotAllowed


async def on_health(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/health: how the bot is doing; organisers only."""
    chat = await chat_of(update, context)
    state = chat.runtime
    assert state.database is not None
    try:
        found = await health.read(
            state.database,
            user_id=chat.user_id,
            organisers=state.settings.organisers,
            default_zone=state.settings.timezone,
            now=state.clock(),
        )
    except NotAllowed:
        await view.show_not_allowed(chat)
        return
    waiting = context.application.update_queue.qsize()
    await view.show_health(chat, found, state.faults, waiting=waiting)
