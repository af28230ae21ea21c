"""What organisers read while managing their workshops: the questions after /newsession,
/session, /workshops and its buttons, closing, a new facilitator link, co-organisers,
and anyone's /timezone."""

from __future__ import annotations

from datetime import tzinfo

from telegram import InlineKeyboardMarkup

from bot.organising_keyboards import (
    close_keyboard,
    skip_keyboard,
    timezone_keyboard,
    workshop_keyboard,
)
from bot.views import board
from bot.views.audit import erased_text
from bot.views.chat import Chat, broadcast_chat
from bot.views.sessions import session_line
from flows.errors import Erased, NotAllowed
from flows.newsession import DAY
from flows.organising import (
    Change,
    Managed,
    NotListed,
    Problem,
    Question,
    UnknownWorkshop,
)
from flows.zones import COMMON_ZONES
from reports.text import escape, excerpt, number, translator
from storage.models import Session, Workshop


def when_examples(language: str) -> str:
    """Two ways to write a date and time, in the reader's language."""
    _ = translator(language)
    return _("for example «3/12 9:00» or «2026-12-03 09:00»")


async def show_refused(chat: Chat, error: NotAllowed) -> None:
    """Why an organiser's command was refused: an unknown code, or not their workshop."""
    _ = chat.gettext
    if isinstance(error, Erased):
        zone = chat.runtime.settings.timezone
        text = erased_text(error.workshop, error.erased_at, zone, chat.language)
    elif isinstance(error, UnknownWorkshop):
        text = _(
            "This code does not open any workshop. Send the workshop's code as it appears "
            "in its join link (codes are case-sensitive); /workshops lists yours."
        )
    elif isinstance(error, NotListed):
        text = _(
            "Only the organisers named in the bot's settings (COOPBOT_ORGANISERS) can add "
            "co-organisers."
        )
    else:
        text = _("Only the organisers of that workshop can do that.")
    await chat.note()
    await chat.send(text)


async def show_usage(chat: Chat, command: str) -> None:
    """How an organiser's command is written, when it came without what it needs."""
    _ = chat.gettext
    usages = {
        "close": _("Write the workshop's code: /close <code> (/workshops lists them)."),
        "revoke": _("Write the workshop's code: /revoke <code> (/workshops lists them)."),
        "audit": _("Write the workshop's code: /audit <code> (/workshops lists them)."),
        "coorganiser": _(
            "Write the workshop's code and the co-organiser's Telegram id (they get it by "
            "sending /whoami): /coorganiser <code> 123456789"
        ),
    }
    await chat.send(escape(usages[command]) if command in usages else session_usage(chat.language))


async def ask(chat: Chat, change: Change) -> None:
    """The next question after /newsession, with its skip button."""
    _ = chat.gettext
    question = change.asking
    if question is Question.WHEN:
        text = _(
            "When is the first session of «{title}»? Write its date and time ({examples}). "
            "You can also add sessions later with /session."
        ).format(title=escape(change.workshop.title), examples=when_examples(chat.language))
    elif question is Question.PLACE:
        text = _("Where does it take place? Write the place (an address, a room).")
    elif question is Question.TERRITORY:
        text = _("Which territory does the workshop bring together (a town, a valley, a region)?")
    elif question is Question.DECANTATION:
        days = change.workshop.decantation_seconds // DAY
        text = _(
            "Some days after the workshop, each participant receives its last two moments, "
            "the nourishing feedback and the décantation, with their commitments recalled. "
            "After how many days (0 to 90)? Skip to keep {days}."
        ).format(days=number(days, chat.language))
    else:
        return
    keyboard = skip_keyboard(change.workshop.id, question.value, chat.language)
    await chat.send(text, reply_markup=keyboard)


def _problem_text(change: Change, language: str) -> str:
    _ = translator(language)
    if change.problem is Problem.UNREADABLE:
        return _("I could not read a date and time there; write it {examples}.").format(
            examples=when_examples(language)
        )
    if change.problem is Problem.PAST:
        return _("That moment has passed; give a date and time to come, {examples}.").format(
            examples=when_examples(language)
        )
    if change.problem is Problem.TOO_LONG:
        return _("That text is {length} characters long; the limit is {limit}.").format(
            length=number(change.length, language), limit=number(change.limit, language)
        )
    if change.problem is Problem.CLOSED:
        return _("The workshop «{title}» is closed.").format(title=escape(change.workshop.title))
    if change.problem is Problem.NOT_DAYS:
        return _("Write a number of days from 0 to 90, for example 10.")
    if change.problem is Problem.UNKNOWN_ZONE:
        return _("That is not a time zone I know; write it like Europe/Paris.")
    if change.problem is Problem.NOT_A_USER:
        return escape(
            _(
                "Give the co-organiser's Telegram id, a number (they get it by sending /whoami): "
                "/coorganiser <code> 123456789"
            )
        )
    return session_usage(language)


