"""Turning the service's results into messages: shared by every handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import rendering
from bot.keyboards import step_keyboard
from bot.menus import publish_role_commands
from bot.runtime import Runtime, runtime
from flows.engine import Problem, Step
from flows.errors import Ambiguous
from flows.service import Outcome, Response, StepView
from locales import normalise_language, translations
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


async def step_text(
    state: Runtime,
    participant: Participant,
    step: Step,
    language: str,
    *,
    view: StepView | None = None,
) -> str:
    if step.kind == "consent":
        workshop = await state.service.workshop(workshop_id=participant.workshop_id)
        return rendering.consent_text(workshop.title if workshop else "", language)
    if step.kind == "category":
        return rendering.category_text(language)
    if step.kind == "language":
        return rendering.language_text(language)
    if step.kind == "done":
        workshop = await state.service.workshop(workshop_id=participant.workshop_id)
        agora = "later"
        if workshop is not None and workshop.agora_closed_at is not None:
            agora = "closed"
        elif workshop is not None and workshop.agora_open:
            agora = "open"
        return rendering.finished_text(state.journey, language, agora=agora)
    if step.kind == "peers_wait":
        return rendering.peers_wait_text(language)
    if view is None:
        view = await state.service.step_view(participant, step)
    return rendering.prompt_text(
        state.journey,
        step,
        language,
        max_length=state.settings.max_answer_length,
        category=participant.category,
        view=view,
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
    text: str | None = None,
) -> None:
    """Send the step the participant is at (or `text` with the step's buttons), then take
    the buttons off the message shown before, so that only the current question can be
    pressed. (In that order: if sending fails, the previous question stays the live one.)"""
    state = runtime(context)
    view = await state.service.step_view(participant, step)
    if text is None:
        text = await step_text(state, participant, step, language, view=view)
    if before:
        text = f"{before}\n\n{text}"
    keyboard = step_keyboard(
        state.engine, participant.id, step, language, category=participant.category, view=view
    )
    sent = await context.bot.send_message(
        chat_id, text, reply_markup=keyboard, parse_mode=ParseMode.HTML
    )
    # Only a message with buttons is remembered: it is the one to take them off later.
    await state.service.remember_prompt(
        participant_id=participant.id, message_id=sent.message_id if keyboard else None
    )
    previous = participant.prompt_message_id
    if previous is not None and previous != answered_message_id:
        await remove_buttons(context, chat_id, previous)


async def remove_buttons(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int) -> None:
    try:
        await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except BadRequest as error:  # already without buttons, or deleted by the user
        log.debug("buttons of %s kept as they were: %s", message_id, error)


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
        if query:  # a button of a participation that is over: a short note suffices
            await answer_query(query, _("This button is no longer valid."))
            await _close_buttons(query)
            return
        await context.bot.send_message(
            chat.id, not_joined_text(language), parse_mode=ParseMode.HTML
        )
        return
    if response.outcome is Outcome.DECLINED:
        if query:
            await answer_query(query)
            await _close_buttons(query)
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
            await answer_query(
                query,
                _("This button belongs to another workshop.")
                if response.other_participation
                else _("This button belongs to an earlier question."),
            )
            pressed = query.message
            live = participant.prompt_message_id
            if isinstance(pressed, Message) and live is not None and pressed.message_id != live:
                # A double tap or an old message: the live question is further down.
                await _close_buttons(query)
                return
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

    # MOVED: the answer is committed; acknowledge it on its question, then show what
    # comes next.
    move, answered = response.move, response.answered
    assert move is not None and answered is not None
    if move.stays:
        await _stay(update, context, response, language)
        return
    if answered.kind == "list" and query:  # its messages were acknowledged one by one
        await answer_query(query)
        if move.trigger == "skip" and query.message is not None:  # nothing written
            old_text = await step_text(state, participant, answered, language)
            await _edit(
                context, chat.id, query.message.message_id, rendering.with_skip(old_text, language)
            )
        else:
            await _close_buttons(query)
        list_message = query.message.message_id if query.message else None
        await present(
            context, chat.id, participant, step, language, answered_message_id=list_message
        )
        return
    answered_message: int | None = None
    if query:
        await answer_query(query)
        answered_message = query.message.message_id if query.message else None
    elif move.trigger not in ("back", "release"):  # typed: the live question is the one answered
        answered_message = participant.prompt_message_id
    if answered_message is not None and move.trigger not in ("back", "release"):
        old_text = await step_text(state, participant, answered, language)
        if move.trigger == "skip":
            new_text = rendering.with_skip(old_text, language)
        elif answered.kind == "multi" and answered.prompt is not None:
            view = await state.service.step_view(participant, answered)
            label = rendering.multi_label(answered.prompt, view, language)
            new_text = rendering.with_answer(old_text, label, language)
        else:
            value = move.answer[1] if move.answer else (move.category or move.language or "yes")
            label = rendering.answer_label(state.journey, answered, value, language)
            new_text = rendering.with_answer(old_text, label, language)
        await _edit(context, chat.id, answered_message, new_text)
    elif query:
        await _close_buttons(query)
    if move.language:  # stored with the move, as the user's language too
        language = move.language
    await present(
        context, chat.id, participant, step, language, answered_message_id=answered_message
    )


async def _stay(
    update: Update, context: ContextTypes.DEFAULT_TYPE, response: Response, language: str
) -> None:
    """An option ticked, an other answer typed, a statement written: the step stays."""
    state = runtime(context)
    _ = gettext_for(language)
    query, chat = update.callback_query, update.effective_chat
    participant, step, move = response.participant, response.step, response.move
    assert chat is not None and participant is not None and step is not None and move is not None
    if move.trigger == "tick" and query:
        await answer_query(query)
        if move.answer is None:  # a double tap: the ticks are as shown already
            return
        view = await state.service.step_view(participant, step)
        keyboard = step_keyboard(
            state.engine, participant.id, step, language, category=participant.category, view=view
        )
        live = participant.prompt_message_id or (
            query.message.message_id if query.message else None
        )
        if live is not None:
            try:
                await context.bot.edit_message_reply_markup(chat.id, live, reply_markup=keyboard)
            except BadRequest as error:  # the same ticks already (a redelivery)
                log.debug("ticks of %s kept as they were: %s", live, error)
        return
    if move.trigger == "add":
        view = await state.service.step_view(participant, step)
        await present(
            context,
            chat.id,
            participant,
            step,
            language,
            text=rendering.list_added_text(len(view.statements), language),
        )
        return
    await present(context, chat.id, participant, step, language, before="✏️ " + _("Noted."))


async def _edit(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int, text: str
) -> None:
    """Rewrite a question once answered (its buttons go with it)."""
    try:
        await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML
        )
    except BadRequest as error:  # already edited (a redelivery), or deleted by the user
        log.debug("answered question %s not edited: %s", message_id, error)


async def _close_buttons(query: CallbackQuery) -> None:
    """Remove the pressed message's buttons (if it still shows any)."""
    if isinstance(query.message, Message) and query.message.reply_markup is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as error:
        log.debug("pressed message kept as it was: %s", error)


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


async def guarded(action: Awaitable[object]) -> None:
    """One participant's message in a broadcast: a failure is logged and the others still
    get theirs."""
    try:
        await action
    except TelegramError:
        log.warning("a message of a broadcast was not delivered", exc_info=True)


async def refuse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, error: Exception, command: str
) -> None:
    """Why a facilitator command was not carried out."""
    language = await user_language(update, context)
    _ = gettext_for(language)
    if isinstance(error, Ambiguous):
        await reply_html(update, rendering.several_workshops_text(error.choices, command, language))
        return
    await reply_html(update, _("Only the facilitators of a workshop can do that."))
