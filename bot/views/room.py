"""The agora paced by the room: each participant's one message, edited to the statement
the room is on, and each facilitator's control message, edited in place.

Phones are brought to the room's statement through `bot.delivery` (at the configured
rate, a blocked or failing chat never stopping the others), a few at a time; a phone
whose edit was lost (a crash, a network failure) is caught up by the next sync, which
the bot runs at every start. Control messages are edited at once when the room moves,
and at most once a second while votes come in (Telegram's limit per chat), with the last
change always shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.ext import ContextTypes

from bot.delivery import Courier, Delivered, Status, Tally
from bot.keyboards import room_keyboard, vote_keyboard
from bot.runtime import RoomPace, Runtime, runtime
from bot.views.agora import group_voice
from bot.views.chat import Chat
from flows.agora import Voted, VoteOutcome
from flows.facilitation import PhaseChange
from flows.journey import Journey
from flows.kinds import StatementStatus
from flows.room import RoomState, VoteTally
from reports.labels import group_title, vote_label
from reports.text import escape, number, quoted, translator
from reports.wording import group_votes as words
from storage.models import Participant, Statement

log = logging.getLogger(__name__)

CONTROL_EVERY = 1.0  # seconds between two edits of a control message while votes come in
# Phones edited at once; the rate limiter paces them. More costs the HTTP client's pool
# more CPU than the round trips it saves (docs/PERFORMANCE.md, the room's benchmark).
FAN_OUT = 16


# -- what phones show ----------------------------------------------------------------------


def room_intro_text(language: str) -> str:
    """Sent once to each phone, before the one message that follows the room."""
    _ = translator(language)
    return "\n".join(
        [
            "🏛️ <b>" + _("The agora is open, with the whole room.") + "</b>",
            "",
            _(
                "The facilitators take the groups' statements one at a time. The message "
                "below always shows the one the room is discussing: vote with its buttons, "
                "and change your vote while the vote is open."
            ),
            _(
                "To put a statement of your own to everyone, just write it as a message: "
                "the facilitators check it first."
            ),
        ]
    )


def phone_text(
    journey: Journey,
    statement: Statement,
    language: str,
    *,
    vote: str | None,
    vote_open: bool,
    own: bool,
) -> str:
    """The room's statement on a participant's phone, in their language (its text as
    written), with their vote, or, for its authors, that their agreement counts."""
    _ = translator(language)
    lines = [group_voice(journey, statement, language), "", quoted(statement.text, language), ""]
    if own:
        lines.append("✍️ " + _("This is your group's statement: your agreement is counted already."))
    elif statement.status == StatementStatus.WITHDRAWN:
        lines.append("🚫 " + _("The facilitators withdrew this statement: nothing was saved."))
    elif vote is not None:
        lines.append(_("Your vote: {vote}").format(vote=vote_label(vote, language)))
    if not own and not vote_open and statement.status != StatementStatus.WITHDRAWN:
        lines.append("🔒 " + _("The vote on this statement is closed."))
    elif not own and vote is None:
        lines.append(_("Agree, disagree or pass: tap a button."))
    return "\n".join(lines)


def _phone_markup(
    statement: Statement, language: str, *, vote: str | None, vote_open: bool, own: bool
) -> InlineKeyboardMarkup | None:
    if own or not vote_open:
        return None
    return vote_keyboard(statement.id, language, current=vote)


def _kept(delivered: Delivered[object]) -> bool:
    """The message shows what was asked (sent now, or showing it already)."""
    if delivered.ok:
        return True
    message = delivered.error.message.lower() if delivered.error is not None else ""
    return "not modified" in message


def _gone(delivered: Delivered[object]) -> bool:
    """The message to edit is gone (deleted by the user, or too old to edit): a new one
    is sent instead."""
    message = delivered.error.message.lower() if delivered.error is not None else ""
    return delivered.status is Status.FAILED and ("not found" in message or "can't be" in message)


Offer = tuple[int, int, int]  # participant id, statement id, message id: what a phone shows


async def _bring(
    bot: Bot,
    journey: Journey,
    room: RoomState,
    participant: Participant,
    vote: str | None,
    own: bool,
    *,
    fresh: bool = False,
) -> tuple[Delivered[Any], Offer | None]:
    """Edit one participant's message to the room's statement (sent, after the intro, if
    they have none, or if it is gone; `fresh`: sent again at the bottom of the chat, the
    old one losing its buttons). Returns how it went, and what the phone shows now if it
    does (for the caller to remember)."""
    statement = room.statement
    assert statement is not None
    language, chat_id = participant.language, participant.user_id
    text = phone_text(journey, statement, language, vote=vote, vote_open=room.vote_open, own=own)
    markup = _phone_markup(statement, language, vote=vote, vote_open=room.vote_open, own=own)
    courier = Courier(bot)
    if participant.offer_message_id is not None and fresh:
        sent = await courier.message(chat_id, text, reply_markup=markup)
        if not sent.ok or sent.result is None:
            return sent, None
        await courier.edit_buttons(chat_id, participant.offer_message_id, None)
        return sent, (participant.id, statement.id, sent.result.message_id)
    if participant.offer_message_id is not None:
        edited = await courier.edit_text(
            chat_id, participant.offer_message_id, text, reply_markup=markup
        )
        if _kept(edited):
            return edited, (participant.id, statement.id, participant.offer_message_id)
        if not _gone(edited):
            return edited, None  # unreachable or failing: the next sync tries again
    else:
        intro = await courier.message(chat_id, room_intro_text(language))
        if not intro.ok:
            return intro, None
    sent = await courier.message(chat_id, text, reply_markup=markup)
    if sent.ok and sent.result is not None:
        return sent, (participant.id, statement.id, sent.result.message_id)
    return sent, None


async def _fan_out(
    state: Runtime,
    bot: Bot,
    room: RoomState,
    people: Iterable[Participant],
    authors: set[int],
    *,
    watch: bool = False,
    fresh: bool = False,
) -> Tally:
    """Bring many phones to the room's statement, `FAN_OUT` at a time (the rate limiter
    paces the calls), their votes read at once and what they show written at once: a
    crash in between costs a repeated edit at the next start, nothing else. With `watch`,
    the room's statement is read again after each `FAN_OUT` edits: once the room has
    moved on, the edits left are not made (the move's own sync brings those phones)."""
    assert room.statement is not None
    current = room.statement.id
    cast = await state.room.votes_on(current)
    tally, shown = Tally(), []
    gate = asyncio.Semaphore(FAN_OUT)
    done, moved = 0, False

    async def one(participant: Participant) -> None:
        nonlocal done, moved
        own = participant.id in authors
        vote = None if own else cast.get(participant.id)
        async with gate:
            if moved:
                return
            got, offer = await _bring(bot, state.journey, room, participant, vote, own, fresh=fresh)
        tally.count(got)
        if offer is not None:
            shown.append(offer)
        done += 1
        if watch and done % FAN_OUT == 0 and not moved:
            moved = await state.room.statement_of(room.workshop.id) != current

    await asyncio.gather(*(one(p) for p in people))
    await state.room.remember_offers(shown)
    return tally


def _pace(state: Runtime, workshop_id: int) -> RoomPace:
    return state.rooms.setdefault(workshop_id, RoomPace())


async def sync_room(state: Runtime, bot: Bot, workshop_id: int, *, redraw: bool = False) -> Tally:
    """Bring every participant in the agora to the room's statement: only the phones that
    show another one are edited (those with none get the introduction and their message).
    With `redraw`, the phones on it are edited too (its vote has closed). Idempotent."""
    async with _pace(state, workshop_id).lock:
        room = await state.room.state_of(workshop_id)
        if room is None or not room.running or room.statement is None:
            return Tally()
        current = room.statement.id
        authors = await state.room.authors(current)
        people = [
            p
            for p in await state.room.audience(workshop_id)
            if p.offer_statement_id != current
            or p.offer_message_id is None
            or (redraw and p.id not in authors)
        ]
        tally = await _fan_out(state, bot, room, people, authors, watch=True)
    if people:
        log.info("room of workshop %s on statement %s: %s", workshop_id, current, tally)
    return tally


async def close_room(state: Runtime, bot: Bot, change: PhaseChange) -> PhaseChange:
    """The agora paced by the room has just closed: every phone that still holds vote
    buttons shows its statement closed, without them; phones and controls forget the
    room. Returns the change with its audience as it stands now."""
    workshop_id = change.workshop.id
    async with _pace(state, workshop_id).lock:
        room = await state.room.state_of(workshop_id)
        if room is not None and room.statement is not None:
            current, closed = room.statement.id, room.workshop.room_vote_closed
            authors = await state.room.authors(current)
            people = [
                p
                for p in await state.room.audience(workshop_id)
                if p.offer_message_id is not None
                and not (p.offer_statement_id == current and (closed or p.id in authors))
            ]
            await _fan_out(state, bot, room, people, authors)
        done = await state.room.audience(workshop_id)
        await state.room.remember_offers(
            [(p.id, None, None) for p in done if p.offer_statement_id is not None]
        )
    await refresh_controls(state, bot, workshop_id)
    return replace(change, audience=await state.room.consented(workshop_id))


async def sync_rooms(context: ContextTypes.DEFAULT_TYPE) -> None:
    """At start: every room brought to its statement (phones whose edit was lost in a
    crash catch up; with its vote closed, or it withdrawn, the phones on it lose their
    buttons, in case that redraw was lost)."""
    state = runtime(context)
    if state.room_ is None:
        return
    for workshop_id in await state.room.running_rooms():
        room = await state.room.state_of(workshop_id)
        redraw = room is not None and room.statement is not None and not room.vote_open
        await sync_room(state, context.bot, workshop_id, redraw=redraw)


async def resume_room(state: Runtime, bot: Bot, participant: Participant) -> None:
    """/resume in a room: the participant's message, on the room's statement, sent again
    at the bottom of the chat (the old one loses its buttons); the first one, with the
    introduction, if they have none."""
    async with _pace(state, participant.workshop_id).lock:
        room = await state.room.state_of(participant.workshop_id)
        fresh = await state.room.participant(participant.id)
        if room is None or room.statement is None or not room.running or fresh is None:
            return
        own = fresh.id in await state.room.authors(room.statement.id)
        await _fan_out(state, bot, room, [fresh], {fresh.id} if own else set(), fresh=True)


# -- a participant's vote --------------------------------------------------------------------


async def show_room_vote(chat: Chat, voted: Voted) -> None:
    """A vote button pressed in a room: the vote shown on the participant's message (its
    buttons stay, to change it while the vote is open); a vote on a statement the room
    has left, or whose vote is closed, refused."""
    _ = chat.gettext
    participant, statement = voted.participant, voted.statement
    refusals = {
        VoteOutcome.MOVED_ON: _("The vote on this statement is closed."),
        VoteOutcome.WITHDRAWN: _("The facilitators withdrew this statement: nothing was saved."),
        VoteOutcome.IN_REVIEW: _("This statement is still being reviewed: nothing was saved."),
    }
    if voted.outcome in refusals or voted.outcome not in _COUNTED:
        await chat.note(refusals.get(voted.outcome, _("This button is no longer valid.")))
        if participant is not None:
            await _catch_up(chat.runtime, chat.bot, participant)
        return
    assert participant is not None and statement is not None and voted.value is not None
    if voted.outcome is VoteOutcome.SAME:
        await chat.note(
            _("Your vote was already «{vote}»: nothing changed.").format(
                vote=vote_label(voted.value, chat.language)
            )
        )
        return
    if voted.outcome is VoteOutcome.DUPLICATE:
        await chat.note()
        return
    await chat.note(
        _("Vote changed.") if voted.outcome is VoteOutcome.CHANGED else _("Vote saved.")
    )
    room = await chat.runtime.room.state_of(participant.workshop_id)
    if room is not None and room.statement is not None and room.statement.id == statement.id:
        message_id = (
            participant.offer_message_id
            if participant.offer_statement_id == statement.id
            else chat.pressed_message_id()
        )
        if message_id is not None:
            text = phone_text(
                chat.runtime.journey,
                statement,
                chat.language,
                vote=voted.value,
                vote_open=room.vote_open,
                own=False,
            )
            markup = _phone_markup(
                statement, chat.language, vote=voted.value, vote_open=room.vote_open, own=False
            )
            await chat.edit(message_id, text, reply_markup=markup)
    await _catch_up(chat.runtime, chat.bot, participant)
    request_control_refresh(chat.runtime, participant.workshop_id)


_COUNTED = (VoteOutcome.RECORDED, VoteOutcome.CHANGED, VoteOutcome.SAME, VoteOutcome.DUPLICATE)


async def _catch_up(state: Runtime, bot: Bot, participant: Participant) -> None:
    """A participant whose phone shows another statement than the room's (an edit lost,
    or the room moved while they voted) is brought to it, unless the room's phones are
    being brought to it right now."""
    pace = _pace(state, participant.workshop_id)
    if pace.lock.locked():
        return
    async with pace.lock:
        room = await state.room.state_of(participant.workshop_id)
        fresh = await state.room.participant(participant.id)
        if room is None or room.statement is None or not room.running or fresh is None:
            return
        if fresh.offer_statement_id == room.statement.id and fresh.offer_message_id is not None:
            return
        own = fresh.id in await state.room.authors(room.statement.id)
        await _fan_out(state, bot, room, [fresh], {fresh.id} if own else set())


# -- the facilitators' control messages --------------------------------------------------------


def _tally_lines(journey: Journey, tally: VoteTally, language: str) -> list[str]:
    _ = translator(language)
    lines = ["📊 " + _("Votes: {count}").format(count=number(tally.total, language))]
    for category, counts in tally.shown:  # in words, as the syntheses say it
        votes = words(group_title(journey, category, language), counts, language)
        lines.append(f"• {votes}")
    if tally.hidden:
        lines.append(
            "• "
            + _("Groups of fewer than {min} voters are not shown.").format(
                min=number(tally.min_group, language)
            )
        )
    return lines


def control_text(journey: Journey, room: RoomState, language: str) -> str:
    """What a facilitator's control shows: the room's statement, its place, its live
    tally by group (never a person), whether its vote is open."""
    _ = translator(language)
    lines = ["🎛️ <b>" + _("The room") + "</b> · " + escape(room.workshop.title), ""]
    statement = room.statement
    if not room.running:
        lines.append(_("The agora is not open with the room any more."))
    if statement is None:
        lines.append(_("No statement in the agora yet. Press Next once one is approved."))
        return "\n".join(lines)
    lines += [
        "<b>"
        + _("Statement {position} of {total}").format(
            position=number(room.position, language), total=number(room.total, language)
        )
        + "</b> · n° "
        + str(statement.number),
        group_voice(journey, statement, language),
        "",
        quoted(statement.text, language),
        "",
        *_tally_lines(journey, room.tally, language),
        "",
    ]
    if statement.status == StatementStatus.WITHDRAWN:
        lines.append("🚫 " + _("Withdrawn: votes are no longer taken."))
    elif room.vote_open:
        lines.append("🟢 " + _("The vote is open."))
    else:
        lines.append("🔒 " + _("The vote is closed."))
    if room.resolution is not None:
        lines.append(
            "🤝 " + _("Resolution {number} recorded.").format(number=room.resolution.number)
        )
    return "\n".join(lines)


def _control_markup(room: RoomState, language: str) -> InlineKeyboardMarkup | None:
    if not room.running:
        return None
    statement_id = room.statement.id if room.statement is not None else None
    return room_keyboard(room.workshop.id, statement_id, language, vote_open=room.vote_open)


def _shown_key(text: str, markup: InlineKeyboardMarkup | None) -> str:
    """A control's text and buttons: the same key when sent and when refreshed."""
    return f"{text}\n{markup.to_json() if markup else ''}"


async def send_control(chat: Chat, room: RoomState) -> None:
    """A new control message for this facilitator; the one it replaces loses its buttons."""
    text = control_text(chat.runtime.journey, room, chat.language)
    markup = _control_markup(room, chat.language)
    sent = await chat.send(text, reply_markup=markup)
    if sent is None:
        return
    key = (chat.chat_id, sent.message_id)
    _pace(chat.runtime, room.workshop.id).shown[key] = _shown_key(text, markup)
    previous = await chat.runtime.room.remember_control(
        workshop_id=room.workshop.id, chat_id=chat.chat_id, message_id=sent.message_id
    )
    if previous is not None:
        await Courier(chat.bot).edit_buttons(chat.chat_id, previous, None)


async def refresh_controls(state: Runtime, bot: Bot, workshop_id: int) -> None:
    """Edit every facilitator's control message whose text changed."""
    pace = _pace(state, workshop_id)
    pace.last_refresh = asyncio.get_running_loop().time()
    room = await state.room.state_of(workshop_id)
    if room is None:
        return
    courier = Courier(bot)
    for chat_id, message_id in await state.room.controls(workshop_id):
        language = (
            await state.service.preferred_language(user_id=chat_id)
            or state.settings.default_language
        )
        text = control_text(state.journey, room, language)
        markup = _control_markup(room, language)
        shown = _shown_key(text, markup)
        if pace.shown.get((chat_id, message_id)) == shown:
            continue
        edited = await courier.edit_text(chat_id, message_id, text, reply_markup=markup)
        if _kept(edited):
            pace.shown[(chat_id, message_id)] = shown


def request_control_refresh(state: Runtime, workshop_id: int) -> None:
    """A vote came in: the controls are edited now if they were not this last second,
    else once the second is over (one trailing edit for all the votes of that second)."""
    pace = _pace(state, workshop_id)
    if pace.pending or state.jobs is None:
        return
    pace.pending = True
    delay = max(0.0, pace.last_refresh + CONTROL_EVERY - asyncio.get_running_loop().time())
    state.jobs.run_once(
        _refresh_when_due,
        when=delay,
        data=workshop_id,
        name=f"room-control-{workshop_id}",
        job_kwargs={"misfire_grace_time": None},
    )


async def _refresh_when_due(context: ContextTypes.DEFAULT_TYPE) -> None:
    state = runtime(context)
    job = context.job
    if job is None or not isinstance(job.data, int):
        return
    pace = _pace(state, job.data)
    pace.pending, pace.refreshing = False, True  # a vote from now on asks for another
    try:
        if state.room_ is not None:
            await refresh_controls(state, context.bot, job.data)
    finally:
        pace.refreshing = False
