"""People's rights over their data: /mydata sends it all, /forget erases it all."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.keyboards import is_forget_confirmed
from bot.views import privacy
from bot.views.chat import chat_of


async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mydata: everything stored about the user, as a JSON file."""
    chat = await chat_of(update, context)
    data = await chat.runtime.service.personal_data(user_id=chat.user_id)
    await privacy.send_personal_data(chat, data)


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: ask for confirmation before erasing."""
    await privacy.ask_to_forget(await chat_of(update, context))


async def on_forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirmation of /forget: erase everything, or nothing."""
    chat = await chat_of(update, context)
    query = update.callback_query
    if query is None or not is_forget_confirmed(query.data or ""):
        await privacy.show_kept(chat)
        return
    await privacy.erase_everything(chat)
