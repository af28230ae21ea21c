"""The agora, participant side: one message per phone, edited in place to offer statement
after statement; votes; new statements written during the agora."""

from __future__ import annotations

from telegram import Bot, Message

from bot.keyboards import VOTE_PREFIX, vote_keyboard
from bot.runtime import Runtime
from bot.views.chat import Chat, broadcast_chat
from bot.views.prompts import masking_text
from flows import audiences
from flows.agora import ProposalOutcome, Proposed, Voted, VoteOutcome
from flows.engine import text_length
from flows.journey import Journey
from flows.kinds import AgoraMode, StatementKind, StatementStatus
from reports.labels import group_name, statement_heading, vote_label
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
    above: str | None = None,
) -> str:
    """A statement as offered in the agora, in its group's voice (never its author's): with
    a line `above` it (the vote just given), how many follow, the vote once given."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    lines = [above, ""] if above else []
    lines += [group_voice(journey, statement, language), "", quoted(statement.text, language)]
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


def group_voice(journey: Journey, statement: Statement, language: str) -> str:
    """Who puts a statement to the agora: a group asking another, a group committing (a
    proposal keeps its heading)."""
    gettext = translator(language)
    source = group_name(journey, statement.source_category, language)
    if statement.kind == StatementKind.REQUEST:
        target = group_name(journey, statement.target_category, language)
        said = gettext("{source} ask {target}:").format(source=source, target=target)
        return "🗣️ <b>" + said[:1].upper() + said[1:] + "</b>"
    if statement.kind == StatementKind.COMMITMENT:
        said = gettext("{source} commit to this:").format(source=source)
        return "🤝 <b>" + said[:1].upper() + said[1:] + "</b>"
    return statement_heading(journey, statement, language)


def vote_recall(value: str, language: str) -> str:
    """The line above the next statement that recalls the vote just given."""
    gettext = translator(language)
    return (
        "<i>"
        + gettext("Your vote on the previous statement: {vote}").format(
            vote=vote_label(value, language)
        )
        + "</i>"
    )


def agora_intro_text(language: str) -> str:
    gettext = translator(language)
    return "\n".join(
        [
            "🏛️ <b>" + gettext("The agora is open.") + "</b>",
            "",
            gettext(
                "The requests and commitments each group chose are put to all, as the "
                "group's, never under anyone's name. The message below shows them one at a "
                "time: tap Agree, Disagree or Pass and it moves on to the next one."
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


def proposal_received_text(language: str, *, reviewed: bool = True) -> str:
    gettext = translator(language)
    if not reviewed:
        return "✅ " + gettext(
            "Thank you. Your statement is put to everyone now, without your name."
        )
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
    """Welcome a participant who has finished into the open agora: its introduction, then
    the one message that shows them statement after statement (not again if they hold it
    already). In a room, they join the statement the room is on."""
    seat = await chat.runtime.agora.seat(user_id=participant.user_id)
    if seat is None:
        return
    member, workshop = seat
    if workshop.agora_mode == AgoraMode.ROOM:
        from bot.views.room import sync_room

        await sync_room(chat.runtime, chat.bot, workshop.id)
        return
    async with chat.runtime.ballot(member.id):
        now = await chat.runtime.agora.participant(member.id)
        if now is None or now.offer_message_id is not None:
            return
        if await chat.send(agora_intro_text(chat.language)) is not None:
            await _offer_next(chat, now)


async def resume_agora(chat: Chat) -> bool:
    """/resume in the agora: the participant's message sent again further down (the old
    one loses its buttons); in a room, the room's statement. False if not in the agora."""
    seat = await chat.runtime.agora.seat(user_id=chat.user_id)
    if seat is None:
        return False
    member, workshop = seat
    if workshop.agora_mode == AgoraMode.ROOM:
        from bot.views.room import resume_room

        await resume_room(chat.runtime, chat.bot, member)
    elif member.offer_message_id is None:
        await join_agora(chat, member)
    else:
        await offer_next(chat, member, fresh=True)
    return True


async def offer_next(
    chat: Chat,
    participant: Participant,
    *,
    above: str | None = None,
    only_if_new: bool = False,
    fresh: bool = False,
) -> None:
    """Show the next statement the participant has not voted on, or that they have seen
    all, on their one agora message: edited in place, sent the first time (or, `fresh`,
    sent again further down, the old one losing its buttons). `only_if_new`: leave the
    message as it is when there is nothing new to show. Decided on the participant as
    stored now, under their lock: their vote and a facilitator's approval, handled side by
    side, move the one message once each."""
    async with chat.runtime.ballot(participant.id):
        now = await chat.runtime.agora.participant(participant.id)
        if now is not None:
            await _offer_next(chat, now, above=above, only_if_new=only_if_new, fresh=fresh)


