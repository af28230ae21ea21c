"""The décantation and the follow-up: /decantation <code> <days>, /followup <code> <date>,
/synthesis decantation <code>, and the typed answers to a follow-up."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.handlers.participant import author_names
from bot.runtime import runtime
from bot.views import decantation, syntheses
from bot.views.chat import chat_of
from flows.decantation import Refused
from flows.errors import NotAllowed
from flows.followup import FollowupProblem


async def on_decantation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/decantation <code> <days>: how long after finishing the deferred moments come."""
    chat = await chat_of(update, context)
    try:
        delay = await chat.runtime.decantation.set_delay(
            user_id=chat.user_id, words=list(context.args or [])
        )
    except (NotAllowed, Refused) as error:
        await decantation.show_refused(chat, error, "/decantation")
        return
    await decantation.show_delay(chat, delay)


async def on_followup(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/followup <code> <date>: carriers and authors asked where they stand, that day."""
    chat = await chat_of(update, context)
    try:
        scheduled = await chat.runtime.decantation.schedule_followup(
            user_id=chat.user_id,
            words=list(context.args or []),
            language=chat.language,
            update_id=update.update_id,
        )
    except (NotAllowed, Refused) as error:
        await decantation.show_refused(chat, error, "/followup")
        return
    await decantation.show_followup_scheduled(chat, scheduled)


async def on_decantation_synthesis(
    update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]
) -> None:
    """/synthesis decantation <code>: the deferred moments' synthesis, at any time."""
    chat = await chat_of(update, context)
    try:
        workshop, settling = await chat.runtime.decantation.report(
            user_id=chat.user_id, code=args[0] if args else ""
        )
    except (NotAllowed, Refused) as error:
        await decantation.show_refused(chat, error, "/synthesis")
        return
    await syntheses.send_decantation_synthesis(chat, workshop, settling)


async def on_followup_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message that answers a follow-up (then nothing else handles it); otherwise
    it goes on to the other handlers."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    service = runtime(context).decantation.followup
    if await service.awaited(user_id=user.id) is None:
        return
    chat = await chat_of(update, context)
    try:
        answered = await service.answer(
            user_id=chat.user_id,
            text=message.text,
            update_id=update.update_id,
            names=author_names(update),
        )
    except FollowupProblem as problem:
        await decantation.show_followup_problem(chat, problem)
        raise ApplicationHandlerStop from None
    if answered is None:
        return
    await decantation.show_followup_answered(chat, answered)
    raise ApplicationHandlerStop
