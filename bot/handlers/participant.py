"""Participants: join, answer by button or text, go back, skip, pause, resume."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.keyboards import parse_journey_data
from bot.views import participation
from bot.views.agora import show_proposal
from bot.views.answers import show_outcome
from bot.views.chat import chat_of
from bot.views.common import show_stale_button
from bot.views.moderation import statement_written
from flows.engine import BACK, SKIP, text_length


def author_names(update: Update) -> tuple[str | None, ...]:
    """The sender's names as Telegram gives them with this message: what is masked in
    their text wherever others read it (compared now, never stored)."""
    user = update.effective_user
    return (user.first_name, user.last_name, user.username) if user else ()


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, with a join or facilitator code from a deep link, or alone to resume."""
    chat = await chat_of(update, context)
    service = chat.runtime.service
    if context.args:
        joined = await service.join(
            user_id=chat.user_id, code=context.args[0], language=chat.language
        )
        await participation.show_joined(chat, joined)
        return
    await participation.show_welcome(
        chat,
        await service.resume(user_id=chat.user_id),
        organiser=service.is_organiser(chat.user_id),
        facilitated=await service.facilitated(user_id=chat.user_id),
    )


async def on_join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/join <code>: the same as opening the workshop's link."""
    chat = await chat_of(update, context)
    if not context.args:
        await participation.show_join_usage(chat)
        return
    joined = await chat.runtime.service.join(
        user_id=chat.user_id, code=context.args[0], language=chat.language
    )
    await participation.show_joined(chat, joined)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message: the answer to a reflection (or a number for a scale); in the agora,
    a statement of one's own, which the facilitators approve first."""
    chat = await chat_of(update, context)
    text = chat.message.text if chat.message else None
    assert text is not None
    seat = await chat.runtime.agora.seat(user_id=chat.user_id)
    if seat is not None:
        proposed = await chat.runtime.agora.propose(
            participant=seat[0], update_id=update.update_id, text=text, names=author_names(update)
        )
        if await show_proposal(chat, proposed, text):
            assert proposed.statement is not None
            await statement_written(chat, proposed.statement)
        return
    response = await chat.runtime.service.respond(
        user_id=chat.user_id,
        update_id=update.update_id,
        value=text,
        from_button=False,
        names=author_names(update),
    )
    await show_outcome(chat, response, typed_length=text_length(text))


async def on_journey_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under a step: consent, category, language, a scale value, a choice, back, skip."""
    chat = await chat_of(update, context)
    button = parse_journey_data(_data(update))
    if button is None:
        await show_stale_button(chat)
        return
    response = await chat.runtime.service.respond(
        user_id=chat.user_id,
        update_id=update.update_id,
        value=button.value,
        from_button=True,
        participant_id=button.participant_id,
        seen_state=button.state,
    )
    await show_outcome(chat, response)


async def on_back(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/back: return to the previous question to change its answer."""
    await _navigate(update, context, BACK)


async def on_skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/skip: pass an optional question."""
    await _navigate(update, context, SKIP)


async def _navigate(update: Update, context: ContextTypes.DEFAULT_TYPE, value: str) -> None:
    chat = await chat_of(update, context)
    response = await chat.runtime.service.respond(
        user_id=chat.user_id,
        update_id=update.update_id,
        value=value,
        from_button=False,
        navigation=True,
    )
    await show_outcome(chat, response)


async def on_pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pause: nothing is lost; /resume (or any answer) picks up where they were."""
    chat = await chat_of(update, context)
    await participation.show_paused(chat, await chat.runtime.service.pause(user_id=chat.user_id))


async def on_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resume: show the current question again (in the caucus or the agora, the statement
    to vote on)."""
    chat = await chat_of(update, context)
    current = await chat.runtime.service.resume(user_id=chat.user_id)
    await participation.show_resumed(chat, current)


def _data(update: Update) -> str:
    """The pressed button's callback data."""
    query = update.callback_query
    return (query.data or "") if query is not None else ""
