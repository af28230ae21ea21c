"""Participants: join, answer by button or text, go back, skip, pause, resume."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import ContextTypes

from bot import rendering
from bot.handlers.agora import join_agora, offer_next, on_proposal, send_for_moderation
from bot.handlers.replies import (
    answer_query,
    gettext_for,
    not_joined_text,
    present,
    remove_buttons,
    reply_html,
    reply_to_response,
    user_language,
)
from bot.handlers.syntheses import push_completed_phases
from bot.keyboards import parse_journey_data
from bot.menus import publish_role_commands
from bot.runtime import runtime
from flows.engine import BACK, SKIP, text_length
from flows.service import JoinResult, Outcome, Response


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, with a join or facilitator code from a deep link, or alone to resume."""
    if context.args:
        await _join(update, context, context.args[0])
        return
    await _welcome(update, context)


async def on_join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/join <code>: the same as opening the workshop's link."""
    if context.args:
        await _join(update, context, context.args[0])
        return
    _ = gettext_for(await user_language(update, context))
    await reply_html(
        update, _("Send /join followed by the workshop code, for example /join Ab12Cd34Ef56Gh78.")
    )


async def _join(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str) -> None:
    state = runtime(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    joined = await state.service.join(user_id=user.id, code=code, language=language)
    if joined.result is JoinResult.UNKNOWN_CODE:
        await reply_html(
            update,
            _(
                "This code does not open any workshop. Check the link or the code with your "
                "facilitator; codes are case-sensitive."
            ),
        )
        return
    assert joined.workshop is not None
    title = escape(joined.workshop.title)
    if joined.result is JoinResult.CLOSED:
        await reply_html(update, _("The workshop «{title}» is closed.").format(title=title))
        return
    if joined.result in (JoinResult.FACILITATOR, JoinResult.ALREADY_FACILITATOR):
        text = (
            _("You are now a facilitator of «{title}».")
            if joined.result is JoinResult.FACILITATOR
            else _("You already facilitate «{title}».")
        )
        await reply_html(
            update,
            text.format(title=title)
            + "\n"
            + _("Follow the participants live with /progress. You never see who answered what."),
        )
        await publish_role_commands(
            context.bot,
            chat_id=chat.id,
            language=language,
            organiser=state.service.is_organiser(user.id),
        )
        return
    assert joined.participant is not None and joined.step is not None
    left = joined.left_behind
    if left is not None and left.prompt_message_id is not None:  # that workshop waits now
        await remove_buttons(context, chat.id, left.prompt_message_id)
    before = None
    if joined.result is JoinResult.RESUMED:
        before = _("Welcome back to «{title}». Here is where you are:").format(title=title)
    await present(context, chat.id, joined.participant, joined.step, language, before=before)


async def _welcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = runtime(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    is_organiser = state.service.is_organiser(user.id)
    facilitated = await state.service.facilitated(user_id=user.id)
    if is_organiser or facilitated:
        await publish_role_commands(
            context.bot, chat_id=chat.id, language=language, organiser=is_organiser
        )
    current = await state.service.resume(user_id=user.id)
    if current is not None:
        participant, step = current
        await present(
            context,
            chat.id,
            participant,
            step,
            language,
            before=_("Welcome back! Here is where you are:"),
        )
        return
    lines = [
        _(
            "Hello! I accompany cooperation workshops between local authorities and social "
            "and solidarity economy actors."
        )
    ]
    if is_organiser:
        lines.append(
            _("As an organiser, create a workshop with /newsession followed by its title.")
        )
    if facilitated:
        lines.append(_("Follow your workshops live with /progress."))
    lines.append(not_joined_text(language))
    await reply_html(update, "\n\n".join(lines))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message: the answer to a reflection (or a number for a scale)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.text is not None and user is not None
    seat = await runtime(context).agora.seat(user_id=user.id)
    if seat is not None:  # in the agora, a message is a statement of one's own
        await on_proposal(update, context, seat[0], message.text)
        return
    language = await user_language(update, context)
    response = await runtime(context).service.respond(
        user_id=user.id, update_id=update.update_id, value=message.text, from_button=False
    )
    await _reply(update, context, response, language, typed_length=text_length(message.text))


async def on_journey_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button under a step: consent, category, language, a scale value, a choice, back, skip."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    language = await user_language(update, context)
    button = parse_journey_data(query.data or "")
    if button is None:
        _ = gettext_for(language)
        await answer_query(query, _("This button is no longer valid."))
        return
    response = await runtime(context).service.respond(
        user_id=user.id,
        update_id=update.update_id,
        value=button.value,
        from_button=True,
        participant_id=button.participant_id,
        seen_state=button.state,
    )
    await _reply(update, context, response, language)


async def on_back(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/back: return to the previous question to change its answer."""
    await _navigate(update, context, BACK)


async def on_skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/skip: pass an optional question."""
    await _navigate(update, context, SKIP)


async def _navigate(update: Update, context: ContextTypes.DEFAULT_TYPE, value: str) -> None:
    user = update.effective_user
    assert user is not None
    language = await user_language(update, context)
    response = await runtime(context).service.respond(
        user_id=user.id,
        update_id=update.update_id,
        value=value,
        from_button=False,
        navigation=True,
    )
    await _reply(update, context, response, language)


async def on_pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pause: nothing is lost; /resume (or any answer) picks up where they were."""
    user = update.effective_user
    assert user is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    participant = await runtime(context).service.pause(user_id=user.id)
    if participant is None:
        await reply_html(update, not_joined_text(language))
        return
    if participant.finished_at is not None:
        await reply_html(update, _("You have answered every question: there is nothing to pause."))
        return
    await reply_html(
        update,
        _("Paused. Your answers are saved; send /resume whenever you want to continue."),
    )


async def on_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/resume: show the current question again."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    language = await user_language(update, context)
    current = await runtime(context).service.resume(user_id=user.id)
    if current is None:
        await reply_html(update, not_joined_text(language))
        return
    participant, step = current
    seat = await runtime(context).agora.seat(user_id=user.id)
    if seat is not None:  # in the agora: the statement to vote on now
        await offer_next(context, chat.id, participant, language)
        return
    await present(context, chat.id, participant, step, language)


async def _reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    response: Response,
    language: str,
    *,
    typed_length: int = 0,
) -> None:
    """Answer the participant; one who has just finished joins the agora if it is open (also
    after a redelivery, in case the first handling stopped short of it); a statement
    written while the agora is open goes to the facilitators first."""
    await reply_to_response(update, context, response, language, typed_length=typed_length)
    participant, step, move = response.participant, response.step, response.move
    chat = update.effective_chat
    assert chat is not None
    if participant is None or step is None:
        return
    if response.to_moderate is not None:
        await reply_html(update, rendering.proposal_received_text(language))
        facilitators = await runtime(context).facilitation.facilitators_of(
            workshop_id=participant.workshop_id
        )
        await send_for_moderation(context, response.to_moderate, facilitators)
    finished = step.kind == "done" and (
        response.outcome is Outcome.DUPLICATE
        or (response.outcome is Outcome.MOVED and move is not None and not move.stays)
    )
    if finished:
        await join_agora(context, chat.id, participant, (move and move.language) or language)
    answered = response.answered
    crossed = (
        response.outcome is Outcome.MOVED
        and answered is not None
        and (step.kind in ("done", "peers_wait") or step.phase > answered.phase)
    )
    if crossed:  # the last one through a phase brings its synthesis to the facilitators
        await push_completed_phases(context, participant.workshop_id)
