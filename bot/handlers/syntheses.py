"""Syntheses for facilitators, pulled (/synthesis, /export) and pushed (a phase everyone
has finished, a time asked for), and the results shared back with participants (/share).

Every command checks that the user facilitates the workshop; nothing sent names anyone.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import time
from html import escape

from babel.dates import format_datetime
from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import charts, report
from bot.exporting import export_files
from bot.handlers.agora import send_safely
from bot.handlers.replies import gettext_for, guarded, refuse, reply_html, user_language
from bot.runtime import runtime
from flows.errors import Ambiguous, NotAllowed
from flows.facilitation import Report
from flows.journey import Journey

log = logging.getLogger(__name__)
PHASES = ("1", "2", "agora")


def _phase_and_code(args: list[str]) -> tuple[str | None, str | None]:
    """The phase and the workshop code, in either order."""
    phase = next((a.lower() for a in args if a.lower() in PHASES), None)
    rest = [a for a in args if a.lower() not in PHASES]
    return phase, (rest[0] if rest else None)


async def send_synthesis(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    found: Report,
    language: str,
    phase: str | None,
    *,
    heading: str | None = None,
) -> None:
    """The synthesis as messages, then its charts as photos."""
    journey = runtime(context).journey
    texts = report.synthesis_messages(journey, found.synthesis, language, phase=phase)
    if heading:  # its own message: the others are already as long as Telegram allows
        texts = [heading, *texts]
    for text in texts:
        await send_safely(context, chat_id, text)
    # Drawing takes a moment of CPU: off the event loop, so the bot keeps answering.
    pictures = await asyncio.to_thread(_draw, journey, found, language, phase)
    for picture, caption in pictures:
        if picture is not None:
            await guarded(
                context.bot.send_photo(chat_id, picture, caption=caption, parse_mode=ParseMode.HTML)
            )


def _draw(
    journey: Journey, found: Report, language: str, phase: str | None
) -> list[tuple[bytes | None, str]]:
    """The charts of a phase (all of them without one), each with its caption."""
    _ = gettext_for(language)
    labels = charts.chart_labels(journey, language)
    pictures: list[tuple[bytes | None, str]] = []
    if phase in (None, "1"):
        pictures += [
            (charts.funnel_chart(found.synthesis, labels), _("Participation")),
            (charts.profile_chart(journey, found.synthesis, labels), _("Self-assessments")),
        ]
    if phase in (None, "2"):
        pictures.append(
            (charts.relation_chart(journey, found.synthesis, labels), _("Relations today"))
        )
    if phase in (None, "agora"):
        pictures.append((charts.agora_chart(found.synthesis, labels), _("The agora")))
    return pictures


async def _refused(update: Update, context: ContextTypes.DEFAULT_TYPE, error: Exception) -> None:
    await refuse(update, context, error, "/synthesis")


async def _report(
    update: Update, context: ContextTypes.DEFAULT_TYPE, code: str | None
) -> Report | None:
    """The workshop's synthesis if the user facilitates it; else they are told why not."""
    user = update.effective_user
    assert user is not None
    try:
        return await runtime(context).facilitation.report(user_id=user.id, code=code)
    except (NotAllowed, Ambiguous) as error:
        await _refused(update, context, error)
        return None


