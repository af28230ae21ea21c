"""Syntheses for facilitators, pulled (/synthesis, /export) and pushed (a phase everyone
has finished, a time asked for), and the results shared back with participants (/share).
Nothing sent names anyone; pushes and shares go through `bot.delivery`."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from telegram import Bot, InputFile

from bot.delivery import Courier, Tally
from bot.runtime import Runtime
from bot.views.chat import Chat, broadcast_chat
from flows.decantation import Settling
from flows.facilitation import Report
from flows.journey import Journey
from flows.kinds import Phase
from reports import charts, messages
from reports.files import export_files
from reports.text import escape, translator, when_text
from storage.models import Workshop

log = logging.getLogger(__name__)


async def send_synthesis(
    chat: Chat, found: Report, phase: Phase | None, *, heading: str | None = None
) -> None:
    """The synthesis as messages, then its charts as photos, each under the delivery
    policy: a chart that cannot be sent does not keep the others from coming."""
    chat = chat.delivering()
    journey = chat.runtime.journey
    texts = messages.synthesis_messages(journey, found.synthesis, chat.language, phase=phase)
    if heading:  # its own message: the others are already as long as Telegram allows
        texts = [heading, *texts]
    for text in texts:
        await chat.send(text)
    # Drawing takes a moment of CPU: off the event loop, so the bot keeps answering.
    pictures = await asyncio.to_thread(_draw, journey, found, chat.language, phase)
    for picture, caption in pictures:
        if picture is not None:
            await chat.send_photo(picture, caption)


def _draw(
    journey: Journey, found: Report, language: str, phase: Phase | None
) -> list[tuple[bytes | None, str]]:
    """The charts of a phase (all of them without one), each with its caption."""
    _ = translator(language)
    labels = charts.chart_labels(journey, language)
    pictures: list[tuple[bytes | None, str]] = []
    if phase in (None, Phase.MOMENTS):
        pictures += [
            (charts.funnel_chart(found.synthesis, labels), _("Participation")),
            (charts.profile_chart(journey, found.synthesis, labels), _("Self-assessments")),
        ]
    if phase in (None, Phase.PEERS):
        pictures.append(
            (charts.relation_chart(journey, found.synthesis, labels), _("Relations today"))
        )
    if phase in (None, Phase.AGORA):
        pictures.append((charts.agora_chart(found.synthesis, labels), _("The agora")))
    return pictures


async def push_synthesis(state: Runtime, bot: Bot, found: Report, phase: Phase | None) -> Tally:
    """Send the synthesis, unasked, to every facilitator of the workshop."""
    tally = Tally()
    for user_id, chosen in await state.facilitation.facilitators_languages(
        workshop_id=found.workshop.id
    ):
        reached = broadcast_chat(state, bot, user_id, chosen)
        _ = reached.gettext
        title = _("The synthesis of «{title}»").format(title=escape(found.workshop.title))
        await send_synthesis(reached, found, phase, heading=f"📬 <b>{title}</b>")
        reached.counted_in(tally)
    log.info("synthesis of workshop %s pushed: %s", found.workshop.id, tally)
    return tally


async def push_completed_phases(state: Runtime, bot: Bot, workshop_id: int) -> None:
    """Once every active participant has finished a phase, its synthesis goes out (once)."""
    facilitation = state.facilitation
    for phase in sorted(await facilitation.completed_phases(workshop_id=workshop_id)):
        if await facilitation.claim_push(workshop_id=workshop_id, phase=phase):
            workshop = await state.service.workshop(workshop_id=workshop_id)
            if workshop is not None:
                found = await facilitation.report_of(workshop)
                await push_synthesis(state, bot, found, phase)


async def send_decantation_synthesis(
    chat: Chat, workshop: Workshop, settling: Settling, *, pushed: bool = False
) -> None:
    """The deferred moments' synthesis (anonymised, small groups hidden), as messages."""
    chat = chat.delivering()
    texts = messages.decantation_messages(chat.runtime.journey, settling, chat.language)
    if pushed:
        _ = chat.gettext
        title = _("Everyone has answered the last moments of «{title}»").format(
            title=escape(workshop.title)
        )
        texts = [f"📬 <b>{title}</b>", *texts]
    for text in texts:
        await chat.send(text)


async def push_decantation_synthesis(state: Runtime, bot: Bot, workshop_id: int) -> None:
    """Once everyone who finished has answered the deferred moments, their synthesis goes to
    every facilitator (once: `storage.pushes`)."""
    due = await state.decantation.due_push(workshop_id=workshop_id)
    if due is None:
        return
    workshop, settling = due
    tally = Tally()
    for user_id, chosen in await state.decantation.facilitators_languages(workshop_id=workshop_id):
        reached = broadcast_chat(state, bot, user_id, chosen)
        await send_decantation_synthesis(reached, workshop, settling, pushed=True)
        reached.counted_in(tally)
    log.info("settling synthesis of workshop %s pushed: %s", workshop_id, tally)


async def send_export(chat: Chat, found: Report) -> None:
    """/export: answers.csv, statements.csv, resolutions.csv, synthesis.md and the
    charts, as documents."""
    files = await asyncio.to_thread(export_files, chat.runtime.journey, found, chat.language)
    for file in files:
        await chat.bot.send_document(chat.chat_id, InputFile(file.data, filename=file.name))


async def share_with_participants(chat: Chat, found: Report) -> Tally:
    """/share: every participant receives, in their language, what the group came to:
    participation, the resolutions recorded, the consensus statements, the commitments
    (no quotes)."""
    tally, courier = Tally(), Courier(chat.bot)
    for participant in found.rows.participants:
        if participant.consented_at is None:
            continue
        texts = messages.share_messages(chat.runtime.journey, found.synthesis, participant.language)
        tally.count(await courier.messages(participant.user_id, texts))
    _ = chat.gettext
    await chat.send(_("The group's results went to {count} participants.").format(count=tally.sent))
    return tally


async def show_scheduled(chat: Chat, workshop: Workshop, when: datetime) -> None:
    """/synthesis at HH:MM: when it will come."""
    _ = chat.gettext
    await chat.send(
        _("Every facilitator of «{title}» will receive the synthesis on {when}.").format(
            title=escape(workshop.title),
            when=when_text(when, when.tzinfo or UTC, chat.language),
        )
    )


async def show_time_usage(chat: Chat) -> None:
    await chat.send(chat.gettext("Give a time: /synthesis at 17:30"))
