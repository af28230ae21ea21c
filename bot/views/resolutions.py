"""Resolutions, facilitator side: the card of a resolution (one message, edited in place
as its text, carrier and due date are set), the answers typed for it, and the list."""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date, get_date_format
from telegram import InlineKeyboardMarkup, Message

from bot.delivery import Courier
from bot.keyboards import carrier_keyboard, resolution_keyboard
from bot.views.chat import Chat
from bot.views.room import refresh_controls
from flows.journey import Journey
from flows.resolutions import Answered, AnswerOutcome, Card, Convergence, Field
from flows.room import RoomChange
from reports.labels import group_name
from reports.text import day, escape, number, quoted, split_message, strip_tags, translator
from storage.models import Resolution, Workshop


def carrier_text(journey: Journey, resolution: Resolution, language: str) -> str:
    """Who carries a resolution: a group, or the name the facilitator typed; escaped."""
    if resolution.carrier_name:
        return escape(resolution.carrier_name)
    if resolution.carrier_category:
        return group_name(journey, resolution.carrier_category, language)
    return "—"


def due_text(resolution: Resolution, language: str) -> str:
    _ = translator(language)
    return day(resolution.due_on, language) if resolution.due_on else _("no due date")


def _asking_line(asking: Field, language: str) -> str:
    _ = translator(language)
    lines = {
        Field.TEXT: _(
            "✏️ Write the resolution's new text as your next message (/cancel to keep it)."
        ),
        Field.CARRIER: _("✍️ Write who carries it as your next message (/cancel to keep it)."),
        Field.DUE: _(
            "📅 Write the due date as your next message, for example {example} (/cancel to "
            "keep it)."
        ),
    }
    return lines[asking]


def resolution_text(
    journey: Journey,
    resolution: Resolution,
    language: str,
    *,
    asking: Field | None = None,
    example: str = "",
) -> str:
    """A resolution's card: its text, its carrier, its due date, and the question its
    next typed message answers, if any."""
    _ = translator(language)
    lines = [
        "🤝 <b>" + _("Resolution {number}").format(number=resolution.number) + "</b>",
        "",
        quoted(resolution.text, language),
        "",
        "👥 "
        + _("Carried by: {carrier}").format(carrier=carrier_text(journey, resolution, language)),
        "📅 " + _("Due: {date}").format(date=due_text(resolution, language)),
    ]
    if asking is not None:
        lines += ["", _asking_line(asking, language).format(example=example)]
    return "\n".join(lines)


def due_example(language: str, today: date) -> str:
    """A date as the user is asked to write it, in their language's short form with the
    year in full (31/12/2026 in French, 12/31/2026 in English)."""
    pattern = re.sub("y+", "yyyy", get_date_format("short", locale=language).pattern)
    return format_date(date(today.year, 12, 31), pattern, locale=language)


def _card_markup(chat: Chat, card: Card) -> InlineKeyboardMarkup | None:
    resolution = card.resolution
    if card.done:
        return None
    if card.choosing:
        return carrier_keyboard(resolution.id, chat.runtime.journey.categories, chat.language)
    return resolution_keyboard(resolution.id, chat.language, has_due=resolution.due_on is not None)


def _card_text(chat: Chat, card: Card) -> str:
    example = due_example(chat.language, chat.runtime.resolutions.today())
    return resolution_text(
        chat.runtime.journey, card.resolution, chat.language, asking=card.asking, example=example
    )


async def show_converged(chat: Chat, change: RoomChange) -> None:
    """ "Mark a convergence": the resolution's card sent to the facilitator, the controls
    showing it; a withdrawn or unavailable statement refused."""
    _ = chat.gettext
    converged = change.converged
    assert converged is not None
    if converged.outcome is Convergence.WITHDRAWN:
        await chat.note(_("This statement was withdrawn: it cannot become a resolution."))
        return
    if converged.resolution is None:
        await chat.note(_("This statement is not in the agora: it cannot become a resolution."))
        return
    resolution = converged.resolution
    if converged.outcome is Convergence.NEW:
        await chat.note(_("Resolution {number} recorded.").format(number=resolution.number))
    else:
        await chat.note(_("Already resolution {number}.").format(number=resolution.number))
    await chat.send(
        _card_text(chat, Card(resolution)), reply_markup=_card_markup(chat, Card(resolution))
    )
    await refresh_controls(chat.runtime, chat.bot, change.room.workshop.id)


