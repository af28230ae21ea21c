"""The agora, participant side: statements offered one at a time, votes, new statements."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot import rendering
from bot.handlers.replies import answer_query, gettext_for, user_language
from bot.keyboards import VOTE_PREFIX, moderation_keyboard, parse_vote_data, vote_keyboard
from bot.runtime import runtime
from flows.agora import ProposalOutcome, VoteOutcome
from flows.engine import text_length
from flows.journey import Journey
from storage.models import Participant, Statement

log = logging.getLogger(__name__)


async def join_agora(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, participant: Participant, language: str
) -> None:
    """Welcome a participant who has finished into the open agora, with a first statement
    (not again if a statement is offered to them already, further up their chat)."""
    seat = await runtime(context).agora.seat(user_id=participant.user_id)
    if seat is None or seat[0].offer_statement_id is not None:
        return
    await send_safely(context, chat_id, rendering.agora_intro_text(language))
    await offer_next(context, chat_id, seat[0], language)


async def offer_next(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    participant: Participant,
    language: str,
    *,
    quiet_when_caught_up: bool = False,
) -> None:
    """Send the next statement the participant has not voted on, or say they have seen all."""
    state = runtime(context)
    offer = await state.agora.next_offer(participant)
    if offer is None:
        if participant.offer_statement_id is not None or not quiet_when_caught_up:
            await send_safely(context, chat_id, rendering.caught_up_text(language))
        await state.agora.remember_offer(
            participant_id=participant.id, statement_id=None, message_id=None
        )
        return
    sent = await send_safely(
        context,
        chat_id,
        rendering.statement_text(
            state.journey, offer.statement, language, remaining=offer.remaining
        ),
        reply_markup=vote_keyboard(offer.statement.id, language, current=None),
    )
    if sent is not None:
        await state.agora.remember_offer(
            participant_id=participant.id,
            statement_id=offer.statement.id,
            message_id=sent.message_id,
        )


async def send_safely(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str, **options: object
) -> Message | None:
    """Send to a participant or facilitator who may have blocked the bot since."""
    try:
        return await context.bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            **options,  # type: ignore[arg-type]
        )
    except Forbidden:
        log.info("chat %s blocked the bot; message not delivered", chat_id)
        return None
    except BadRequest:  # one message refused must not stop the others of a broadcast
        log.warning("message to chat %s refused", chat_id, exc_info=True)
        return None


async def on_vote_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Agree, disagree or pass under a statement; pressing another button changes the vote."""
    state = runtime(context)
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    button = parse_vote_data(query.data or "")
    if button is None:
        await answer_query(query, _("This button is no longer valid."))
        return
    voted = await state.agora.vote(
        user_id=user.id,
        update_id=update.update_id,
        statement_id=button.statement_id,
        value=button.value,
    )
    statement, participant = voted.statement, voted.participant
    refusals = {
        VoteOutcome.FOREIGN: _("This button is no longer valid."),
        VoteOutcome.INVALID: _("This button is no longer valid."),
        VoteOutcome.UNAVAILABLE: _("This button is no longer valid."),
        VoteOutcome.OWN: _("This is your own statement: the others vote on it."),
        VoteOutcome.NOT_OPEN: _("The agora is not open yet."),
        VoteOutcome.CLOSED: _("The agora is closed: votes are no longer taken."),
        VoteOutcome.WITHDRAWN: _("The facilitators withdrew this statement: nothing was saved."),
    }
    if voted.outcome in refusals:
        await answer_query(query, refusals[voted.outcome])
        if (
            statement is not None
            and voted.outcome in (VoteOutcome.CLOSED, VoteOutcome.WITHDRAWN)
            and _shows(query, statement.id)
        ):
            note = "🚫 " + refusals[voted.outcome]
            await _edit_statement(query, state.journey, statement, language, None, note)
        offered_now = participant is not None and (
            voted.was_offer
            or (statement is not None and participant.offer_statement_id == statement.id)
        )
        if voted.outcome in (VoteOutcome.WITHDRAWN, VoteOutcome.FOREIGN) and offered_now:
            assert participant is not None
            await offer_next(context, chat.id, participant, language)
        return
    assert statement is not None and participant is not None and voted.value is not None
    if voted.outcome is VoteOutcome.SAME:
        await answer_query(
            query,
            _("Your vote was already «{vote}»: nothing changed.").format(
                vote=rendering.vote_label(voted.value, language)
            ),
        )
    elif voted.outcome is VoteOutcome.CHANGED:
        await answer_query(query, _("Vote changed."))
    else:
        await answer_query(
            query, _("Vote saved.") if voted.outcome is VoteOutcome.RECORDED else None
        )
    if voted.outcome in (VoteOutcome.RECORDED, VoteOutcome.CHANGED):
        await _edit_statement(query, state.journey, statement, language, voted.value, None)
    if voted.was_offer:
        await offer_next(context, chat.id, participant, language)


def _shows(query: CallbackQuery, statement_id: int) -> bool:
    """Whether the pressed message is the one about this statement (a forged button on
    another message must not rewrite it)."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return False
    prefix = f"{VOTE_PREFIX}:{statement_id}:"
    return any(
        str(button.callback_data or "").startswith(prefix)
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


async def _edit_statement(
    query: CallbackQuery,
    journey: Journey,
    statement: Statement,
    language: str,
    vote: str | None,
    note: str | None,
) -> None:
    """Show the vote under the statement (its buttons stay, to change it), or take the
    buttons off a statement that can no longer be voted on."""
    text = rendering.statement_text(journey, statement, language, vote=vote, note=note)
    markup = vote_keyboard(statement.id, language, current=vote) if note is None else None
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as error:  # unchanged (a redelivery) or deleted
        log.debug("statement message not edited: %s", error)


async def on_proposal(
    update: Update, context: ContextTypes.DEFAULT_TYPE, participant: Participant, text: str
) -> None:
    """A message written during the agora: a statement of the participant's own, which the
    facilitators approve before anyone is offered it."""
    state = runtime(context)
    message = update.effective_message
    assert message is not None
    language = await user_language(update, context)
    proposed = await state.agora.propose(
        participant=participant, update_id=update.update_id, text=text
    )
    if proposed.outcome is ProposalOutcome.TOO_LONG:
        _ = gettext_for(language)
        await message.reply_text(
            _(
                "Your message has {length} characters; statements are limited to {limit}. "
                "Could you shorten it? Nothing was saved."
            ).format(
                length=rendering.number(text_length(text), language),
                limit=rendering.number(proposed.limit, language),
            ),
            parse_mode=ParseMode.HTML,
        )
        return
    await message.reply_text(rendering.proposal_received_text(language), parse_mode=ParseMode.HTML)
    if proposed.outcome is ProposalOutcome.PROPOSED and proposed.statement is not None:
        await send_for_moderation(context, proposed.statement, proposed.facilitators)


async def send_for_moderation(
    context: ContextTypes.DEFAULT_TYPE, statement: Statement, facilitators: Sequence[int]
) -> None:
    """Put a new statement before every facilitator, with approve and reject buttons."""
    state = runtime(context)
    for facilitator_id in facilitators:
        their_language = (
            await state.service.preferred_language(user_id=facilitator_id)
            or state.settings.default_language
        )
        sent = await send_safely(
            context,
            facilitator_id,
            rendering.moderation_text(state.journey, statement, their_language),
            reply_markup=moderation_keyboard(statement.id, statement.status, their_language),
        )
        if sent is not None:
            await state.facilitation.remember_moderation_message(
                statement_id=statement.id, chat_id=facilitator_id, message_id=sent.message_id
            )
