"""Organisers manage their workshops: /workshops and its buttons, /session, closing a
workshop, a new facilitator link, co-organisers; and anyone's /timezone."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.views.chat import chat_of
from bot.views.common import show_stale_button


async def on_workshops(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/workshops: the organiser's workshops, with their counts, state and buttons."""


async def on_session(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/session <code> ...: add a dated session, or set the workshop's place and territory."""


async def on_close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/close <code>: the workshop takes no more answers."""


async def on_revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/revoke <code>: the facilitator link stops working; a new one is issued."""


async def on_coorganiser(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/coorganiser <code> <user id>: add a co-organiser to one workshop."""


async def on_timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone [name]: the user's own time zone for reminders and dates."""


async def on_organiser_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_stale_button(await chat_of(update, context))


async def on_timezone_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_stale_button(await chat_of(update, context))
