"""Organisers create workshops; facilitators follow them. Roles are checked on every action
by the use cases, which refuse with `NotAllowed`."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.views import board, organiser
from bot.views.chat import chat_of
from flows.board import Board
from flows.errors import NotAllowed


async def on_newsession(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/newsession <title>: organisers only; replies with the links and a QR code."""
    chat = await chat_of(update, context)
    service = chat.runtime.service
    if not service.is_organiser(chat.user_id):
        await board.show_not_organiser(chat)
        return
    title = " ".join(context.args or []).strip()
    problem = board.title_problem(title, chat.language)
    if problem is not None:
        await chat.send(problem)
        return
    workshop = await service.create_workshop(
        organiser_id=chat.user_id, title=title, update_id=update.update_id
    )
    await board.show_created(chat, workshop)
    change = await chat.runtime.creation.ask_first(user_id=chat.user_id, workshop=workshop)
    await organiser.ask(chat, change)  # the first session's date, its place, the territory


async def on_progress(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/progress: a participant's own place; a facilitator's live board; /progress <code>
    for one workshop, facilitators of it only."""
    chat = await chat_of(update, context)
    service = chat.runtime.service
    code = context.args[0] if context.args else None
    mine = await service.participant_progress(user_id=chat.user_id) if code is None else None
    boards: list[Board] | None
    try:
        boards = await service.board(user_id=chat.user_id, code=code)
    except NotAllowed:  # asked for a workshop they do not facilitate, or facilitate none
        boards = None if code is not None else []
    await board.show_progress(chat, mine, boards)
