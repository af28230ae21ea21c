"""Flood control: the first handler every update meets (group -2 of `app.route`).

More than `COOPBOT_FLOOD_LIMIT` updates from one user in its window get one "slow down"
reply; the rest of the burst stops here, before any handler reads or writes anything.
The counts live in memory (`flows.throttle`): the bot runs as one process.
"""

from __future__ import annotations

import time

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.runtime import runtime
from bot.views import common
from bot.views.chat import chat_of
from flows.throttle import SlidingWindow

FLOOD_KEY = "flood"  # in bot_data: the window of updates per user


async def on_any_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let the update through, or drop it (after one reply per burst)."""
    user = update.effective_user
    settings = runtime(context).settings
    if user is None or not settings.flood_limit:
        return
    window = context.bot_data.get(FLOOD_KEY)
    if not isinstance(window, SlidingWindow):
        window = SlidingWindow(limit=settings.flood_limit, period=settings.flood_period)
        context.bot_data[FLOOD_KEY] = window
    count = window.hit(user.id, time.monotonic())
    if count <= window.limit:
        return
    try:
        chat = update.effective_chat
        if count == window.limit + 1 and chat is not None and chat.type == ChatType.PRIVATE:
            await common.show_slow_down(await chat_of(update, context))
    finally:  # even if the reply failed: the update goes no further
        raise ApplicationHandlerStop
