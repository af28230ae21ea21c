"""The live screen: `/screen [code]` and the buttons under its link."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.screen_keyboards import parse_screen_data
from bot.views import screen
from bot.views.chat import chat_of
from bot.views.common import show_refusal, show_stale_button
from flows.errors import Ambiguous, NotAllowed


async def on_screen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/screen [code]: the workshop's live screen address, issued if it has none."""
    chat = await chat_of(update, context)
    args = context.args or []
    code = args[0] if args else None
    try:
        change = await chat.runtime.screens.link(
            user_id=chat.user_id, code=code, language=chat.language
        )
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/screen")
        return
    await screen.show_link(chat, change)


async def on_screen_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on "New link" or "Revoke" under a live screen's address."""
    chat = await chat_of(update, context)
    button = parse_screen_data(chat.query.data or "") if chat.query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    screens = chat.runtime.screens
    try:
        if button.action == "renew":
            renewed = await screens.renew(
                user_id=chat.user_id, link_id=button.link_id, language=chat.language
            )
            await screen.show_renewed(chat, renewed)
        else:
            revoked = await screens.revoke(user_id=chat.user_id, link_id=button.link_id)
            await screen.show_revoked(chat, revoked)
    except (NotAllowed, Ambiguous) as error:
        await chat.note()
        await show_refusal(chat, error, "/screen")
