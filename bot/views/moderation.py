"""Statements and their moderation, facilitator side: the numbered list (/statements),
decisions by number (/approve, /reject, /withdraw), and where a new statement goes: to the
review queue (bot/views/review.py), or, put to everyone at once, to whoever waits for one."""

from __future__ import annotations

from bot.menus import spoken
from bot.views.chat import Chat
from bot.views.review import after_approval, show_decisions, statement_status
from flows.facilitation import Decision
from flows.journey import Journey
from flows.kinds import StatementStatus
from flows.review import Reviewed, ReviewOutcome
from reports.labels import statement_heading
from reports.text import escape, excerpt, ngettext_for, number, split_message, translator
from storage.models import Statement, Workshop


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
    named = spoken(command, language)
    lines += [f"• {escape(w.title)}: <code>{named} {w.code}</code>" for w in workshops]
    return "\n".join(lines)


async def statement_written(chat: Chat, statement: Statement) -> None:
    """A statement just written (in phase 2, or proposed in the agora): waiting for review,
    it joins the next batch shown to the facilitators; approved at once (review off), it
    goes to the members of its group's caucus, or to the agora, whoever waits for one."""
    if statement.status == StatementStatus.PENDING:
        chat.runtime.review_soon()
        return
    workshop = await chat.runtime.review.workshop_of(workshop_id=statement.workshop_id)
    if workshop is not None and statement.status == StatementStatus.APPROVED:
        await after_approval(chat.runtime, chat.bot, workshop, entered=statement.in_agora)


async def show_statements(chat: Chat, workshop: Workshop, found: list[Statement]) -> None:
    """/statements: the workshop's statements, numbered, with their status."""
    for text in statements_list_texts(chat.runtime.journey, workshop, found, chat.language):
        await chat.send(text)


async def show_decision_usage(chat: Chat, command: str) -> None:
    _ = chat.gettext
    await chat.send(
        _("Send {command} followed by the statement's number (see /statements).").format(
            command=spoken(command, chat.language)
        )
    )


async def show_decided_by_number(
    chat: Chat, reviewed: Reviewed | None, decision: Decision, number_typed: str
) -> None:
    """/approve, /reject or /withdraw with a number: what became of the statement."""
    _ = chat.gettext
    if reviewed is None or reviewed.statement is None:
        await chat.send(
            _("There is no statement {number} in this workshop.").format(number=number_typed)
        )
        return
    await show_decisions(chat.runtime, chat.bot, reviewed)
    statement_number, status = reviewed.statement.number, reviewed.statement.status
    if reviewed.outcome is not ReviewOutcome.DECIDED:
        text = _("Nothing changed for statement {number}: {status}.").format(
            number=statement_number, status=statement_status(status, chat.language)
        )
    elif decision is Decision.WITHDRAW:
        text = _("Statement {number} is withdrawn: nobody is offered it any more.").format(
            number=statement_number
        )
    elif decision is Decision.APPROVE and reviewed.statement.in_agora:
        text = _("Statement {number} is approved: it is put to everyone.").format(
            number=statement_number
        )
    elif decision is Decision.APPROVE:
        text = _(
            "Statement {number} is approved: it goes to the agora when it opens (through its "
            "group's choice when the caucus is on)."
        ).format(number=statement_number)
    else:
        text = _("Statement {number} is rejected: nobody will see it.").format(
            number=statement_number
        )
    await chat.send(text)
