"""Facilitators pace the workshop: what they are told when they open phase 2 or the agora,
and the announcements every participant receives, each in their own language, through
`bot.delivery` (a blocked or unreachable participant never stops the others')."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.delivery import Tally
from bot.views.agora import (
    agora_closed_text,
    agora_intro_text,
    agora_waiting_text,
    offer_next,
)
from bot.views.answers import present
from bot.views.caucus import close_caucus
from bot.views.chat import Chat, broadcast_chat
from flows import audiences
from flows.facilitation import PhaseChange
from flows.kinds import AgoraMode
from reports.text import escape, translator
from storage.models import Participant

log = logging.getLogger(__name__)


def _reach(chat: Chat, participant: Participant) -> Chat:
    return broadcast_chat(chat.runtime, chat.bot, participant.user_id, participant.language)


async def _tell(
    chat: Chat, people: list[Participant], text_of: Callable[[str], str], tally: Tally
) -> None:
    """One notice to each, in their language; how it went is added to `tally`."""
    for participant in people:
        reached = _reach(chat, participant)
        await reached.send(text_of(reached.language))
        reached.counted_in(tally)


def peers_opened_text(language: str) -> str:
    """For participants still in phase 1 when phase 2 opens."""
    _ = translator(language)
    return "🔔 " + _(
        "The facilitators opened the second phase, the exchange between peers: it "
        "follows your current questions."
    )


async def announce_peers(chat: Chat, change: PhaseChange) -> Tally:
    """Participants who were waiting get their first phase 2 question; those still in
    phase 1 learn that it is open. Asked again, it shows their question to whoever is in
    phase 2 without having seen it (a message that could not be delivered the first time)."""
    tally = Tally()
    announcement = audiences.peers_opened(chat.runtime.engine, change)
    for participant in announcement.prompted:
        reached = _reach(chat, participant)
        step = chat.runtime.engine.step(participant.state, participant.category)
        _ = reached.gettext
        await present(reached, participant, step, before="🔔 " + _("The second phase is open!"))
        reached.counted_in(tally)
    await _tell(chat, announcement.notified, peers_opened_text, tally)
    log.info("phase 2 of workshop %s announced: %s", change.workshop.id, tally)
    return tally


async def show_peers_opened(chat: Chat, change: PhaseChange) -> None:
    """/open peers: phase 2 announced, and the facilitator told."""
    await announce_peers(chat, change)
    _, title = chat.gettext, escape(change.workshop.title)
    if change.changed:
        text = _("The second phase of «{title}» is open. Participants were told.")
    else:
        text = _("The second phase of «{title}» was open already.")
    await chat.send(text.format(title=title))


async def show_open_usage(chat: Chat) -> None:
    await chat.send(chat.gettext("To open the second phase, send /open peers."))


async def show_peers_usage(chat: Chat) -> None:
    _ = chat.gettext
    await chat.send(
        _(
            "/peers wait: the second phase waits until you send /open peers.\n"
            "/peers follow: it follows the first phase directly (the default)."
        )
    )


async def show_peers_mode(chat: Chat, change: PhaseChange, *, waiting: bool) -> None:
    """/peers wait|follow: the mode set (following, phase 2 is announced as when opened)."""
    _, title = chat.gettext, escape(change.workshop.title)
    if waiting:
        text = _(
            "In «{title}», the second phase now waits: participants who finish the first "
            "phase wait until you send /open peers."
        )
    else:
        await announce_peers(chat, change)
        text = _("In «{title}», the second phase follows the first one directly.")
    await chat.send(text.format(title=title))


async def announce_agora_opened(chat: Chat, change: PhaseChange) -> Tally:
    """The groups' caucus messages lose their buttons and tell what each group sent; those
    who have finished get the agora's introduction and their one message with a first
    statement (in a room, the room's statement); those still answering learn that it
    waits for them."""
    tally = Tally()
    workshop = change.workshop
    await close_caucus(chat, change)
    announcement = audiences.agora_opened(change)
    if workshop.agora_mode == AgoraMode.ROOM:
        from bot.views.room import sync_room

        await sync_room(chat.runtime, chat.bot, workshop.id)
    else:
        for participant in announcement.prompted:
            reached = _reach(chat, participant)
            if await reached.send(agora_intro_text(reached.language)) is not None:
                await offer_next(reached, participant)
            reached.counted_in(tally)
    await _tell(chat, announcement.notified, agora_waiting_text, tally)
    log.info("agora of workshop %s announced: %s", change.workshop.id, tally)
    return tally


async def announce_agora_closed(chat: Chat, change: PhaseChange) -> Tally:
    """Offers lose their buttons; everyone who took part is thanked."""
    tally = Tally()
    closing = audiences.agora_closed(change)
    for participant in closing.offers:
        assert participant.offer_message_id is not None
        await _reach(chat, participant).set_buttons(participant.offer_message_id, None)
        await chat.runtime.agora.remember_offer(
            participant_id=participant.id, statement_id=None, message_id=None
        )
    await _tell(chat, closing.notified, agora_closed_text, tally)
    log.info("closing of the agora of workshop %s announced: %s", change.workshop.id, tally)
    return tally


async def offer_to_the_forgotten(chat: Chat, change: PhaseChange) -> None:
    """Asked again: whoever has finished but holds no agora message (it could not be
    delivered) gets the introduction and their message now."""
    if change.workshop.agora_mode == AgoraMode.ROOM:
        from bot.views.room import sync_room

        await sync_room(chat.runtime, chat.bot, change.workshop.id)
        return
    for participant in audiences.forgotten(change):
        reached = _reach(chat, participant)
        if await reached.send(agora_intro_text(reached.language)) is not None:
            await offer_next(reached, participant)


async def show_agora_opened(chat: Chat, change: PhaseChange) -> None:
    """/agora: the agora announced (or the forgotten served), and the facilitator told."""
    _, title = chat.gettext, escape(change.workshop.title)
    if change.changed:
        await announce_agora_opened(chat, change)
        text = _(
            "The agora of «{title}» is open. Participants who have finished their "
            "questions received the first statement. New statements they write come to "
            "you for approval; /statements lists them all, /agora close ends the agora."
        )
    elif change.workshop.agora_closed_at is not None:
        text = _("The agora of «{title}» is closed: it cannot reopen.")
    else:
        await offer_to_the_forgotten(chat, change)
        text = _("The agora of «{title}» was open already.")
    await chat.send(text.format(title=title))


def agora_closed_reply(change: PhaseChange, language: str) -> str:
    """/agora close: what the facilitator is told."""
    _, title = translator(language), escape(change.workshop.title)
    if change.changed:
        text = _("The agora of «{title}» is closed. Participants were told.")
    elif change.workshop.agora_opened_at is None:
        text = _("The agora of «{title}» has not been opened.")
    else:
        text = _("The agora of «{title}» was closed already.")
    return text.format(title=title)
