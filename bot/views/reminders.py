"""Reminders set with /remind: what participants receive, and what organisers and
facilitators see when they set, list and cancel them."""

from __future__ import annotations

from bot.organising_keyboards import (
    reminder_keyboard,
    reminders_keyboard,
    scheduled_keyboard,
    target_label,
)
from bot.views.chat import Chat
from flows.kinds import MailingStatus
from flows.mailings import CANCELLABLE, Changed, Draft, ReminderList
from reports.text import escape, excerpt, number, translator, when_text
from storage.models import Mailing, Workshop
from storage.outbox import Claimed

# A workshop's title in a header: long titles are cut, so that a message stays under 4096.
TITLE_LIMIT = 100


def title_of(workshop: Workshop | None) -> str:
    return excerpt(workshop.title, TITLE_LIMIT) if workshop else ""


async def send_reminder(chat: Chat, item: Claimed) -> int | None:
    """One reminder to one participant, in their language: the workshop's name, the
    sender's words, and, when it comes late, the time it was planned for."""
    _ = chat.gettext
    service = chat.runtime.mailings
    workshop = await service.workshop(item.mailing.workshop_id)
    lines = [
        "⏰ <b>" + _("Reminder · {workshop}").format(workshop=title_of(workshop)) + "</b>",
        "",
        escape(item.mailing.text or ""),
    ]
    if item.delivery.late:
        zone = await service.zone_for(item.delivery.user_id, workshop)
        planned = when_text(item.mailing.due_at, zone, chat.language)
        lines += ["", "<i>" + _("Planned for {when}.").format(when=planned) + "</i>"]
    sent = await chat.send("\n".join(lines))
    return sent.message_id if sent else None


def _draft_text(draft: Draft, language: str, status_line: str) -> str:
    _ = translator(language)
    mailing = draft.mailing
    return "\n".join(
        [
            "⏰ <b>"
            + _("Reminder · {workshop}").format(workshop=title_of(draft.workshop))
            + "</b>",
            _("When: {when}").format(when=when_text(mailing.due_at, draft.zone, language)),
            _("To: {target} ({count} now)").format(
                target=escape(target_label(mailing.target, language)),
                count=number(draft.recipients, language),
            ),
            "",
            escape(mailing.text or ""),
            "",
            status_line,
        ]
    )


async def show_draft(chat: Chat, draft: Draft) -> None:
    """/remind: the preview, with its targets, "Schedule" and "Cancel"."""
    _ = chat.gettext
    text = _draft_text(draft, chat.language, _("Choose whom it is for, then schedule it."))
    await chat.send(
        text, reply_markup=reminder_keyboard(draft.mailing.id, draft.mailing.target, chat.language)
    )


async def show_changed(chat: Chat, changed: Changed) -> None:
    """A button of a reminder's preview: the preview rewritten to what the reminder is now
    (a press that changed nothing, a double tap, only answers the button)."""
    _ = chat.gettext
    draft, mailing = changed.draft, changed.draft.mailing
    if not changed.changed:
        await chat.note(_("Already done."))
        return
    await chat.note()
    pressed = chat.pressed_message_id()
    if pressed is None:
        return
    if mailing.status == MailingStatus.DRAFT:
        text = _draft_text(draft, chat.language, _("Choose whom it is for, then schedule it."))
        markup = reminder_keyboard(mailing.id, mailing.target, chat.language)
        await chat.edit(pressed, text, reply_markup=markup)
    elif mailing.status == MailingStatus.SCHEDULED:
        status = "✅ " + _("Scheduled. /reminders lists the workshop's reminders.")
        text = _draft_text(draft, chat.language, status)
        await chat.edit(pressed, text, reply_markup=scheduled_keyboard(mailing.id, chat.language))
    else:
        status = "✖ " + _("Cancelled: this reminder will not be sent.")
        await chat.edit(pressed, _draft_text(draft, chat.language, status))


_STATUS_LABELS = {
    MailingStatus.SCHEDULED: "🕓",
    MailingStatus.OPEN: "📤",
    MailingStatus.DONE: "✅",
    MailingStatus.CANCELLED: "✖",
}


def _status_label(mailing: Mailing, language: str) -> str:
    _ = translator(language)
    names = {
        MailingStatus.SCHEDULED: _("scheduled"),
        MailingStatus.OPEN: _("sending"),
        MailingStatus.DONE: _("sent"),
        MailingStatus.CANCELLED: _("cancelled"),
    }
    status = MailingStatus(mailing.status)
    return f"{_STATUS_LABELS.get(status, '')} {names.get(status, status.value)}"


def reminders_text(listed: ReminderList, language: str) -> tuple[str, list[tuple[int, int]]]:
    """The list of /reminders, and (number, mailing id) of those that can be cancelled."""
    _ = translator(language)
    lines = [
        "⏰ <b>" + _("Reminders · {workshop}").format(workshop=title_of(listed.workshop)) + "</b>"
    ]
    cancellable = []
    if not listed.reminders:
        lines += [
            "",
            _("No reminders yet. Set one with /remind {code} tomorrow 9:00 Your message.").format(
                code=escape(listed.workshop.code)
            ),
        ]
    for index, mailing in enumerate(listed.reminders, start=1):
        lines += [
            "",
            f"<b>{index}.</b> "
            + when_text(mailing.due_at, listed.zone, language)
            + " · "
            + escape(target_label(mailing.target, language))
            + " · "
            + _status_label(mailing, language),
            excerpt(mailing.text or "", 120),
        ]
        if mailing.status in CANCELLABLE:
            cancellable.append((index, mailing.id))
    return "\n".join(lines), cancellable


async def show_reminders(chat: Chat, listed: ReminderList) -> None:
    text, cancellable = reminders_text(listed, chat.language)
    await chat.send(text, reply_markup=reminders_keyboard(cancellable, chat.language))


async def show_listed(chat: Chat, listed: ReminderList, changed: bool) -> None:
    """A cancel button of /reminders: the list edited in place."""
    _ = chat.gettext
    await chat.note(_("Reminder cancelled.") if changed else _("Already done."))
    pressed = chat.pressed_message_id()
    if not changed or pressed is None:
        return
    text, cancellable = reminders_text(listed, chat.language)
    await chat.edit(pressed, text, reply_markup=reminders_keyboard(cancellable, chat.language))
