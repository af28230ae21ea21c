"""Facilitators pace the workshop (phase 2, the agora) and moderate the agora's statements.
Every command names its workshop by code, or acts on the only one the user facilitates."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers import room
from bot.keyboards import parse_moderation_data
from bot.menus import english_words
from bot.views import moderation, phases, review
from bot.views.chat import Chat, chat_of
from bot.views.common import show_refusal, show_stale_button
from bot.views.room import close_room
from bot.views.syntheses import push_synthesis
from flows.errors import Ambiguous, NotAllowed
from flows.facilitation import Decision
from flows.kinds import AgoraMode, Phase
from flows.review import ReviewAction


def _split_args(args: list[str], keyword: str) -> tuple[bool, str | None]:
    """Whether the first argument is `keyword`, and the workshop code if one follows."""
    matched = bool(args) and args[0].lower() == keyword
    rest = args[1:] if matched else args
    return matched, (rest[0] if rest else None)


async def on_open(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/open peers [code]: open phase 2 of the workshop."""
    chat = await chat_of(update, context)
    is_peers, code = _split_args(english_words("open", context.args or []), "peers")
    if not is_peers:
        await phases.show_open_usage(chat)
        return
    try:
        change = await chat.runtime.facilitation.open_peers(user_id=chat.user_id, code=code)
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/open peers")
        return
    await phases.show_peers_opened(chat, change)


async def on_peers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/peers wait|follow [code]: whether phase 2 waits for /open peers or follows phase 1."""
    chat = await chat_of(update, context)
    args = english_words("peers", context.args or [])
    mode = args[0].lower() if args else ""
    if mode not in ("wait", "follow"):
        await phases.show_peers_usage(chat)
        return
    facilitation, code = chat.runtime.facilitation, (args[1] if len(args) > 1 else None)
    try:
        if mode == "follow":
            change = await facilitation.open_peers(user_id=chat.user_id, code=code)
        else:
            change = await facilitation.set_peers_waiting(user_id=chat.user_id, code=code)
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, f"/peers {mode}")
        return
    await phases.show_peers_mode(chat, change, waiting=mode == "wait")


async def on_agora(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/agora [code] opens the agora; /agora room [code] has the room pace it; /agora order
    <groups> [code] sets the order the room takes them in; /agora close [code] closes it."""
    args = english_words("agora", context.args or [])
    keyword = args[0].lower() if args else ""
    if keyword in ("room", "order"):
        await (room.open_room if keyword == "room" else room.order_room)(update, context, args[1:])
        return
    chat = await chat_of(update, context)
    closing, code = _split_args(args, "close")
    try:
        if closing:
            await _close_agora(chat, code)
            return
        change = await chat.runtime.facilitation.open_agora(user_id=chat.user_id, code=code)
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/agora close" if closing else "/agora")
        return
    if change.workshop.agora_open and change.workshop.agora_mode == AgoraMode.ROOM:
        await room.open_room(update, context, args)  # it follows the room: its control
    else:
        await phases.show_agora_opened(chat, change)


async def _close_agora(chat: Chat, code: str | None) -> None:
    facilitation = chat.runtime.facilitation
    change = await facilitation.close_agora(user_id=chat.user_id, code=code)
    if change.changed and change.workshop.agora_mode == AgoraMode.ROOM:
        change = await close_room(chat.runtime, chat.bot, change)
    if change.changed:
        await phases.announce_agora_closed(chat, change)
        found = await facilitation.report_of(change.workshop)
        await push_synthesis(chat.runtime, chat.bot, found, Phase.AGORA)
    await chat.send(phases.agora_closed_reply(change, chat.language))


async def on_statements(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/statements [code]: the agora's statements, numbered, with their status."""
    chat = await chat_of(update, context)
    code = context.args[0] if context.args else None
    try:
        workshop, found = await chat.runtime.facilitation.statements(
            user_id=chat.user_id, code=code
        )
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/statements")
        return
    await moderation.show_statements(chat, workshop, found)


async def on_withdraw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/withdraw <number> [code]: take a statement back from the agora."""
    await _decide_by_number(update, context, Decision.WITHDRAW, "/withdraw")


async def on_approve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/approve <number> [code]: put a new statement to everyone (as its ✅ button does)."""
    await _decide_by_number(update, context, Decision.APPROVE, "/approve")


async def on_reject(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reject <number> [code]: keep a new statement out of the agora."""
    await _decide_by_number(update, context, Decision.REJECT, "/reject")


async def _decide_by_number(
    update: Update, context: ContextTypes.DEFAULT_TYPE, decision: Decision, command: str
) -> None:
    chat = await chat_of(update, context)
    args = context.args or []
    if not args or not args[0].isdecimal():
        await moderation.show_decision_usage(chat, command)
        return
    try:
        reviewed = await chat.runtime.review.decide_by_number(
            user_id=chat.user_id,
            code=args[1] if len(args) > 1 else None,
            number=int(args[0]),
            decision=decision,
        )
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, f"{command} {args[0]}")
        return
    await moderation.show_decided_by_number(chat, reviewed, decision, args[0])


async def on_moderation_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Approve, reject or withdraw from a moderation message sent before the review queue
    had batches (one statement per message): as the batches' buttons do."""
    chat = await chat_of(update, context)
    query = update.callback_query
    button = parse_moderation_data(query.data or "") if query is not None else None
    if button is None:
        await show_stale_button(chat)
        return
    reviewed = await chat.runtime.review.press(
        user_id=chat.user_id,
        statement_id=button.statement_id,
        action=ReviewAction(button.action),
        chat_id=chat.chat_id,
        message_id=chat.pressed_message_id(),
    )
    await review.show_pressed(chat, reviewed)
