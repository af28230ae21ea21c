"""Broadcasts (/broadcast, /annonce): the preview with its number of recipients and its
confirmation button, and the message each participant receives."""

from __future__ import annotations

from bot.organising_keyboards import broadcast_keyboard
from bot.views.chat import Chat
from bot.views.reminders import title_of
from flows.kinds import MailingStatus
from flows.mailings import Changed, Draft
from reports.text import escape, number, translator
from storage.outbox import Claimed


async def send_broadcast(chat: Chat, item: Claimed) -> int | None:
    """One broadcast to one participant, in their language: the workshop's name, then the
    sender's words."""
    _ = chat.gettext
    workshop = await chat.runtime.mailings.workshop(item.mailing.workshop_id)
    header = _("Message from the team of {workshop}").format(workshop=title_of(workshop))
    sent = await chat.send(f"📣 <b>{header}</b>\n\n{escape(item.mailing.text or '')}")
    return sent.message_id if sent else None


def _preview(draft: Draft, language: str, status_line: str) -> str:
    _ = translator(language)
    return "\n".join(
        [
            "📣 <b>"
            + _("Broadcast · {workshop}").format(workshop=title_of(draft.workshop))
            + "</b>",
            "",
            escape(draft.mailing.text or ""),
            "",
            status_line,
        ]
    )


async def show_draft(chat: Chat, draft: Draft) -> None:
    """/broadcast: the text as it will go, how many it will reach, and the 📣 button."""
    ngettext = chat.ngettext
    count = ngettext(
        "It will go to {count} participant.",
        "It will go to {count} participants.",
        draft.recipients,
    ).format(count=number(draft.recipients, chat.language))
    await chat.send(
        _preview(draft, chat.language, count),
        reply_markup=broadcast_keyboard(draft.mailing.id, draft.recipients, chat.language),
    )


async def show_changed(chat: Chat, changed: Changed) -> None:
    """📣 or "Cancel" on a preview: the preview loses its buttons and says what happened;
    a second press or a redelivered one changes nothing."""
    _ = chat.gettext
    draft = changed.draft
    if not changed.changed:
        await chat.note(_("Already done."))
        return
    await chat.note()
    pressed = chat.pressed_message_id()
    if pressed is None:
        return
    if draft.mailing.status == MailingStatus.CANCELLED:
        status = "✖ " + _("Cancelled: nothing was sent.")
    else:
        status = "📤 " + _("Sending… A report follows.")
    await chat.edit(pressed, _preview(draft, chat.language, status))
