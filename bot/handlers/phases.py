"""Facilitators pace the workshop (phase 2, the agora) and moderate the agora's statements.

Every command checks that the user facilitates the workshop it names; each phase change
is announced to the participants, each in their own language.
"""

from __future__ import annotations

import logging
from html import escape

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import rendering
from bot.handlers.agora import offer_next, send_safely
from bot.handlers.replies import (
    answer_query,
    gettext_for,
    guarded,
    present,
    refuse,
    remove_buttons,
    reply_html,
    user_language,
)
from bot.handlers.syntheses import push_synthesis
from bot.keyboards import moderation_keyboard, parse_moderation_data
from bot.runtime import runtime
from flows.engine import DONE, ONBOARDING
from flows.errors import Ambiguous, NotAllowed
from flows.facilitation import Decision, Moderated, PhaseChange

log = logging.getLogger(__name__)


_DECISIONS = {"approve": Decision.APPROVE, "reject": Decision.REJECT, "withdraw": Decision.WITHDRAW}


def _split_args(args: list[str], keyword: str | None) -> tuple[bool, str | None]:
    """Whether the first argument is `keyword`, and the workshop code if one follows."""
    rest = list(args)
    matched = bool(rest) and keyword is not None and rest[0].lower() == keyword
    if matched:
        rest = rest[1:]
    return matched, (rest[0] if rest else None)


