"""Help, language, and every input that is not an answer: media, edits, unknown commands, errors."""

from __future__ import annotations

import logging
from html import escape

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from bot.handlers.replies import (
    answer_query,
    edit_query_message,
    gettext_for,
    present,
    publish_menus_for,
    reply_html,
    user_language,
)
from bot.keyboards import language_keyboard, parse_language_data
from bot.menus import facilitation_commands, organiser_commands, participant_commands
from bot.rendering import language_name
from bot.runtime import runtime

log = logging.getLogger(__name__)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot does and the commands for the user's role."""
    state = runtime(context)
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    lines = [
        "<b>" + _("How it works") + "</b>",
        _(
            "You answer short questions on your own, at your pace, moment by moment. Scales "
            "are answered with the buttons; reflections with a message. Your answers stay "
            "private: facilitators only see anonymous, grouped results."
        ),
        _(
            "Then, in the exchange between peers, you answer as a member of your actor "
            "category; your requests and commitments go, without your name, to the agora, "
            "where everyone votes on them."
        ),
        "",
    ]
    lines += [
        f"/{c.command} · {c.description}"
        for c in participant_commands(language)
        if c.command != "help"
    ]
    if await state.service.facilitated(user_id=user.id):
        lines += ["", "<b>" + _("Facilitators") + "</b>"]
        lines += [f"/{c.command} · {c.description}" for c in facilitation_commands(language)]
        lines.append(
            _(
                "With several workshops, add the workshop's code at the end, for example "
                "/agora close Ab12Cd34Ef56Gh78."
            )
        )
    if state.service.is_organiser(user.id):
        lines += ["", "<b>" + _("Organisers") + "</b>"]
        lines += [f"/{c.command} · {c.description}" for c in organiser_commands(language)]
    await reply_html(update, "\n".join(lines))


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language: offer the languages as buttons."""
    message = update.effective_message
    assert message is not None
    _ = gettext_for(await user_language(update, context))
    await message.reply_text(
        _("Choose your language:"), reply_markup=language_keyboard(), parse_mode=ParseMode.HTML
    )


async def on_language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A language button: remember it, and show the current question in that language."""
    state = runtime(context)
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    language = parse_language_data(query.data or "")
    if language is None:
        _ = gettext_for(await user_language(update, context))
        await answer_query(query, _("This button is no longer valid."))
        return
    await state.service.set_language(user_id=user.id, language=language)
    await answer_query(query)
    _ = gettext_for(language)
    await edit_query_message(
        query, _("Language: {name}").format(name=escape(language_name(language)))
    )
    await publish_menus_for(context, user_id=user.id, language=language)
    current = await state.service.current(user_id=user.id)
    if current is not None:
        participant, step = current
        await present(context, chat.id, participant, step, language)


async def on_whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/whoami: the user's Telegram id, which an administrator needs to make them an organiser."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    _ = gettext_for(await user_language(update, context))
    await reply_html(update, _("Your Telegram id is {id}.").format(id=user.id))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any command the bot does not know."""
    message = update.effective_message
    assert message is not None and message.text is not None
    _ = gettext_for(await user_language(update, context))
    command = message.text.split()[0][:64]
    await reply_html(
        update,
        _("I do not know the command {command}. /help lists what I can do.").format(
            command=escape(command)
        ),
    )


async def on_unsupported_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, files, locations…: not answers."""
    _ = gettext_for(await user_language(update, context))
    await reply_html(
        update,
        _(
            "I can only read text messages and buttons. Please write your answer as a "
            "message, or use the buttons under the question."
        ),
    )


async def on_edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: the answer was saved as first sent."""
    _ = gettext_for(await user_language(update, context))
    await reply_html(
        update,
        _(
            "Edits to sent messages are not taken into account. To change an answer, use "
            "/back to return to its question."
        ),
    )


async def on_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands in a group: the workshop happens in private chats, so answers stay private."""
    _ = gettext_for(await user_language(update, context))
    await reply_html(
        update,
        _("Let's talk in a private chat, so that your answers stay private: open @{bot}.").format(
            bot=context.bot.username
        ),
    )


async def on_unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button this version of the bot does not know (an old or forged one)."""
    query = update.callback_query
    assert query is not None
    _ = gettext_for(await user_language(update, context))
    await answer_query(query, _("This button is no longer valid."))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with its traceback and tell the user, in their language. A user
    who blocked the bot is not a failure: there is nobody to tell."""
    if isinstance(context.error, Forbidden):
        log.info("update %s: the user blocked the bot", getattr(update, "update_id", "?"))
        return
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        _ = gettext_for(await user_language(update, context))
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "Sorry, something went wrong on my side. Every answer you saw confirmed is "
                "saved; /resume shows the question you are at."
            ),
            parse_mode=ParseMode.HTML,
        )
    except Exception:
        log.warning("could not tell the user about the error", exc_info=True)
