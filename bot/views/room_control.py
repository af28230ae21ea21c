"""The room, facilitator side: `/agora room` and `/agora order` answered, and what a
control button did (the controls and phones themselves are `bot.views.room`'s)."""

from __future__ import annotations

from telegram import Bot

from bot.runtime import Runtime
from bot.views.chat import Chat
from bot.views.phases import announce_agora_opened
from bot.views.room import refresh_controls, send_control, sync_room
from flows.journey import Journey
from flows.kinds import StatementStatus
from flows.room import Ordered, RoomChange, RoomOutcome
from reports.labels import category_name
from reports.text import escape, number


async def show_room_opened(chat: Chat, change: RoomChange) -> None:
    """`/agora room`: the facilitator given a control message, the phones brought to the
    room's statement (and, when the agora opens now, as any opening does: the caucus
    closed, those still answering told); or why not."""
    _, room = chat.gettext, change.room
    title = escape(room.workshop.title)
    if change.outcome is RoomOutcome.CLOSED:
        await chat.send(
            _("The agora of «{title}» is closed: it cannot reopen.").format(title=title)
        )
        return
    if change.outcome is RoomOutcome.EMPTY:
        await chat.send(
            _(
                "Nothing can be put to the room in «{title}» yet: no statement is approved. "
                "Nothing changed."
            ).format(title=title)
        )
        return
    texts = {
        RoomOutcome.OPENED: _(
            "The agora of «{title}» is open, with the room: {count} statements, group by "
            "group. Every participant's phone follows the statement shown below."
        ),
        RoomOutcome.SWITCHED: _(
            "The agora of «{title}» now follows the room: {count} statements, group by "
            "group. Every participant's phone follows the statement shown below."
        ),
    }
    text = texts.get(
        change.outcome, _("The agora of «{title}» follows the room already: here is its control.")
    )
    await chat.send(text.format(title=title, count=number(room.total, chat.language)))
    await send_control(chat, room)
    if change.outcome is RoomOutcome.OPENED and change.phase is not None:
        # As for any opening: the caucus closed, the phones brought to the room's
        # statement, those still answering told.
        await announce_agora_opened(chat, change.phase)
    else:
        await sync_room(chat.runtime, chat.bot, room.workshop.id)


async def show_room_press(chat: Chat, change: RoomChange) -> None:
    """A control button pressed: a note on the button; on a move, the controls edited at
    once, then the phones."""
    _, room = chat.gettext, change.room
    notes = {
        RoomOutcome.NOT_RUNNING: _("The agora is not open with the room."),
        RoomOutcome.STALE: _("The room has moved meanwhile: here is where it stands."),
        RoomOutcome.FIRST: _("This is the first statement: nothing changed."),
        RoomOutcome.LAST: _("This is the last statement: nothing changed."),
        RoomOutcome.VOTE_CLOSED: _("The vote is closed."),
        RoomOutcome.ALREADY_CLOSED: _("The vote was closed already."),
    }
    if change.outcome is RoomOutcome.MOVED:
        note = _("Statement {position} of {total}").format(
            position=number(room.position, chat.language), total=number(room.total, chat.language)
        )
    else:
        note = notes.get(change.outcome, "")
    await chat.note(note or None)
    workshop_id = room.workshop.id
    if change.outcome in (RoomOutcome.MOVED, RoomOutcome.STALE, RoomOutcome.VOTE_CLOSED):
        await refresh_controls(chat.runtime, chat.bot, workshop_id)
    if change.outcome is RoomOutcome.MOVED:
        await sync_room(chat.runtime, chat.bot, workshop_id)
    elif change.outcome is RoomOutcome.VOTE_CLOSED:
        await sync_room(chat.runtime, chat.bot, workshop_id, redraw=True)


async def show_not_allowed(chat: Chat) -> None:
    await chat.note(chat.gettext("Only the facilitators of this workshop can do that."))


def _groups_help(journey: Journey, language: str) -> str:
    return "\n".join(
        f"• <code>{escape(c.id)}</code> · {category_name(journey, c.id, language)}"
        for c in journey.categories
    )


async def show_order(chat: Chat, ordered: Ordered | None) -> None:
    """`/agora order`: the order the room takes the groups in; or what to write."""
    _, journey = chat.gettext, chat.runtime.journey
    if ordered is None or ordered.unknown:
        head = (
            _("I do not know these groups: {names}. Nothing changed.").format(
                names=", ".join(escape(name) for name in ordered.unknown)
            )
            if ordered is not None
            else _("Which order? Nothing changed.")
        )
        usage = _(
            "Send /agora order followed by the groups, separated by commas, in the order the "
            "room takes them (by name or by id), for example: {example}"
        ).format(
            example="<code>/agora order " + ", ".join(c.id for c in journey.categories) + "</code>"
        )
        await chat.send("\n".join([head, usage, _groups_help(journey, chat.language)]))
        return
    lines = [_("The room takes the groups in this order:")]
    lines += [
        f"{index}. {category_name(journey, category, chat.language)}"
        for index, category in enumerate(ordered.order, start=1)
    ]
    await chat.send("\n".join(lines))
    if ordered.room is not None and ordered.room.running:
        await refresh_controls(chat.runtime, chat.bot, ordered.workshop.id)


async def after_withdrawal(state: Runtime, bot: Bot, workshop_id: int) -> None:
    """A statement of the workshop was withdrawn: if it is the room's, the phones on it
    lose their buttons; the controls show it (and the walk without it)."""
    room = await state.room.state_of(workshop_id)
    if room is None or not room.running:
        return
    if room.statement is not None and room.statement.status == StatementStatus.WITHDRAWN:
        await sync_room(state, bot, workshop_id, redraw=True)
    await refresh_controls(state, bot, workshop_id)
