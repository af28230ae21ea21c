"""The caucus: members vote on their group's statements; facilitators set it up."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.keyboards import parse_caucus_data
from bot.menus import english_words
from bot.views import caucus
from bot.views.chat import chat_of
from bot.views.common import show_refusal, show_stale_button
from flows.caucus import read_command
from flows.errors import Ambiguous, NotAllowed


async def on_caucus_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Agree, disagree or pass on a statement of one's group, in its caucus."""
    chat = await chat_of(update, context)
    query = update.callback_query
    button = parse_caucus_data(query.data or "") if query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    voted = await chat.runtime.caucus.vote(
        user_id=chat.user_id,
        update_id=update.update_id,
        statement_id=button.statement_id,
        value=button.value,
    )
    await caucus.show_caucus_vote(chat, voted)


async def on_caucus(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/caucus [on|off|keep N|commitments N] [code]: the groups' choice, set or shown."""
    chat = await chat_of(update, context)
    command = read_command(english_words("caucus", context.args or []))
    if command is None:
        await caucus.show_caucus_usage(chat)
        return
    try:
        setting = await chat.runtime.caucus.configure(user_id=chat.user_id, command=command)
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, " ".join(["/caucus", *(context.args or [])]))
        return
    await caucus.show_caucus_setting(chat, setting)
