"""What a sender of a reminder, broadcast or follow-up sees of it: one message edited in
place with the progress, then the final report (sent, unreachable, failed, and the
messages a crash may have doubled); and why a reminder or broadcast was refused."""

from __future__ import annotations

from telegram import Bot

from bot.menus import spoken
from bot.runtime import Runtime
from bot.views import broadcasts, reminders
from bot.views.chat import Chat, broadcast_chat
from flows.errors import NotAllowed
from flows.kinds import DeliveryStatus, MailingKind
from flows.mailings import Changed, Refusal, Refused
from reports.text import escape, excerpt, number, translator, when_text
from storage.models import Mailing, Workshop
from storage.outbox import Counts


def progress_text(
    mailing: Mailing, workshop: Workshop | None, counts: Counts, language: str, *, final: bool
) -> str:
    """The sender's one message about a mailing: what it is, then how its sending stands."""
    _ = translator(language)
    title = reminders.title_of(workshop)
    headers = {
        MailingKind.REMINDER: "⏰ " + _("Reminder · {workshop}"),
        MailingKind.BROADCAST: "📣 " + _("Broadcast · {workshop}"),
        MailingKind.FOLLOWUP: "🔎 " + _("Follow-up · {workshop}"),
    }
    header = headers.get(MailingKind(mailing.kind), "✉️ {workshop}").format(workshop=title)
    sent, total = counts[DeliveryStatus.SENT], counts.total
    state = _("Done: {sent} of {total} sent.") if final else _("Sending: {sent} of {total} sent…")
    lines = [
        f"<b>{header}</b>",
        excerpt(mailing.text or "", 80),
        "",
        state.format(sent=number(sent, language), total=number(total, language)),
    ]
    unreachable, failed = counts[DeliveryStatus.UNREACHABLE], counts[DeliveryStatus.FAILED]
    if final or unreachable:
        lines.append(
            _("{count} unreachable (they blocked the bot).").format(
                count=number(unreachable, language)
            )
        )
    if final or failed:
        lines.append(_("{count} failed.").format(count=number(failed, language)))
    skipped = counts[DeliveryStatus.SKIPPED] + counts[DeliveryStatus.EXPIRED]
    if skipped:
        lines.append(
            _("{count} not sent (paused, or away when it was due).").format(
                count=number(skipped, language)
            )
        )
    if counts.doubled:
        lines.append(
            _("{count} possibly received twice (in flight when the bot restarted).").format(
                count=number(counts.doubled, language)
            )
        )
    if counts.late:
        lines.append(
            _("{count} sent after their time (quiet hours, or the bot was stopped).").format(
                count=number(counts.late, language)
            )
        )
    return "\n".join(lines)


async def show_progress(state: Runtime, bot: Bot, mailing: Mailing, *, final: bool) -> None:
    """Edit (or send, the first time) the sender's progress message for this mailing."""
    if mailing.report_chat_id is None:
        return
    language = mailing.report_language or state.settings.default_language
    counts = await state.outbox.counts(mailing.id)
    workshop = await state.mailings.workshop(mailing.workshop_id)
    chat = broadcast_chat(state, bot, mailing.report_chat_id, language)
    text = progress_text(mailing, workshop, counts, language, final=final)
    if mailing.report_message_id is None:
        sent = await chat.send(text)
        if sent is not None:
            await state.outbox.set_report_message(mailing.id, sent.message_id)
    else:
        await chat.edit(mailing.report_message_id, text)


async def show_changed(chat: Chat, changed: Changed) -> None:
    """A preview's button pressed: the reminder's or broadcast's own view says what is."""
    if changed.draft.mailing.kind == MailingKind.BROADCAST:
        await broadcasts.show_changed(chat, changed)
    else:
        await reminders.show_changed(chat, changed)


def refusal_text(error: NotAllowed | Refused, command: str, language: str) -> str:
    """Why a reminder, a broadcast or a list of reminders was not made, and what to type."""
    _ = translator(language)
    if isinstance(error, NotAllowed):
        return _("Only the organisers and facilitators of that workshop can do this.")
    usage = {
        "/remind": _("/remind <code> <when> <text>"),
        "/reminders": _("/reminders <code>"),
    }.get(command, _("{command} <code> <text>").format(command=spoken(command, language)))
    examples = _(
        "/remind {code} tomorrow 9:00 Bring your notes.\n"
        "/remind {code} in 2 days Last call for phase 2!"
    ).format(code=escape(error.code or "<code>"))
    texts = {
        Refusal.USAGE: _("Write it this way: {usage}").format(usage=escape(usage)),
        Refusal.UNKNOWN_CODE: _("No workshop has the code {code}.").format(
            code=escape(error.code[:64])
        ),
        Refusal.CLOSED: _("This workshop is closed: nothing more is sent to its participants."),
        Refusal.NO_TIME: _(
            "I could not read when to send it (a date and time, or a delay) after the code."
        ),
        Refusal.PAST: _("That moment has passed: {when}. Choose a moment to come.").format(
            when=when_text(error.when, error.when.tzinfo, language)
            if error.when and error.when.tzinfo
            else ""
        ),
        Refusal.EMPTY: _("The message is empty: write it after the code."),
        Refusal.TOO_LONG: _(
            "The message is {length} characters long; the limit is {limit}. Please shorten it."
        ).format(length=number(error.length, language), limit=number(error.limit, language)),
    }
    text = texts[error.reason]
    if error.reason in (Refusal.NO_TIME, Refusal.PAST) or (
        command == "/remind" and error.reason in (Refusal.USAGE, Refusal.EMPTY)
    ):
        text += "\n\n" + _("For example:") + "\n" + examples
    return text


async def show_refusal(chat: Chat, error: NotAllowed | Refused, command: str) -> None:
    """A command refused: why, in the user's language; a button refused: its answer."""
    text = refusal_text(error, command, chat.language)
    if chat.query is not None:
        await chat.note(text[:200])
        return
    await chat.send(text)