async def on_open(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/open peers [code]: open phase 2 of the workshop."""
    language = await user_language(update, context)
    _ = gettext_for(language)
    is_peers, code = _split_args(context.args or [], "peers")
    if not is_peers:
        await reply_html(update, _("To open the second phase, send /open peers."))
        return
    user = update.effective_user
    assert user is not None
    try:
        change = await runtime(context).facilitation.open_peers(user_id=user.id, code=code)
    except (NotAllowed, Ambiguous) as error:
        await refuse(update, context, error, "/open peers")
        return
    await _announce_peers(context, change)
    title = escape(change.workshop.title)
    if change.changed:
        await reply_html(
            update,
            _("The second phase of «{title}» is open. Participants were told.").format(title=title),
        )
    else:
        await reply_html(
            update, _("The second phase of «{title}» was open already.").format(title=title)
        )


async def on_peers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/peers wait|follow [code]: whether phase 2 waits for /open peers or follows phase 1."""
    language = await user_language(update, context)
    _ = gettext_for(language)
    args = context.args or []
    mode = args[0].lower() if args else ""
    if mode not in ("wait", "follow"):
        await reply_html(
            update,
            _(
                "/peers wait: the second phase waits until you send /open peers.\n"
                "/peers follow: it follows the first phase directly (the default)."
            ),
        )
        return
    user = update.effective_user
    assert user is not None
    code = args[1] if len(args) > 1 else None
    facilitation = runtime(context).facilitation
    try:
        if mode == "follow":
            change = await facilitation.open_peers(user_id=user.id, code=code)
            await _announce_peers(context, change)
        else:
            change = await facilitation.set_peers_waiting(user_id=user.id, code=code)
    except (NotAllowed, Ambiguous) as error:
        await refuse(update, context, error, f"/peers {mode}")
        return
    title = escape(change.workshop.title)
    if mode == "wait":
        await reply_html(
            update,
            _(
                "In «{title}», the second phase now waits: participants who finish the first "
                "phase wait until you send /open peers."
            ).format(title=title),
        )
    else:
        await reply_html(
            update,
            _("In «{title}», the second phase follows the first one directly.").format(title=title),
        )


async def _announce_peers(context: ContextTypes.DEFAULT_TYPE, change: PhaseChange) -> None:
    """Participants who were waiting get their first phase 2 question; those still in
    phase 1 learn that it is open. Asked again, it shows their question to whoever is in
    phase 2 without having seen it (a message that could not be delivered the first time)."""
    state = runtime(context)
    shown: set[int] = set()
    for participant in change.audience:
        step = state.engine.step(participant.state, participant.category)
        if step.phase != 2 or participant.prompt_message_id is not None:
            continue
        _ = gettext_for(participant.language)
        shown.add(participant.id)
        await guarded(
            present(
                context,
                participant.user_id,
                participant,
                step,
                participant.language,
                before="🔔 " + _("The second phase is open!"),
            )
        )
    if not change.changed:
        return
    for participant in change.audience:
        step = state.engine.step(participant.state, participant.category)
        if participant.id in shown or step.phase != 1:
            continue
        _ = gettext_for(participant.language)
        await send_safely(
            context,
            participant.user_id,
            "🔔 "
            + _(
                "The facilitators opened the second phase, the exchange between peers: it "
                "follows your current questions."
            ),
        )


async def on_agora(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/agora [code] opens the agora; /agora close [code] closes it."""
    user = update.effective_user
    assert user is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    closing, code = _split_args(context.args or [], "close")
    facilitation = runtime(context).facilitation
    try:
        if closing:
            change = await facilitation.close_agora(user_id=user.id, code=code)
        else:
            change = await facilitation.open_agora(user_id=user.id, code=code)
    except (NotAllowed, Ambiguous) as error:
        await refuse(update, context, error, "/agora close" if closing else "/agora")
        return
    title = escape(change.workshop.title)
    if closing:
        if change.changed:
            await _announce_agora_closed(context, change)
            report = await runtime(context).facilitation.report_of(change.workshop)
            await push_synthesis(context, report, "agora")
            await reply_html(
                update,
                _("The agora of «{title}» is closed. Participants were told.").format(title=title),
            )
        elif change.workshop.agora_opened_at is None:
            await reply_html(
                update, _("The agora of «{title}» has not been opened.").format(title=title)
            )
        else:
            await reply_html(
                update, _("The agora of «{title}» was closed already.").format(title=title)
            )
        return
    if change.changed:
        await _announce_agora_opened(context, change)
        await reply_html(
            update,
            _(
                "The agora of «{title}» is open. Participants who have finished their "
                "questions received the first statement. New statements they write come to "
                "you for approval; /statements lists them all, /agora close ends the agora."
            ).format(title=title),
        )
    elif change.workshop.agora_closed_at is not None:
        await reply_html(
            update, _("The agora of «{title}» is closed: it cannot reopen.").format(title=title)
        )
    else:
        await _offer_to_the_forgotten(context, change)
        await reply_html(update, _("The agora of «{title}» was open already.").format(title=title))


async def _offer_to_the_forgotten(context: ContextTypes.DEFAULT_TYPE, change: PhaseChange) -> None:
    """Asked again: whoever has finished but was offered nothing (a message that could
    not be delivered) gets their statement now; nobody is told twice."""
    for participant in change.audience:
        if participant.state == DONE and participant.offer_statement_id is None:
            await offer_next(
                context,
                participant.user_id,
                participant,
                participant.language,
                quiet_when_caught_up=True,
            )


async def _announce_agora_opened(context: ContextTypes.DEFAULT_TYPE, change: PhaseChange) -> None:
    for participant in change.audience:
        if participant.state == DONE:
            if participant.offer_statement_id is not None:  # offered one already
                continue
            await send_safely(
                context, participant.user_id, rendering.agora_intro_text(participant.language)
            )
            await offer_next(context, participant.user_id, participant, participant.language)
        elif participant.state not in ONBOARDING:
            await send_safely(
                context, participant.user_id, rendering.agora_waiting_text(participant.language)
            )


async def _announce_agora_closed(context: ContextTypes.DEFAULT_TYPE, change: PhaseChange) -> None:
    state = runtime(context)
    for participant in change.audience:
        if participant.offer_message_id is not None:
            await guarded(
                remove_buttons(context, participant.user_id, participant.offer_message_id)
            )
            await state.agora.remember_offer(
                participant_id=participant.id, statement_id=None, message_id=None
            )
        if participant.state not in ONBOARDING:
            await send_safely(
                context, participant.user_id, rendering.agora_closed_text(participant.language)
            )


async def on_statements(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/statements [code]: the agora's statements, numbered, with their status."""
    user = update.effective_user
    assert user is not None
    language = await user_language(update, context)
    state = runtime(context)
    try:
        workshop, found = await state.facilitation.statements(
            user_id=user.id, code=context.args[0] if context.args else None
        )
    except (NotAllowed, Ambiguous) as error:
        await refuse(update, context, error, "/statements")
        return
    for text in rendering.statements_list_texts(state.journey, workshop, found, language):
        await reply_html(update, text)


async def on_withdraw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/withdraw <number> [code]: take a statement back from the agora."""
    await _decide_by_number(update, context, Decision.WITHDRAW, "/withdraw")


async def on_approve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/approve <number> [code]: put a new statement to everyone (as its ✅ button does)."""
    await _decide_by_number(update, context, Decision.APPROVE, "/approve")


async def on_reject(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reject <number> [code]: keep a new statement out of the agora."""
    await _decide_by_number(update, context, Decision.REJECT, "/reject")


async def _decide_by_number(
    update: Update, context: ContextTypes.DEFAULT_TYPE, decision: Decision, command: str
) -> None:
    user = update.effective_user
    assert user is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    args = context.args or []
    if not args or not args[0].isdigit():
        await reply_html(
            update,
            _("Send {command} followed by the statement's number (see /statements).").format(
                command=command
            ),
        )
        return
    try:
        moderated = await runtime(context).facilitation.decide_by_number(
            user_id=user.id,
            code=args[1] if len(args) > 1 else None,
            number=int(args[0]),
            decision=decision,
        )
    except (NotAllowed, Ambiguous) as error:
        await refuse(update, context, error, f"{command} {args[0]}")
        return
    if moderated is None:
        await reply_html(
            update, _("There is no statement {number} in this workshop.").format(number=args[0])
        )
        return
    await _show_decision(context, moderated)
    number, status = moderated.statement.number, moderated.statement.status
    if not moderated.changed:
        await reply_html(
            update,
            _("Nothing changed for statement {number}: {status}.").format(
                number=number, status=rendering.statement_status(status, language)
            ),
        )
    elif decision is Decision.WITHDRAW:
        await reply_html(
            update,
            _("Statement {number} is withdrawn: nobody is offered it any more.").format(
                number=number
            ),
        )
    elif decision is Decision.APPROVE:
        await reply_html(
            update,
            _("Statement {number} is approved: it is put to everyone.").format(number=number),
        )
    else:
        await reply_html(
            update,
            _("Statement {number} is rejected: nobody will see it.").format(number=number),
        )


async def on_moderation_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Approve, reject or withdraw a statement from a facilitator's moderation message."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    language = await user_language(update, context)
    _ = gettext_for(language)
    button = parse_moderation_data(query.data or "")
    if button is None:
        await answer_query(query, _("This button is no longer valid."))
        return
    try:
        moderated = await runtime(context).facilitation.moderate(
            user_id=user.id, statement_id=button.statement_id, decision=_DECISIONS[button.action]
        )
    except NotAllowed:
        await answer_query(query, _("Only the facilitators of this workshop can do that."))
        return
    if moderated.changed:
        await answer_query(query, rendering.statement_status(moderated.statement.status, language))
    else:
        await answer_query(
            query,
            _("Already decided: {status}").format(
                status=rendering.statement_status(moderated.statement.status, language)
            ),
        )
    await _show_decision(context, moderated)


async def _show_decision(context: ContextTypes.DEFAULT_TYPE, moderated: Moderated) -> None:
    """Update every facilitator's message about the statement; tell its author; offer an
    approved statement to the participants who have seen all the others."""
    if not moderated.changed:  # every message already shows the decision taken first
        return
    state = runtime(context)
    statement = moderated.statement
    for chat_id, message_id in moderated.messages:
        their_language = (
            await state.service.preferred_language(user_id=chat_id)
            or state.settings.default_language
        )
        try:
            await context.bot.edit_message_text(
                rendering.moderation_text(state.journey, statement, their_language),
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=moderation_keyboard(statement.id, statement.status, their_language),
            )
        except BadRequest as error:  # deleted by the facilitator
            log.debug("moderation message %s not edited: %s", message_id, error)
    author = moderated.author
    if (
        author is not None
        and statement.kind == "proposal"
        and statement.status in ("approved", "rejected")
    ):
        await send_safely(
            context,
            author.user_id,
            rendering.proposal_decided_text(
                statement.status == "approved", statement, author.language
            ),
        )
    for participant in moderated.audience:
        if (
            participant.state == DONE
            and participant.offer_statement_id is None
            and participant.id != statement.participant_id
        ):
            await offer_next(context, participant.user_id, participant, participant.language)
