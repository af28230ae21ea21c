"""Help, language, and every input that is not an answer: media, edits, unknown commands,
unknown buttons, and errors."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import ContextTypes

from bot.faults import Kind, kind_of, was_saved
from bot.keyboards import parse_language_data
from bot.runtime import runtime
from bot.views import common
from bot.views.chat import chat_of
from bot.views.common import Unsupported
from bot.views.faults import show_fault

log = logging.getLogger(__name__)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot does and the commands for the user's role."""
    chat = await chat_of(update, context)
    service = chat.runtime.service
    await common.show_help(
        chat,
        facilitator=bool(await service.facilitated(user_id=chat.user_id)),
        organiser=service.is_organiser(chat.user_id),
    )


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: offer the languages as buttons."""
    await common.show_languages(await chat_of(update, context))


async def on_language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language button: remember it, and show the current question in that language."""
    chat = await chat_of(update, context)
    query = update.callback_query
    language = parse_language_data(query.data or "") if query is not None else None
    if language is None:
        await common.show_stale_button(chat)
        return
    service = chat.runtime.service
    await service.set_language(user_id=chat.user_id, language=language)
    organiser = service.is_organiser(chat.user_id)
    await common.show_language_chosen(
        chat.speaking(language),
        await service.current(user_id=chat.user_id),
        has_role=organiser or bool(await service.facilitated(user_id=chat.user_id)),
        organiser=organiser,
    )


async def on_whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/whoami: the user's Telegram id, which an administrator needs to make them an organiser."""
    await common.show_whoami(await chat_of(update, context))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any command the bot does not know."""
    chat = await chat_of(update, context)
    text = chat.message.text if chat.message is not None else None
    await common.show_unknown_command(chat, (text or "/").split()[0])


async def on_unsupported_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, files, locations, contacts: not answers."""
    message = update.effective_message
    kinds = (
        ("sticker", Unsupported.STICKER),
        ("photo", Unsupported.PHOTO),
        ("voice", Unsupported.VOICE),
        ("audio", Unsupported.VOICE),
        ("video_note", Unsupported.VOICE),
        ("video", Unsupported.VIDEO),
        ("animation", Unsupported.VIDEO),
        ("document", Unsupported.DOCUMENT),
        ("venue", Unsupported.LOCATION),
        ("location", Unsupported.LOCATION),
        ("contact", Unsupported.CONTACT),
    )
    kind = next((k for field, k in kinds if getattr(message, field, None)), Unsupported.OTHER)
    await common.show_unsupported(await chat_of(update, context), kind)


async def on_edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: the answer was saved as first sent."""
    await common.show_edit_ignored(await chat_of(update, context))


async def on_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands in a group: the workshop happens in private chats, so answers stay private."""
    await common.show_private_only(await chat_of(update, context))


async def on_unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button this version of the bot does not know (an old or forged one)."""
    await common.show_stale_button(await chat_of(update, context))


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A user blocked the bot (nothing automatic is tried for them any more) or came back."""
    member = update.my_chat_member
    if member is None or member.chat.type != "private":
        return
    status = member.new_chat_member.status
    reachable = status not in (ChatMember.BANNED, ChatMember.LEFT)
    await runtime(context).outbox.mark_reachable(user_id=member.chat.id, reachable=reachable)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure once (never a message's text), keep it for /health, and tell the
    user, in their language, whether what they sent was saved. A user who blocked the bot
    is not a failure: there is nobody to tell."""
    state = runtime(context)
    fault = state.faults.note(context.error, update)
    if fault is None or not isinstance(update, Update) or update.effective_chat is None:
        return
    saved = await was_saved(state.database, update)
    try:
        await show_fault(await chat_of(update, context), fault, saved=saved)
    except Exception as error:  # the network or the disk that failed may fail this too
        kind = kind_of(error)
        log.warning(
            "update %s: could not tell the user (%s)",
            update.update_id,
            kind,
            exc_info=kind is Kind.UNEXPECTED,
        )
