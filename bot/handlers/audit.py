"""/audit <code>: who did what to a workshop, for its organisers."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.views import audit, organiser
from bot.views.chat import chat_of
from flows.errors import NotAllowed


async def on_audit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/audit <code>: the workshop's latest recorded actions; organisers only."""
    chat = await chat_of(update, context)
    if not context.args:
        await organiser.show_usage(chat, "audit")
        return
    try:
        found = await chat.runtime.audit.log(user_id=chat.user_id, code=context.args[0])
    except NotAllowed as error:
        await organiser.show_refused(chat, error)
        return
    await audit.show_audit(chat, found)
