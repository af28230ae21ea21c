"""The agora paced by the room: `/agora room`, `/agora order`, the control buttons, the
resolutions' cards and the answers typed for them, `/resolutions` and `/cancel`."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.handlers import decantation as decantation_handlers
from bot.handlers import organiser as organiser_handlers
from bot.keyboards import parse_resolution_data, parse_room_data
from bot.menus import names
from bot.runtime import runtime
from bot.views import resolutions, room_control
from bot.views.chat import chat_of
from bot.views.common import show_refusal, show_stale_button
from flows.errors import Ambiguous, NotAllowed


async def open_room(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    """/agora room [code]: the agora opened (or switched) to be paced by the room."""
    chat = await chat_of(update, context)
    try:
        change = await chat.runtime.room.open(user_id=chat.user_id, code=args[0] if args else None)
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/agora room")
        return
    await room_control.show_room_opened(chat, change)


async def order_room(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    """/agora order <categories, comma-separated> [code]: the order of restitution."""
    chat = await chat_of(update, context)
    try:
        ordered = await chat.runtime.room.set_order(user_id=chat.user_id, words=args)
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/agora order")
        return
    await room_control.show_order(chat, ordered)


async def on_room_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Next, previous, close the vote, mark a convergence: a facilitator's control."""
    chat = await chat_of(update, context)
    query = update.callback_query
    button = parse_room_data(query.data or "") if query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    try:
        change = await chat.runtime.room.press(
            user_id=chat.user_id,
            workshop_id=button.workshop_id,
            shown_id=button.statement_id,
            action=button.action,
        )
    except NotAllowed:
        await room_control.show_not_allowed(chat)
        return
    if change.converged is not None:
        await resolutions.show_converged(chat, change)
    else:
        await room_control.show_room_press(chat, change)


async def on_resolution_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reformulate, carrier, due date, done: a resolution's card."""
    chat = await chat_of(update, context)
    query = update.callback_query
    button = parse_resolution_data(query.data or "") if query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    try:
        card = await chat.runtime.resolutions.press(
            user_id=chat.user_id,
            resolution_id=button.resolution_id,
            action=button.action,
            category=button.category,
            card_message_id=chat.pressed_message_id(),
        )
    except NotAllowed:
        card = None
    await resolutions.show_card(chat, card)


async def on_awaited_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message that answers a resolution's card, an organiser's question or a
    follow-up (then
    nothing else handles it); when nothing is awaited, it goes on to the participants'
    handler."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or message.text is None:
        return
    service = runtime(context).resolutions
    if await service.redelivered(user_id=user.id, update_id=update.update_id):
        raise ApplicationHandlerStop  # handled once already: a duplicate, nothing more
    if await organiser_handlers.answer_awaited(update, context):  # a /newsession question
        raise ApplicationHandlerStop
    await decantation_handlers.on_followup_text(update, context)  # stops if it answers one
    awaited = await service.awaited(user_id=user.id)
    if awaited is None:
        return
    chat = await chat_of(update, context)
    answered = await service.answer(
        user_id=chat.user_id,
        awaited=awaited,
        text=message.text,
        language=chat.language,
        update_id=update.update_id,
    )
    await resolutions.show_answered(chat, answered)
    raise ApplicationHandlerStop


async def on_any_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any command forgets what the user's next message would have answered; /cancel says
    so (and stops there)."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    cancelled = await runtime(context).resolutions.cancel(user_id=user.id)
    command = (message.text or "").split()[0].split("@")[0].lower() if message.text else ""
    if command.removeprefix("/") in names("cancel"):
        await resolutions.show_cancelled(await chat_of(update, context), cancelled)
        raise ApplicationHandlerStop


async def on_resolutions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resolutions [code]: the workshop's resolutions, with carriers and due dates."""
    chat = await chat_of(update, context)
    try:
        workshop, found = await chat.runtime.resolutions.of_workshop(
            user_id=chat.user_id, code=context.args[0] if context.args else None
        )
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/resolutions")
        return
    await resolutions.show_resolutions(chat, workshop, found)