async def show_card(chat: Chat, card: Card | None) -> None:
    """A button of a resolution's card: the card edited in place."""
    _ = chat.gettext
    if card is None:
        await chat.note(_("Only the facilitators of this workshop can do that."))
        return
    await chat.note(_("Done.") if card.done else None)
    pressed = chat.query.message if chat.query is not None else None
    if not isinstance(pressed, Message):
        return
    text, markup = _card_text(chat, card), _card_markup(chat, card)
    shown = (pressed.text, pressed.reply_markup.to_dict() if pressed.reply_markup else None)
    if shown != (strip_tags(text), markup.to_dict() if markup else None):
        await chat.edit(pressed.message_id, text, reply_markup=markup)  # not the same twice


async def show_answered(chat: Chat, answered: Answered) -> None:
    """A message typed for a resolution: saved (the card edited, a short confirmation),
    or why not, with what to write."""
    _ = chat.gettext
    awaited, outcome = answered.awaited, answered.outcome
    example = due_example(chat.language, chat.runtime.resolutions.today())
    if outcome is AnswerOutcome.DUPLICATE:
        return  # the same message delivered again: answered the first time
    if outcome is AnswerOutcome.GONE:
        await chat.send(_("Only the facilitators of this workshop can do that."))
        return
    if outcome is not AnswerOutcome.SAVED or answered.resolution is None:
        replies = {
            AnswerOutcome.EMPTY: _("That message is empty. Write it again, or /cancel."),
            AnswerOutcome.TOO_LONG: _(
                "That is longer than {limit} characters. Write it shorter, or /cancel."
            ).format(limit=number(answered.limit, chat.language)),
            AnswerOutcome.UNREADABLE_DATE: _(
                "I could not read that date. Write it like this: {example} (or /cancel)."
            ).format(example=example),
            AnswerOutcome.PAST_DATE: _(
                "That date is past. Write a date from today on, like this: {example} (or /cancel)."
            ).format(example=example),
        }
        await chat.send("⚠️ " + replies[outcome] + "\n" + _("Nothing was changed."))
        return
    resolution = answered.resolution
    if awaited.card_message_id is not None:
        card = Card(resolution)
        await Courier(chat.bot).edit_text(
            chat.chat_id,
            awaited.card_message_id,
            _card_text(chat, card),
            reply_markup=_card_markup(chat, card),
        )
    saved = {
        Field.TEXT: _("Resolution {number}: its text is changed."),
        Field.CARRIER: _("Resolution {number}: its carrier is changed."),
        Field.DUE: _("Resolution {number}: due on {date}."),
    }[awaited.field]
    await chat.send(
        "✅ " + saved.format(number=resolution.number, date=due_text(resolution, chat.language))
    )


async def show_cancelled(chat: Chat, cancelled: bool) -> None:
    _ = chat.gettext
    await chat.send(_("Cancelled: nothing was changed.") if cancelled else _("Nothing to cancel."))


def resolutions_texts(
    journey: Journey, workshop: Workshop, found: list[Resolution], language: str
) -> list[str]:
    """`/resolutions`: each resolution, numbered, with its carrier and due date."""
    _ = translator(language)
    head = "🤝 <b>" + _("Resolutions of «{title}»").format(title=escape(workshop.title)) + "</b>"
    if not found:
        return [
            head
            + "\n"
            + _(
                "None yet: in the room, mark a convergence on a statement to record one "
                "(/agora room)."
            )
        ]
    blocks = [head]
    for resolution in found:
        blocks.append(
            "\n".join(
                [
                    f"<b>{resolution.number}.</b> " + quoted(resolution.text, language),
                    "👥 "
                    + _("Carried by: {carrier}").format(
                        carrier=carrier_text(journey, resolution, language)
                    ),
                    "📅 " + _("Due: {date}").format(date=due_text(resolution, language)),
                ]
            )
        )
    return split_message(blocks)


async def show_resolutions(chat: Chat, workshop: Workshop, found: list[Resolution]) -> None:
    for text in resolutions_texts(chat.runtime.journey, workshop, found, chat.language):
        await chat.send(text)
