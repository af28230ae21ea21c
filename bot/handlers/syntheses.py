"""Syntheses for facilitators: /synthesis (now or at a time), /export, /share. Every
command checks, through its use case, that the user facilitates the workshop."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers import decantation as decantation_handlers
from bot.menus import english_words
from bot.views import syntheses
from bot.views.chat import Chat, chat_of
from bot.views.common import show_refusal
from flows.errors import Ambiguous, NotAllowed
from flows.facilitation import Report
from flows.kinds import Phase
from flows.when import read_time


def _phase_and_code(args: list[str]) -> tuple[Phase | None, str | None]:
    """The phase and the workshop code, in either order."""
    phase = next((p for a in args if (p := Phase.parse(a)) is not None), None)
    rest = [a for a in args if Phase.parse(a) is None]
    return phase, (rest[0] if rest else None)


async def _report(chat: Chat, code: str | None) -> Report | None:
    """The workshop's synthesis if the user facilitates it; else they are told why not."""
    try:
        return await chat.runtime.facilitation.report(user_id=chat.user_id, code=code)
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/synthesis")
        return None


async def on_synthesis(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/synthesis [1|2|agora|decantation] [code]; /synthesis at HH:MM [code] to have it
    pushed then (also /synthese a 17h30)."""
    args = english_words("synthesis", context.args or [])
    if args and args[0].lower() in ("decantation", "décantation"):
        await decantation_handlers.on_decantation_synthesis(update, context, args[1:])
        return
    chat = await chat_of(update, context)
    if args and args[0].lower() == "at":
        await _schedule(chat, args[1:])
        return
    phase, code = _phase_and_code(args)
    found = await _report(chat, code)
    if found is not None:
        await syntheses.send_synthesis(chat, found, phase)


async def _schedule(chat: Chat, args: list[str]) -> None:
    facilitation = chat.runtime.facilitation
    # "17:30", "17h30" or "17 h 30" (three words), then the code if any.
    size, at = next(
        ((n, at) for n in (3, 2, 1) if (at := read_time(" ".join(args[:n]))) is not None),
        (0, None),
    )
    if at is None:
        await syntheses.show_time_usage(chat)
        return
    when = facilitation.next_time(at, chat.runtime.settings.timezone)
    code = args[size] if len(args) > size else None
    try:
        workshop = await facilitation.schedule_synthesis(user_id=chat.user_id, code=code, when=when)
    except (NotAllowed, Ambiguous) as error:
        await show_refusal(chat, error, "/synthesis")
        return
    await syntheses.show_scheduled(chat, workshop, when)


async def on_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export [code]: answers.csv, synthesis.md and the charts, as documents."""
    chat = await chat_of(update, context)
    found = await _report(chat, context.args[0] if context.args else None)
    if found is not None:
        await syntheses.send_export(chat, found)
        await chat.runtime.audit.exported(
            user_id=chat.user_id, workshop=found.workshop, update_id=update.update_id
        )


async def on_share(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/share [code]: every participant receives, in their language, what the group came to."""
    chat = await chat_of(update, context)
    found = await _report(chat, context.args[0] if context.args else None)
    if found is not None:
        await syntheses.share_with_participants(chat, found)
