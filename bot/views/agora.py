"""The agora, participant side: statements offered one at a time, votes, new statements."""

from __future__ import annotations

from telegram import Message

from bot.keyboards import VOTE_PREFIX, vote_keyboard
from bot.views.chat import Chat
from flows.agora import ProposalOutcome, Proposed, Voted, VoteOutcome
from flows.engine import text_length
from flows.journey import Journey
from reports.labels import statement_heading, vote_label
from reports.text import escape, ngettext_for, number, quoted, translator
from storage.models import Participant, Statement


def statement_text(
    journey: Journey,
    statement: Statement,
    language: str,
    *,
    vote: str | None = None,
    remaining: int | None = None,
    note: str | None = None,
) -> str:
    """A statement as offered in the agora, with the participant's vote once given."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    lines = [
        statement_heading(journey, statement, language),
        "",
        quoted(statement.text, language),
    ]
    if remaining is not None:
        lines += [
            "",
            ngettext(
                "{count} more statement after this one.",
                "{count} more statements after this one.",
                remaining,
            ).format(count=number(remaining, language))
            if remaining
            else gettext("This is the last statement for now."),
        ]
    if vote is not None:
        lines += ["", gettext("Your vote: {vote}").format(vote=vote_label(vote, language))]
    if note:
        lines += ["", note]
    return "\n".join(lines)


def agora_intro_text(language: str) -> str:
    gettext = translator(language)
    return "\n".join(
        [
            "🏛️ <b>" + gettext("The agora is open.") + "</b>",
            "",
            gettext(
                "Every request and commitment of the group is put to all, without its "
                "author. I show them to you one at a time: tap Agree, Disagree or Pass. To "
                "change a vote, tap another button under the statement."
            ),
            gettext(
                "To put a statement of your own to everyone, just write it as a message: "
                "the facilitators check it first."
            ),
        ]
    )


def agora_waiting_text(language: str) -> str:
    """For participants still answering when the agora opens."""
    gettext = translator(language)
    return "🏛️ " + gettext(
        "The agora is open. Finish your questions first (/resume shows where you are) and "
        "you will join it right after."
    )


def agora_closed_text(language: str) -> str:
    gettext = translator(language)
    return "🏛️ " + gettext(
        "The agora is closed: thank you for your votes and statements. The facilitators "
        "will share what came out of it."
    )


def caught_up_text(language: str) -> str:
    gettext = translator(language)
    return "🏛️ " + gettext(
        "You have reacted to every statement for now. New ones will come to you as they "
        "arrive. To propose one of your own, write it as a message."
    )


def proposal_received_text(language: str) -> str:
    gettext = translator(language)
    return "✅ " + gettext(
        "Thank you. Your statement goes to the facilitators, who check it before it is "
        "shown to everyone, without your name."
    )


def proposal_decided_text(approved: bool, statement: Statement, language: str) -> str:
    gettext = translator(language)
    quoted = escape(statement.text)
    if approved:
        return "✅ " + gettext(
            "Your statement «{text}» is now put to everyone in the agora."
        ).format(text=quoted)
    return "ℹ️ " + gettext(
        "The facilitators did not keep your statement «{text}» for the agora."
    ).format(text=quoted)


async def join_agora(chat: Chat, participant: Participant) -> None:
    """Welcome a participant who has finished into the open agora, with a first statement
    (not again if a statement is offered to them already, further up their chat)."""
    seat = await chat.runtime.agora.seat(user_id=participant.user_id)
    if seat is None or seat[0].offer_statement_id is not None:
        return
    await chat.send(agora_intro_text(chat.language))
    await offer_next(chat, seat[0])


async def offer_next(
    chat: Chat, participant: Participant, *, quiet_when_caught_up: bool = False
) -> None:
    """Send the next statement the participant has not voted on, or say they have seen all."""
    agora = chat.runtime.agora
    offer = await agora.next_offer(participant)
    if offer is None:
        if participant.offer_statement_id is not None or not quiet_when_caught_up:
            await chat.send(caught_up_text(chat.language))
        await agora.remember_offer(
            participant_id=participant.id, statement_id=None, message_id=None
        )
        return
    text = statement_text(
        chat.runtime.journey, offer.statement, chat.language, remaining=offer.remaining
    )
    keyboard = vote_keyboard(offer.statement.id, chat.language, current=None)
    sent = await chat.send(text, reply_markup=keyboard)
    if sent is not None:
        await agora.remember_offer(
            participant_id=participant.id,
            statement_id=offer.statement.id,
            message_id=sent.message_id,
        )


def _refusal(outcome: VoteOutcome, language: str) -> str | None:
    """Why a vote did not count, or None when it did."""
    _ = translator(language)
    refusals = {
        VoteOutcome.FOREIGN: _("This button is no longer valid."),
        VoteOutcome.INVALID: _("This button is no longer valid."),
        VoteOutcome.UNAVAILABLE: _("This button is no longer valid."),
        VoteOutcome.OWN: _("This is your own statement: the others vote on it."),
        VoteOutcome.NOT_OPEN: _("The agora is not open yet."),
        VoteOutcome.CLOSED: _("The agora is closed: votes are no longer taken."),
        VoteOutcome.WITHDRAWN: _("The facilitators withdrew this statement: nothing was saved."),
    }
    return refusals.get(outcome)


async def show_vote(chat: Chat, voted: Voted) -> None:
    """A vote button pressed: the vote shown under its statement, the next one offered; or
    why it did not count."""
    _ = chat.gettext
    statement, participant = voted.statement, voted.participant
    refusal = _refusal(voted.outcome, chat.language)
    if refusal is not None:
        await _refused_vote(chat, voted, refusal)
        return
    assert statement is not None and participant is not None and voted.value is not None
    if voted.outcome is VoteOutcome.SAME:
        await chat.note(
            _("Your vote was already «{vote}»: nothing changed.").format(
                vote=vote_label(voted.value, chat.language)
            )
        )
    elif voted.outcome is VoteOutcome.CHANGED:
        await chat.note(_("Vote changed."))
    else:
        await chat.note(_("Vote saved.") if voted.outcome is VoteOutcome.RECORDED else None)
    if voted.outcome in (VoteOutcome.RECORDED, VoteOutcome.CHANGED):
        await _rewrite_statement(chat, statement, voted.value, None)
    if voted.was_offer:
        await offer_next(chat, participant)


async def _refused_vote(chat: Chat, voted: Voted, refusal: str) -> None:
    statement, participant = voted.statement, voted.participant
    await chat.note(refusal)
    if (
        statement is not None
        and voted.outcome in (VoteOutcome.CLOSED, VoteOutcome.WITHDRAWN)
        and _shows(chat, statement.id)
    ):
        await _rewrite_statement(chat, statement, None, "🚫 " + refusal)
    offered_now = participant is not None and (
        voted.was_offer
        or (statement is not None and participant.offer_statement_id == statement.id)
    )
    if voted.outcome in (VoteOutcome.WITHDRAWN, VoteOutcome.FOREIGN) and offered_now:
        assert participant is not None
        await offer_next(chat, participant)


def _shows(chat: Chat, statement_id: int) -> bool:
    """Whether the pressed message is the one about this statement (a forged button on
    another message must not rewrite it)."""
    message = chat.query.message if chat.query else None
    if not isinstance(message, Message) or message.reply_markup is None:
        return False
    prefix = f"{VOTE_PREFIX}:{statement_id}:"
    return any(
        str(button.callback_data or "").startswith(prefix)
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


async def _rewrite_statement(
    chat: Chat, statement: Statement, vote: str | None, note: str | None
) -> None:
    """Show the vote under the statement (its buttons stay, to change it), or take the
    buttons off a statement that can no longer be voted on."""
    pressed = chat.pressed_message_id()
    if pressed is None:
        return
    text = statement_text(chat.runtime.journey, statement, chat.language, vote=vote, note=note)
    markup = vote_keyboard(statement.id, chat.language, current=vote) if note is None else None
    await chat.edit(pressed, text, reply_markup=markup)


async def show_proposal(chat: Chat, proposed: Proposed, text: str) -> bool:
    """A message written during the agora: thanked, or refused as too long. True when it
    went to the facilitators for approval."""
    if proposed.outcome is ProposalOutcome.TOO_LONG:
        _ = chat.gettext
        await chat.send(
            _(
                "Your message has {length} characters; statements are limited to {limit}. "
                "Could you shorten it? Nothing was saved."
            ).format(
                length=number(text_length(text), chat.language),
                limit=number(proposed.limit, chat.language),
            )
        )
        return False
    await chat.send(proposal_received_text(chat.language))
    return proposed.outcome is ProposalOutcome.PROPOSED and proposed.statement is not None
