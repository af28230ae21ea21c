"""Facilitators and the review queue: /review to see it or turn it on or off, and the
buttons of its batches (approve, reject, merge, approve all)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.keyboards import parse_review_data
from bot.menus import english_words
from bot.views import review as review_views
from bot.views.chat import chat_of
from bot.views.common import show_refusal, show_stale_button
from flows.errors import Ambiguous, NotAllowed

_SWITCHES = {"on": True, "off": False}


async def on_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/review [code] shows the queue; /review on|off [code] turns review on or off."""
    chat = await chat_of(update, context)
    args = english_words("review", context.args or [])
    switch = args[0].lower() if args and args[0].lower() in _SWITCHES else None
    rest = args[1:] if switch else args
    if len(rest) > 1:
        await review_views.show_review_usage(chat)
        return
    code, review = (rest[0] if rest else None), chat.runtime.review
    try:
        if switch is None:
            workshop = await review.workshop(user_id=chat.user_id, code=code)
        else:
            changed = await review.set_review(user_id=chat.user_id, code=code, on=_SWITCHES[switch])
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, f"/review {switch}" if switch else "/review")
        return
    if switch is None:
        await review_views.show_queue(chat, workshop)
    else:
        await review_views.show_review_switch(chat, changed)


async def on_review_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of a review batch: approve, reject, merge (choose, then into), approve all."""
    chat = await chat_of(update, context)
    button = parse_review_data(chat.query.data or "") if chat.query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    reviewed = await chat.runtime.review.press(
        user_id=chat.user_id,
        statement_id=button.statement_id,
        action=button.action,
        into_id=button.into_id,
        chat_id=chat.chat_id,
        message_id=chat.pressed_message_id(),
    )
    await review_views.show_pressed(chat, reviewed)