def session_usage(language: str) -> str:
    """How /session is written."""
    _ = translator(language)
    return escape(
        _(
            "To add a session: /session <code> <date and time> [place], {examples}, e.g. "
            "/session Ab12Cd34Ef56Gh78 2026-12-03 09:00 Town hall.\n"
            "To set the territory: /session <code> territory <text>.\n"
            "To set the workshop's time zone: /session <code> timezone Europe/Paris."
        ).format(examples=when_examples(language))
    )


def _session_added(session: Session, zone: tzinfo | None, language: str) -> str:
    _ = translator(language)
    assert zone is not None
    return (
        "✅ "
        + session_line(session, zone, language)
        + "\n"
        + _(
            "Participants receive an invitation with a calendar file, and reminders the eve "
            "at 18:00 and one hour before (those who join later too)."
        )
    )


async def show_answer(chat: Chat, change: Change) -> None:
    """A typed answer or a skip of a /newsession question: what it did, then the next
    question (or that all is set)."""
    _ = chat.gettext
    await chat.note()
    if change.problem is Problem.DUPLICATE:
        return
    if change.problem is Problem.STALE:
        await chat.close_pressed()
        return
    if chat.query is not None:
        await chat.close_pressed()
    if change.problem is not None:
        await chat.send(_problem_text(change, chat.language))
        return
    if change.session is not None:
        await chat.send(_session_added(change.session, change.zone, chat.language))
    if change.asking is not None:
        await ask(chat, change)
        return
    days = change.workshop.decantation_seconds // DAY
    await chat.send(
        _("«{title}» is ready. /workshops shows your workshops and their links.").format(
            title=escape(change.workshop.title)
        )
        + "\n"
        + escape(  # the template holds "<days>"
            chat.ngettext(
                "The décantation reaches each participant {count} day after they finish "
                "(/decantation {code} <days> changes it).",
                "The décantation reaches each participant {count} days after they finish "
                "(/decantation {code} <days> changes it).",
                days,
            )
        ).format(count=number(days, chat.language), code=escape(change.workshop.code))
    )


async def show_session(chat: Chat, change: Change) -> None:
    """/session: a session added, a territory or time zone set, or why not."""
    _ = chat.gettext
    if change.problem is not None:
        await chat.send(_problem_text(change, chat.language))
        return
    if change.session is not None:
        await chat.send(_session_added(change.session, change.zone, chat.language))
        return
    workshop = change.workshop
    await chat.send(
        _("«{title}»: territory {territory}, time zone {zone}.").format(
            title=escape(workshop.title),
            territory=excerpt(workshop.territory or "—", 200),
            zone=escape(workshop.timezone or "—"),
        )
    )


def _workshop_text(managed: Managed, language: str) -> str:
    _ = translator(language)
    workshop = managed.workshop
    state = board.phases_line(workshop, language) if workshop.is_open else _("closed")
    lines = [
        f"<b>{escape(workshop.title)}</b> · <code>{workshop.code}</code>",
        _("{joined} joined, {finished} finished").format(
            joined=number(managed.joined, language), finished=number(managed.finished, language)
        ),
        state,
    ]
    if workshop.territory:
        lines.append(_("Territory: {territory}").format(territory=excerpt(workshop.territory, 200)))
    if managed.next_session is not None:
        lines.append(
            _("Next: {session}").format(
                session=session_line(managed.next_session, managed.zone, language)
            )
        )
    else:
        lines.append(_("No session to come."))
    return "\n".join(lines)


async def show_workshops(chat: Chat, managed: list[Managed]) -> None:
    """/workshops: one message per workshop, with its buttons."""
    _ = chat.gettext
    if not managed:
        await chat.send(escape(_("You organise no workshop yet: /newsession <title> creates one.")))
        return
    for one in managed:
        text = _workshop_text(one, chat.language)
        await chat.send(text, reply_markup=_buttons(chat, one.workshop))


async def show_close_confirmation(chat: Chat, workshop: Workshop) -> None:
    """The close button: a confirmation first, on the same message."""
    await chat.note()
    pressed = chat.pressed_message_id()
    if pressed is not None:
        await chat.set_buttons(pressed, close_keyboard(workshop.id, chat.language))


