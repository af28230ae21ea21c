"""What a sender of a reminder, broadcast or follow-up sees of it: one message edited in
place with the progress, then the final report (sent, unreachable, failed, and the
messages a crash may have doubled)."""

from __future__ import annotations

from telegram import Bot

from bot.runtime import Runtime
from bot.views.chat import broadcast_chat
from flows.kinds import DeliveryStatus
from reports.text import number, translator
from storage.models import Mailing
from storage.outbox import Counts


def progress_text(mailing: Mailing, counts: Counts, language: str, *, final: bool) -> str:
    _ = translator(language)
    sent = counts[DeliveryStatus.SENT]
    lines = [
        (_("Done.") if final else _("Sending…"))
        + " "
        + _("{sent} of {total} sent").format(
            sent=number(sent, language), total=number(counts.total, language)
        )
    ]
    if counts[DeliveryStatus.UNREACHABLE]:
        lines.append(
            _("{count} unreachable").format(
                count=number(counts[DeliveryStatus.UNREACHABLE], language)
            )
        )
    if counts[DeliveryStatus.FAILED]:
        lines.append(
            _("{count} failed").format(count=number(counts[DeliveryStatus.FAILED], language))
        )
    if counts.doubled:
        lines.append(
            _("{count} possibly received twice").format(count=number(counts.doubled, language))
        )
    return "\n".join(lines)


async def show_progress(state: Runtime, bot: Bot, mailing: Mailing, *, final: bool) -> None:
    """Edit (or send, the first time) the sender's progress message for this mailing."""
    if mailing.report_chat_id is None:
        return
    language = mailing.report_language or state.settings.default_language
    counts = await state.outbox.counts(mailing.id)
    chat = broadcast_chat(state, bot, mailing.report_chat_id, language)
    text = progress_text(mailing, counts, language, final=final)
    if mailing.report_message_id is None:
        sent = await chat.send(text)
        if sent is not None:
            await state.outbox.set_report_message(mailing.id, sent.message_id)
    else:
        await chat.edit(mailing.report_message_id, text)
