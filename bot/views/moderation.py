"""The agora, facilitator side: statements to approve, their list, and the decisions taken,
shown to every facilitator, to the author of a proposal and to the participants."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.keyboards import moderation_keyboard
from bot.runtime import Runtime
from bot.views.agora import offer_next, proposal_decided_text, proposal_received_text
from bot.views.chat import Chat, broadcast_chat
from flows.audiences import author_to_tell, offered_after_approval
from flows.facilitation import Decision, Moderated
from flows.journey import Journey
from flows.kinds import StatementStatus
from reports.labels import statement_heading
from reports.text import escape, excerpt, ngettext_for, number, quoted, split_message, translator
from storage.models import Statement, Workshop

log = logging.getLogger(__name__)


def statement_status(status: str, language: str) -> str:
    gettext = translator(language)
    return {
        "pending": "⏳ " + gettext("Waiting for approval"),
        "approved": "✅ " + gettext("Approved"),
        "rejected": "❌ " + gettext("Rejected"),
        "withdrawn": "🚫 " + gettext("Withdrawn"),
    }[status]


def moderation_text(journey: Journey, statement: Statement, language: str) -> str:
    """What facilitators see of a statement to approve (never who wrote it)."""
    gettext = translator(language)
    lines = [
        "🛡️ <b>"
        + gettext("Statement {number} for the agora").format(number=statement.number)
        + "</b>",
        statement_heading(journey, statement, language),
        "",
        quoted(statement.text, language),
        "",
        statement_status(statement.status, language),
    ]
    if statement.status == StatementStatus.PENDING:
        lines.append(
            gettext(
                "Approve it to put it to everyone (or /approve {number}, /reject {number})."
            ).format(number=statement.number)
        )
    elif statement.status == StatementStatus.APPROVED:
        lines.append(
            gettext("To take it back from the agora: /withdraw {number}").format(
                number=statement.number
            )
        )
    return "\n".join(lines)


def statements_list_texts(
    journey: Journey, workshop: Workshop, statements: list[Statement], language: str
) -> list[str]:
    """The workshop's statements for facilitators, as messages under Telegram's limit."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    head = [
        f"🏛️ <b>{escape(workshop.title)}</b>",
        ngettext("{count} statement", "{count} statements", len(statements)).format(
            count=number(len(statements), language)
        ),
    ]
    if not statements:
        head.append(gettext("No statement yet: they come from the requests and commitments."))
    blocks = ["\n".join(head)]
    for statement in statements:
        blocks.append(
            "\n".join(
                [
                    f"<b>{statement.number}.</b> "
                    + statement_heading(journey, statement, language)
                    + " · "
                    + statement_status(statement.status, language),
                    excerpt(statement.text, 300),
                ]
            )
        )
    if any(statement.status == StatementStatus.PENDING for statement in statements):
        blocks.append(
            gettext("Approve or reject a waiting one with /approve or /reject and its number.")
        )
    blocks.append(gettext("Withdraw one with /withdraw followed by its number."))
    return split_message(blocks)


def several_workshops_text(workshops: list[Workshop], command: str, language: str) -> str:
    gettext = translator(language)
    lines = [
        gettext("You facilitate several workshops. Add the code of the one you mean:"),
        "",
    ]
    lines += [f"• {escape(w.title)}: <code>{command} {w.code}</code>" for w in workshops]
    return "\n".join(lines)


async def _language_of(state: Runtime, user_id: int) -> str:
    return (
        await state.service.preferred_language(user_id=user_id) or state.settings.default_language
    )


async def send_for_moderation(
    chat: Chat, statement: Statement, facilitators: Sequence[int]
) -> None:
    """Put a new statement before every facilitator, with approve and reject buttons."""
    state = chat.runtime
    for facilitator_id in facilitators:
        their = broadcast_chat(
            state, chat.bot, facilitator_id, await _language_of(state, facilitator_id)
        )
        sent = await their.send(
            moderation_text(state.journey, statement, their.language),
            reply_markup=moderation_keyboard(statement.id, statement.status, their.language),
        )
        if sent is not None:
            await state.facilitation.remember_moderation_message(
                statement_id=statement.id, chat_id=facilitator_id, message_id=sent.message_id
            )


async def submit_for_moderation(chat: Chat, statement: Statement) -> None:
    """A statement written in phase 2 while the agora is open: its author is thanked, and
    every facilitator asked to approve it."""
    await chat.send(proposal_received_text(chat.language))
    facilitators = await chat.runtime.facilitation.facilitators_of(
        workshop_id=statement.workshop_id
    )
    await send_for_moderation(chat, statement, facilitators)


async def show_decision(chat: Chat, moderated: Moderated) -> None:
    """Update every facilitator's message about the statement; tell its author; offer an
    approved statement to the participants who have seen all the others."""
    if not moderated.changed:  # every message already shows the decision taken first
        return
    state, statement = chat.runtime, moderated.statement
    for chat_id, message_id in moderated.messages:
        their = broadcast_chat(state, chat.bot, chat_id, await _language_of(state, chat_id))
        await their.edit(
            message_id,
            moderation_text(state.journey, statement, their.language),
            reply_markup=moderation_keyboard(statement.id, statement.status, their.language),
        )
    author = author_to_tell(moderated)
    if author is not None:
        approved = statement.status == StatementStatus.APPROVED
        await broadcast_chat(state, chat.bot, author.user_id, author.language).send(
            proposal_decided_text(approved, statement, author.language)
        )
    for participant in offered_after_approval(moderated):
        await offer_next(
            broadcast_chat(state, chat.bot, participant.user_id, participant.language), participant
        )


async def show_statements(chat: Chat, workshop: Workshop, found: list[Statement]) -> None:
    """/statements: the workshop's statements, numbered, with their status."""
    for text in statements_list_texts(chat.runtime.journey, workshop, found, chat.language):
        await chat.send(text)


async def show_decision_usage(chat: Chat, command: str) -> None:
    _ = chat.gettext
    await chat.send(
        _("Send {command} followed by the statement's number (see /statements).").format(
            command=command
        )
    )


async def show_decided_by_number(
    chat: Chat, moderated: Moderated | None, decision: Decision, number_typed: str
) -> None:
    """/approve, /reject or /withdraw with a number: what became of the statement."""
    _ = chat.gettext
    if moderated is None:
        await chat.send(
            _("There is no statement {number} in this workshop.").format(number=number_typed)
        )
        return
    await show_decision(chat, moderated)
    statement_number, status = moderated.statement.number, moderated.statement.status
    if not moderated.changed:
        text = _("Nothing changed for statement {number}: {status}.").format(
            number=statement_number, status=statement_status(status, chat.language)
        )
    elif decision is Decision.WITHDRAW:
        text = _("Statement {number} is withdrawn: nobody is offered it any more.").format(
            number=statement_number
        )
    elif decision is Decision.APPROVE:
        text = _("Statement {number} is approved: it is put to everyone.").format(
            number=statement_number
        )
    else:
        text = _("Statement {number} is rejected: nobody will see it.").format(
            number=statement_number
        )
    await chat.send(text)


async def show_moderated(chat: Chat, moderated: Moderated | None) -> None:
    """A moderation button pressed: a note on the button, and the decision shown."""
    _ = chat.gettext
    if moderated is None:
        await chat.note(_("Only the facilitators of this workshop can do that."))
        return
    status = statement_status(moderated.statement.status, chat.language)
    if moderated.changed:
        await chat.note(status)
    else:
        await chat.note(_("Already decided: {status}").format(status=status))
    await show_decision(chat, moderated)
