"""Reminders and broadcasts: /remind, /reminders, /broadcast (/annonce), and their buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.views.chat import chat_of
from bot.views.common import show_stale_button


async def on_remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remind <code> <when> <text>."""


async def on_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reminders <code>: the workshop's reminders, each with a cancel button."""


async def on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/broadcast <code> <text> (also /annonce): a preview, then a confirmation button."""


async def on_mailing_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_stale_button(await chat_of(update, context))