async def on_synthesis(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/synthesis [1|2|agora] [code]; /synthesis at HH:MM [code] to have it pushed then."""
    user = update.effective_user
    assert user is not None
    language = await user_language(update, context)
    args = context.args or []
    if args and args[0].lower() == "at":
        await _schedule(update, context, args[1:], language)
        return
    phase, code = _phase_and_code(args)
    found = await _report(update, context, code)
    if found is None:
        return
    await send_synthesis(context, user.id, found, language, phase)


async def _schedule(
    update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str], language: str
) -> None:
    state = runtime(context)
    user = update.effective_user
    assert user is not None
    _ = gettext_for(language)
    try:
        hours, minutes = (int(part) for part in (args[0] if args else "").split(":"))
        at = time(hours, minutes)
    except ValueError:
        await reply_html(update, _("Give a time: /synthesis at 17:30"))
        return
    when = state.facilitation.next_time(at, state.settings.timezone)
    try:
        workshop = await state.facilitation.schedule_synthesis(
            user_id=user.id, code=args[1] if len(args) > 1 else None, when=when
        )
    except (NotAllowed, Ambiguous) as error:
        await _refused(update, context, error)
        return
    await reply_html(
        update,
        _("Every facilitator of «{title}» will receive the synthesis on {when}.").format(
            title=escape(workshop.title),
            when=format_datetime(when, "short", tzinfo=when.tzinfo, locale=language),
        ),
    )


async def on_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export [code]: answers.csv, synthesis.md and the charts, as documents."""
    user = update.effective_user
    assert user is not None
    state = runtime(context)
    language = await user_language(update, context)
    found = await _report(update, context, context.args[0] if context.args else None)
    if found is None:
        return
    files = await asyncio.to_thread(export_files, state.journey, found, language)
    for file in files:
        await context.bot.send_document(user.id, InputFile(file.data, filename=file.name))


async def on_share(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/share [code]: every participant receives, in their language, what the group came
    to: participation, the agora's resolutions, the commitments (no quotes)."""
    user = update.effective_user
    assert user is not None
    state = runtime(context)
    language = await user_language(update, context)
    _ = gettext_for(language)
    found = await _report(update, context, context.args[0] if context.args else None)
    if found is None:
        return
    reached = 0
    for participant in found.rows.participants:
        if participant.consented_at is None:
            continue
        texts = report.share_messages(state.journey, found.synthesis, participant.language)
        sent = [await send_safely(context, participant.user_id, text) for text in texts]
        reached += all(message is not None for message in sent)
    await reply_html(
        update,
        _("The group's results went to {count} participants.").format(count=reached),
    )


async def push_synthesis(
    context: ContextTypes.DEFAULT_TYPE, found: Report, phase: str | None
) -> None:
    """Send the synthesis, unasked, to every facilitator of the workshop."""
    state = runtime(context)
    for user_id, chosen in await state.facilitation.facilitators_languages(
        workshop_id=found.workshop.id
    ):
        language = chosen or state.settings.default_language
        _ = gettext_for(language)
        heading = (
            "📬 <b>"
            + _("The synthesis of «{title}»").format(title=escape(found.workshop.title))
            + "</b>"
        )
        try:
            await send_synthesis(context, user_id, found, language, phase, heading=heading)
        except TelegramError:
            log.warning("synthesis not delivered to facilitator %s", user_id, exc_info=True)


async def push_completed_phases(context: ContextTypes.DEFAULT_TYPE, workshop_id: int) -> None:
    """Once every active participant has finished a phase, its synthesis goes out (once)."""
    facilitation = runtime(context).facilitation
    for phase in sorted(await facilitation.completed_phases(workshop_id=workshop_id)):
        if await facilitation.claim_push(workshop_id=workshop_id, phase=phase):
            workshop = await runtime(context).service.workshop(workshop_id=workshop_id)
            if workshop is not None:
                await push_synthesis(context, await facilitation.report_of(workshop), phase)


async def push_completed_everywhere(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The job that catches a phase completed without a move through it (the last one
    still in it paused, or erased their data)."""
    state = runtime(context)
    if state.facilitation_ is None:
        return
    for workshop_id in await state.facilitation.open_workshop_ids():
        await push_completed_phases(context, workshop_id)


async def push_due_syntheses(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The job that sends the syntheses asked for at a time."""
    state = runtime(context)
    if state.facilitation_ is None:
        return
    for workshop in await state.facilitation.due_syntheses():
        await push_synthesis(context, await state.facilitation.report_of(workshop), None)
