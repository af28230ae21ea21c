"""The report for elected officials: /quotes, its buttons, and /report. Every one checks,
through its use case, that the user facilitates the workshop."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.quote_keyboards import BrowseButton, PickButton, parse_quote_data
from bot.views import quotes as views
from bot.views.chat import Chat, chat_of
from bot.views.common import show_refusal, show_stale_button
from flows.errors import Ambiguous, NotAllowed
from flows.quotes import Picked, QuoteIndex, QuotePage


async def on_quotes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quotes [code]: the questions with candidate quotes, to choose those the report shows."""
    chat = await chat_of(update, context)
    try:
        index = await chat.runtime.quotes.index(
            user_id=chat.user_id, code=context.args[0] if context.args else None
        )
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/quotes")
        return
    await views.show_quotes(chat, index)


async def on_quote_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /quotes button: a question's page, the list of questions, or a quote chosen for
    the report (or taken back)."""
    chat = await chat_of(update, context)
    button = parse_quote_data(chat.query.data or "") if chat.query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    try:
        if isinstance(button, PickButton):
            await views.show_picked(chat, await _pick(chat, button, update.update_id))
        else:
            await views.show_browsed(chat, await _browse(chat, button))
    except NotAllowed:
        await views.show_quote_refused(chat)


async def _pick(chat: Chat, button: PickButton, update_id: int) -> Picked:
    return await chat.runtime.quotes.pick(
        user_id=chat.user_id,
        answer_id=button.answer_id,
        chosen=button.choose,
        page=button.page,
        update_id=update_id,
    )


async def _browse(chat: Chat, button: BrowseButton) -> QuotePage | QuoteIndex:
    return await chat.runtime.quotes.browse(
        user_id=chat.user_id,
        workshop_id=button.workshop_id,
        key=button.key,
        category=button.category,
        page=button.page,
    )


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report [code]: the report for elected officials, as an editable document."""
    chat = await chat_of(update, context)
    try:
        conclusions = await chat.runtime.quotes.conclusions(
            user_id=chat.user_id, code=context.args[0] if context.args else None
        )
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/report")
        return
    await views.send_report(chat, conclusions)
    if conclusions.answered:
        await chat.runtime.audit.exported(
            user_id=chat.user_id, workshop=conclusions.report.workshop, update_id=update.update_id
        )