async def _offer_next(
    chat: Chat,
    participant: Participant,
    *,
    above: str | None = None,
    only_if_new: bool = False,
    fresh: bool = False,
) -> None:
    """`offer_next` for a caller that holds the participant's lock."""
    agora = chat.runtime.agora
    offer = await agora.next_offer(participant)
    if offer is None and only_if_new:
        return
    if offer is None:
        text = caught_up_text(chat.language)
        text = f"{above}\n\n{text}" if above else text
        keyboard = None
    else:
        text = statement_text(
            chat.runtime.journey,
            offer.statement,
            chat.language,
            remaining=offer.remaining,
            above=above,
        )
        keyboard = vote_keyboard(offer.statement.id, chat.language, current=None)
    message_id = await chat.show_in_place(
        participant.offer_message_id, text, reply_markup=keyboard, fresh=fresh
    )
    if message_id is None:  # a broadcast that could not reach them: nothing is in front of them
        return
    await agora.remember_offer(
        participant_id=participant.id,
        statement_id=offer.statement.id if offer is not None else None,
        message_id=message_id,
    )


async def offer_to_everyone_waiting(runtime: Runtime, bot: Bot, workshop_id: int) -> None:
    """A statement entered the (self-paced) agora: whoever has nothing in front of them is
    shown the next one, on their message (sent, with the introduction, if they have none).
    Asked twice, it changes nothing more."""
    for participant in audiences.waiting_for_a_statement(
        await runtime.agora.audience(workshop_id=workshop_id)
    ):
        reached = broadcast_chat(runtime, bot, participant.user_id, participant.language)
        async with runtime.ballot(participant.id):
            now = await runtime.agora.participant(participant.id)
            if now is None or now.offer_statement_id is not None:
                continue  # their own vote moved them on meanwhile
            if now.offer_message_id is not None:
                await _offer_next(reached, now, only_if_new=True)
            elif await runtime.agora.next_offer(now) is not None and (
                await reached.send(agora_intro_text(reached.language)) is not None
            ):
                await _offer_next(reached, now)


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
        VoteOutcome.IN_REVIEW: _("This statement is still being reviewed: nothing was saved."),
        VoteOutcome.MOVED_ON: _("The vote on this statement is closed."),
    }
    return refusals.get(outcome)


async def show_vote(chat: Chat, voted: Voted) -> None:
    """A vote button pressed: the vote noted, and the participant's message moved on to
    the next statement (with the vote recalled on top); or why it did not count. In a
    room, the room's view answers."""
    if voted.room:
        from bot.views.room import show_room_vote

        await show_room_vote(chat, voted)
        return
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
        return
    if voted.outcome is VoteOutcome.CHANGED:
        await chat.note(_("Vote changed."))
    else:
        await chat.note(_("Vote saved.") if voted.outcome is VoteOutcome.RECORDED else None)
    if voted.was_offer:
        await offer_next(chat, participant, above=vote_recall(voted.value, chat.language))


async def _refused_vote(chat: Chat, voted: Voted, refusal: str) -> None:
    statement, participant = voted.statement, voted.participant
    await chat.note(refusal)
    if statement is not None and voted.outcome is VoteOutcome.CLOSED and _shows(chat, statement.id):
        await _rewrite_statement(chat, statement, "🚫 " + refusal)
    offered_now = participant is not None and (
        voted.was_offer
        or (statement is not None and participant.offer_statement_id == statement.id)
    )
    gone = (VoteOutcome.WITHDRAWN, VoteOutcome.FOREIGN, VoteOutcome.UNAVAILABLE)
    if voted.outcome in gone and offered_now:
        assert participant is not None
        await offer_next(chat, participant, above="🚫 " + refusal)


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


async def _rewrite_statement(chat: Chat, statement: Statement, note: str) -> None:
    """Take the buttons off a statement that can no longer be voted on, saying why."""
    pressed = chat.pressed_message_id()
    if pressed is None:
        return
    text = statement_text(chat.runtime.journey, statement, chat.language, note=note)
    await chat.edit(pressed, text)


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
    reviewed = proposed.statement is None or proposed.statement.status == StatementStatus.PENDING
    await chat.send(proposal_received_text(chat.language, reviewed=reviewed))
    if proposed.masked:
        await chat.send(masking_text(chat.language))
    return proposed.outcome is ProposalOutcome.PROPOSED and proposed.statement is not None
