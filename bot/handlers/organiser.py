"""Organisers manage their workshops: /workshops and its buttons, /session, closing a
workshop, a new facilitator link, co-organisers; and anyone's /timezone."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.organising_keyboards import parse_organiser_data, parse_timezone_data
from bot.runtime import runtime
from bot.views import board, organiser
from bot.views.chat import Chat, chat_of
from bot.views.common import show_stale_button
from flows.errors import NotAllowed
from flows.organising import Question

QUESTIONS = {question.value for question in Question}


async def on_workshops(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/workshops: the organiser's workshops, with their counts, state and buttons."""
    chat = await chat_of(update, context)
    try:
        managed = await chat.runtime.organising.workshops(user_id=chat.user_id)
    except NotAllowed:
        await board.show_not_organiser(chat)
        return
    await organiser.show_workshops(chat, managed)


async def on_session(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/session <code> ...: add a dated session, or set the workshop's territory or zone."""
    chat = await chat_of(update, context)
    args = context.args or []
    if not args:
        await organiser.show_usage(chat, "session")
        return
    try:
        change = await chat.runtime.organising.session(
            user_id=chat.user_id,
            code=args[0],
            words=args[1:],
            language=chat.language,
            update_id=update.update_id,
        )
    except NotAllowed as error:
        await organiser.show_refused(chat, error)
        return
    await organiser.show_session(chat, change)
    chat.runtime.wake_outbox()


async def on_close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/close <code>: the workshop takes no more answers."""
    chat = await chat_of(update, context)
    if not context.args:
        await organiser.show_usage(chat, "close")
        return
    try:
        change = await chat.runtime.organising.close(user_id=chat.user_id, code=context.args[0])
    except NotAllowed as error:
        await organiser.show_refused(chat, error)
        return
    await organiser.show_closed(chat, change)


async def on_revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/revoke <code>: the facilitator link stops working; a new one is issued."""
    chat = await chat_of(update, context)
    if not context.args:
        await organiser.show_usage(chat, "revoke")
        return
    try:
        change = await chat.runtime.organising.revoke(
            user_id=chat.user_id, code=context.args[0], update_id=update.update_id
        )
    except NotAllowed as error:
        await organiser.show_refused(chat, error)
        return
    await organiser.show_revoked(chat, change)


async def on_coorganiser(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/coorganiser <code> <user id>: add a co-organiser to one workshop."""
    chat = await chat_of(update, context)
    args = context.args or []
    if len(args) != 2:
        await organiser.show_usage(chat, "coorganiser")
        return
    try:
        change = await chat.runtime.organising.add_coorganiser(
            user_id=chat.user_id, code=args[0], typed_id=args[1]
        )
    except NotAllowed as error:
        await organiser.show_refused(chat, error)
        return
    await organiser.show_coorganiser(chat, change, args[1])


async def on_timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone [name]: the user's own time zone for reminders and dates."""
    chat = await chat_of(update, context)
    service = chat.runtime.organising
    if not context.args:
        await organiser.show_timezones(chat, await service.timezone(user_id=chat.user_id))
        return
    name = await service.set_timezone(user_id=chat.user_id, typed=" ".join(context.args))
    await organiser.show_timezone_set(chat, name)


async def on_organiser_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A workshop's button in /workshops, or a question's skip button; the role is checked
    again on every press."""
    chat = await chat_of(update, context)
    query = update.callback_query
    button = parse_organiser_data(query.data or "") if query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    try:
        await _press(chat, button.action, button.workshop_id, button.question)
    except NotAllowed as error:
        await organiser.show_refused(chat, error)


async def _press(chat: Chat, action: str, workshop_id: int, question: str | None) -> None:
    service, user_id = chat.runtime.organising, chat.user_id
    if action == "skip":
        if question not in QUESTIONS:
            await show_stale_button(chat)
            return
        change = await chat.runtime.creation.skip(
            user_id=user_id, workshop_id=workshop_id, question=Question(question)
        )
        await organiser.show_answer(chat, change)
        chat.runtime.wake_outbox()
    elif action == "closeyes":
        await organiser.show_closed(
            chat, await service.close(user_id=user_id, workshop_id=workshop_id)
        )
    elif action == "revoke":
        change = await service.revoke(
            user_id=user_id, workshop_id=workshop_id, replacing=question or ""
        )
        await organiser.show_revoked(chat, change)
    elif action == "sessions":
        await organiser.show_sessions(
            chat, *await service.sessions_of(user_id=user_id, workshop_id=workshop_id)
        )
    else:
        workshop = await service.managed_by_id(user_id=user_id, workshop_id=workshop_id)
        show = {"link": organiser.show_join_link, "close": organiser.show_close_confirmation}
        await show.get(action, organiser.show_kept)(chat, workshop)


async def on_timezone_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A common time zone chosen from /timezone's buttons."""
    chat = await chat_of(update, context)
    query = update.callback_query
    typed = parse_timezone_data(query.data or "") if query is not None else None
    if typed is None:
        await show_stale_button(chat)
        return
    name = await chat.runtime.organising.set_timezone(user_id=chat.user_id, typed=typed)
    await organiser.show_timezone_set(chat, name)


async def answer_awaited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A typed message that answers a question of /newsession (the first session's date
    and time, its place, the territory); False when none is asked."""
    user, message = update.effective_user, update.effective_message
    service = runtime(context).creation
    awaited = await service.awaited(user_id=user.id) if user is not None else None
    if awaited is None or message is None or message.text is None:
        return False
    chat = await chat_of(update, context)
    try:
        change = await service.answer(
            user_id=chat.user_id,
            awaited=awaited,
            text=message.text,
            language=chat.language,
            update_id=update.update_id,
        )
    except NotAllowed as error:
        await organiser.show_refused(chat, error)
        return True
    await organiser.show_answer(chat, change)
    chat.runtime.wake_outbox()
    return True
