"""Turning the service's results into messages: shared by every handler."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import rendering
from bot.i18n import normalise_language, translations
from bot.keyboards import step_keyboard
from bot.menus import publish_role_commands
from bot.runtime import Runtime, runtime
from flows.engine import Problem, Step
from flows.service import Outcome, Response
from storage.models import Participant

log = logging.getLogger(__name__)


def gettext_for(language: str) -> Callable[[str], str]:
    return translations(language).gettext


async def user_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The user's chosen language, else their Telegram app's, else the default."""
    state = runtime(context)
    user = update.effective_user
    if user is None:
        return state.settings.default_language
    stored = await state.service.preferred_language(user_id=user.id)
    return stored or normalise_language(user.language_code, default=state.settings.default_language)


async def step_text(state: Runtime, participant: Participant, step: Step, language: str) -> str:
    if step.kind == "consent":
        workshop = await state.service.workshop(workshop_id=participant.workshop_id)
        return rendering.consent_text(workshop.title if workshop else "", language)
    if step.kind == "category":
        return rendering.category_text(language)
    if step.kind == "language":
        return rendering.language_text(language)
    if step.kind == "done":
        return rendering.finished_text(state.journey, language)
    return rendering.prompt_text(
        state.journey, step, language, max_length=state.settings.max_answer_length
    )


async def present(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    participant: Participant,
    step: Step,
    language: str,
    *,
    before: str | None = None,
    answered_message_id: int | None = None,
) -> None:
    """Send the step the participant is at, with its buttons, and take the buttons off the
    previous question's message, so that only the current question can be pressed."""
    state = runtime(context)
    previous = participant.prompt_message_id
    if previous is not None and previous != answered_message_id:
        try:
            await context.bot.edit_message_reply_markup(chat_id, previous, reply_markup=None)
        except BadRequest as error:  # already without buttons, or deleted by the user
            log.debug("old prompt %s kept as it was: %s", previous, error)
    text = await step_text(state, participant, step, language)
    if before:
        text = f"{before}\n\n{text}"
    keyboard = step_keyboard(state.engine, participant.id, step, language)
    sent = await context.bot.send_message(
        chat_id, text, reply_markup=keyboard, parse_mode=ParseMode.HTML
    )
    await state.service.remember_prompt(participant_id=participant.id, message_id=sent.message_id)


async def edit_query_message(query: CallbackQuery, text: str) -> None:
    """Replace the pressed message's text (and buttons). A message whose buttons are
    already gone was answered before (a double tap, a redelivery): it stays as it is."""
    if isinstance(query.message, Message) and query.message.reply_markup is None:
        return
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    except BadRequest as error:
        log.debug("pressed message not edited: %s", error)


async def answer_query(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a callback query; a redelivered query was answered already, and that is fine."""
    try:
        await query.answer(text)
    except BadRequest as error:
        log.debug("callback query %s not answered: %s", query.id, error)


async def reply_to_response(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    response: Response,
    language: str,
    *,
    typed_length: int = 0,
) -> None:
    """Render any outcome of `WorkshopService.respond` for the participant."""
    state = runtime(context)
    _ = gettext_for(language)
    query = update.callback_query
    chat = update.effective_chat
    assert chat is not None
    participant, step = response.participant, response.step

    if response.outcome is Outcome.NOT_JOINED:
        if query:
            await answer_query(query)
        await context.bot.send_message(
            chat.id, not_joined_text(language), parse_mode=ParseMode.HTML
        )
        return
    if response.outcome is Outcome.DECLINED:
        if query:
            await answer_query(query)
            await _close_buttons(query, None, language)
        await context.bot.send_message(
            chat.id,
            _(
                "Understood: you are not taking part, and no answer of yours is kept. If you "
                "change your mind, open the workshop link again."
            ),
            parse_mode=ParseMode.HTML,
        )
        return
    assert participant is not None and step is not None
    if response.outcome is Outcome.DUPLICATE:
        if query:
            await answer_query(query)
        await present(context, chat.id, participant, step, language)
        return
    if response.outcome is Outcome.STALE:
        if query:
            await answer_query(query, _("This button belongs to an earlier question."))
        await present(
            context,
            chat.id,
            participant,
            step,
            language,
            before=_(
                "That button belongs to an earlier question; nothing was changed. "
                "Here is where you are:"
            ),
        )
        return
    if response.outcome is Outcome.REJECTED:
        assert response.rejection is not None
        if query:
            await answer_query(query)
        message = rendering.rejection_text(response.rejection, language, length=typed_length)
        if response.rejection.problem in (
            Problem.USE_BUTTONS,
            Problem.USE_TEXT,
            Problem.NOT_AN_OPTION,
        ):
            await present(context, chat.id, participant, step, language, before=message)
        else:
            await context.bot.send_message(chat.id, message, parse_mode=ParseMode.HTML)
        return

    # MOVED: the answer is committed; acknowledge it, then show what comes next.
    move, answered = response.move, response.answered
    assert move is not None and answered is not None
    if query:
        await answer_query(query)
        if move.trigger == "back":
            await _close_buttons(query, None, language)
        elif move.trigger == "skip":
            old_text = await step_text(state, participant, answered, language)
            await _close_buttons(query, _("Skipped"), language, old_text)
        else:
            old_text = await step_text(state, participant, answered, language)
            value = move.answer[1] if move.answer else (move.category or move.language or "yes")
            label = rendering.answer_label(state.journey, answered, value, language)
            await _close_buttons(query, label, language, old_text)
    if move.language:  # stored with the move, as the user's language too
        language = move.language
    before = None
    if not query and move.answer is not None:
        _ = gettext_for(language)
        before = "<i>" + _("Answer saved ✅") + "</i>"
    answered_message = query.message.message_id if query and query.message else None
    await present(
        context,
        chat.id,
        participant,
        step,
        language,
        before=before,
        answered_message_id=answered_message,
    )


async def _close_buttons(
    query: CallbackQuery, label: str | None, language: str, old_text: str | None = None
) -> None:
    """Show the choice made under the question (if any) and remove its buttons."""
    try:
        if old_text is None or label is None:
            await query.edit_message_reply_markup(None)
        else:
            await query.edit_message_text(
                rendering.with_answer(old_text, label, language), parse_mode=ParseMode.HTML
            )
    except BadRequest as error:
        log.debug("answered message not edited: %s", error)


async def publish_menus_for(
    context: ContextTypes.DEFAULT_TYPE, *, user_id: int, language: str
) -> None:
    """Give a facilitator or organiser their role's command menu, in their language."""
    service = runtime(context).service
    organiser = service.is_organiser(user_id)
    if organiser or await service.facilitated(user_id=user_id):
        await publish_role_commands(
            context.bot, chat_id=user_id, language=language, organiser=organiser
        )


async def reply_html(update: Update, text: str) -> None:
    """Answer the user's message with an HTML text (escaped by the caller)."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(text, parse_mode=ParseMode.HTML)


def not_joined_text(language: str) -> str:
    _ = gettext_for(language)
    return _(
        "You are not taking part in a workshop yet. Open the link or scan the QR code your "
        "facilitator shared, or send /join followed by the workshop code."
    )
