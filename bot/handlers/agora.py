"""The agora, participant side: a vote button pressed."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.keyboards import parse_vote_data
from bot.views.agora import show_vote
from bot.views.chat import chat_of
from bot.views.common import show_stale_button


async def on_vote_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Agree, disagree or pass under a statement; pressing another button changes the vote."""
    chat = await chat_of(update, context)
    query = update.callback_query
    button = parse_vote_data(query.data or "") if query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    voted = await chat.runtime.agora.vote(
        user_id=chat.user_id,
        update_id=update.update_id,
        statement_id=button.statement_id,
        value=button.value,
    )
    await show_vote(chat, voted)