async def show_kept(chat: Chat, workshop: Workshop) -> None:
    """Not closed after all: the workshop's buttons are back."""
    await chat.note()
    pressed = chat.pressed_message_id()
    if pressed is not None:
        await chat.set_buttons(pressed, _buttons(chat, workshop))


async def show_closed(chat: Chat, change: Change) -> None:
    """/close or its confirmed button: the workshop takes no more answers."""
    _ = chat.gettext
    await chat.note()
    pressed = chat.pressed_message_id()
    if pressed is not None:
        await chat.set_buttons(pressed, _buttons(chat, change.workshop))
    title = escape(change.workshop.title)
    if not change.changed:
        await chat.send(_("The workshop «{title}» was already closed.").format(title=title))
        return
    await chat.send(
        _(
            "The workshop «{title}» is closed: it takes no more answers nor participants, "
            "and nothing automatic is sent for it any more."
        ).format(title=title)
    )


def _buttons(chat: Chat, workshop: Workshop) -> InlineKeyboardMarkup:
    return workshop_keyboard(
        workshop.id,
        is_open=workshop.is_open,
        language=chat.language,
        facilitator_code=workshop.facilitator_code,
    )


async def show_revoked(chat: Chat, change: Change) -> None:
    """The facilitator link as it is now: the new one (or, pressed twice, the same one
    again); the pressed /workshops message's buttons now replace that one."""
    await chat.note()
    pressed = chat.pressed_message_id()
    if change.changed and pressed is not None:
        await chat.set_buttons(pressed, _buttons(chat, change.workshop))
    await board.show_facilitator_link(chat, change.workshop)


async def show_join_link(chat: Chat, workshop: Workshop) -> None:
    await chat.note()
    await board.show_join_link(chat, workshop)


SESSIONS_SHOWN = 12


async def show_sessions(
    chat: Chat, workshop: Workshop, sessions: list[Session], zone: tzinfo
) -> None:
    _ = chat.gettext
    await chat.note()
    lines = [f"📅 <b>{escape(workshop.title)}</b>"]
    # The latest ones, as many as one message holds (a weekly meeting over a year).
    shown = [session_line(session, zone, chat.language) for session in sessions][-SESSIONS_SHOWN:]
    if len(sessions) > len(shown):
        lines.append("…")
    lines += shown
    if not sessions:
        lines.append(_("No session yet."))
    lines.append(
        escape(_("Add one with /session {code} <date and time> [place].")).format(
            code=workshop.code
        )
    )
    await chat.send("\n".join(lines))


async def show_coorganiser(chat: Chat, change: Change, typed_id: str) -> None:
    """/coorganiser: added (and told, if the bot can write to them), or why not."""
    _ = chat.gettext
    if change.problem is not None:
        await chat.send(_problem_text(change, chat.language))
        return
    title = escape(change.workshop.title)
    if not change.changed:
        text = _("{id} already organises «{title}».")
        await chat.send(text.format(id=typed_id, title=title))
        return
    await chat.send(
        _(
            "{id} now co-organises «{title}»: /workshops, /session, /close, /revoke, "
            "/remind and /broadcast work for them on this workshop."
        ).format(id=typed_id, title=title)
    )
    other = broadcast_chat(chat.runtime, chat.bot, int(typed_id))
    language = await chat.runtime.service.preferred_language(user_id=other.user_id)
    other = other.speaking(language or other.language)
    await other.send(
        other.gettext("You now co-organise «{title}». /workshops shows it.").format(title=title)
    )


async def show_timezones(chat: Chat, current: str | None) -> None:
    """/timezone alone: the zone in use and the common ones as buttons."""
    _ = chat.gettext
    zone = current or chat.runtime.settings.timezone.key
    await chat.send(
        _(
            "Your time zone: {zone}. Choose another one below, or send its name, for "
            "example /timezone Europe/Brussels."
        ).format(zone=escape(zone)),
        reply_markup=timezone_keyboard(COMMON_ZONES),
    )


async def show_timezone_set(chat: Chat, name: str | None) -> None:
    """A zone chosen (by button or by name), or not recognised."""
    _ = chat.gettext
    await chat.note()
    if name is None:
        await chat.send(
            _("That is not a time zone I know; write it like Europe/Paris or America/Martinique.")
        )
        return
    text = _("Your time zone is now {zone}: dates and reminders follow it.").format(
        zone=escape(name)
    )
    if chat.query is not None:
        await chat.rewrite_pressed(text)
    else:
        await chat.send(text)
