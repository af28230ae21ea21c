"""Reminders and broadcasts: /remind, /reminders, /broadcast (/annonce), and their buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.organising_keyboards import MailingAction, MailingButton, parse_mailing_data
from bot.views import broadcasts, reminders
from bot.views.chat import chat_of
from bot.views.common import show_stale_button
from bot.views.mailings import show_changed, show_refusal
from flows.errors import NotAllowed
from flows.mailings import Changed, MailingService, Refused, arguments
from flows.outbox import Target


async def on_remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remind <code> <when> <text>: a preview to choose its target and schedule it."""
    chat = await chat_of(update, context)
    text = arguments(chat.message.text if chat.message else None)
    try:
        draft = await chat.runtime.mailings.prepare_reminder(
            user_id=chat.user_id, text=text, language=chat.language, update_id=update.update_id
        )
    except (NotAllowed, Refused) as error:
        await show_refusal(chat, error, "/remind")
        return
    await reminders.show_draft(chat, draft)


async def on_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reminders <code>: the workshop's reminders, each with a cancel button."""
    chat = await chat_of(update, context)
    code = arguments(chat.message.text if chat.message else None).strip()
    try:
        listed = await chat.runtime.mailings.reminders(user_id=chat.user_id, code=code)
    except (NotAllowed, Refused) as error:
        await show_refusal(chat, error, "/reminders")
        return
    await reminders.show_reminders(chat, listed)


async def on_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/broadcast <code> <text> (also /annonce): a preview, then a confirmation button."""
    chat = await chat_of(update, context)
    message_text = chat.message.text if chat.message else None
    command = (message_text or "/broadcast").split(maxsplit=1)[0].split("@")[0]
    try:
        draft = await chat.runtime.mailings.prepare_broadcast(
            user_id=chat.user_id,
            text=arguments(message_text),
            language=chat.language,
            update_id=update.update_id,
        )
    except (NotAllowed, Refused) as error:
        await show_refusal(chat, error, command)
        return
    await broadcasts.show_draft(chat, draft)


Act = Callable[[MailingService, int, MailingButton], Awaitable[Changed]]
_ACTIONS: dict[MailingAction, Act] = {
    MailingAction.TARGET: lambda s, user, b: s.choose_target(
        user_id=user, mailing_id=b.mailing_id, target=b.target or Target.ALL
    ),
    MailingAction.SCHEDULE: lambda s, user, b: s.schedule(user_id=user, mailing_id=b.mailing_id),
    MailingAction.CONFIRM: lambda s, user, b: s.confirm_broadcast(
        user_id=user, mailing_id=b.mailing_id
    ),
    MailingAction.CANCEL: lambda s, user, b: s.cancel(user_id=user, mailing_id=b.mailing_id),
}


async def on_mailing_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reminder's or broadcast's button: target, schedule, 📣 send, cancel."""
    chat = await chat_of(update, context)
    button = parse_mailing_data(chat.query.data or "") if chat.query else None
    if button is None:
        await show_stale_button(chat)
        return
    service = chat.runtime.mailings
    try:
        if button.action is MailingAction.CANCEL_LISTED:
            listed, done = await service.cancel_listed(
                user_id=chat.user_id, mailing_id=button.mailing_id
            )
            await reminders.show_listed(chat, listed, done)
            return
        changed = await _ACTIONS[button.action](service, chat.user_id, button)
    except (NotAllowed, Refused) as error:
        await show_refusal(chat, error, "")
        return
    if button.action is MailingAction.CONFIRM and changed.changed:
        chat.runtime.wake_outbox()
    await show_changed(chat, changed)
