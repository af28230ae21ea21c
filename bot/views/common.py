"""Help, language, refusals, and every input that is not an answer: media, edits, unknown
commands and buttons, and the apology after an error."""

from __future__ import annotations

from enum import StrEnum

from bot.keyboards import language_keyboard
from bot.menus import (
    facilitation_commands,
    names,
    organiser_commands,
    participant_commands,
    publish_role_commands,
)
from bot.views.answers import present
from bot.views.audit import erased_text
from bot.views.chat import Chat
from bot.views.moderation import several_workshops_text
from flows.engine import Step
from flows.errors import Ambiguous, Erased
from reports.labels import language_name
from reports.text import escape, translator
from storage.models import Participant


async def show_help(chat: Chat, *, facilitator: bool, organiser: bool) -> None:
    """/help: what the bot does, and the commands of the user's roles."""
    _ = chat.gettext
    lines = [
        "<b>" + _("How it works") + "</b>",
        _(
            "You answer short questions on your own, at your pace, moment by moment. Scales "
            "are answered with the buttons; reflections with a message. Your answers stay "
            "private: facilitators only see anonymous, grouped results."
        ),
        _(
            "Then, in the exchange between peers, you answer as a member of your actor "
            "category; your requests and commitments go, without your name, to the agora, "
            "where everyone votes on them."
        ),
        "",
    ]
    lines += [
        f"/{c.command} · {c.description}"
        for c in participant_commands(chat.language)
        if c.command not in names("help")
    ]
    if facilitator:
        lines += ["", "<b>" + _("Facilitators") + "</b>"]
        lines += [f"/{c.command} · {c.description}" for c in facilitation_commands(chat.language)]
        lines.append(
            _(
                "With several workshops, add the workshop's code at the end, for example "
                "/agora close Ab12Cd34Ef56Gh78."
            )
        )
    if organiser:
        lines += ["", "<b>" + _("Organisers") + "</b>"]
        lines += [f"/{c.command} · {c.description}" for c in organiser_commands(chat.language)]
    await chat.send("\n".join(lines))


async def show_languages(chat: Chat) -> None:
    await chat.send(chat.gettext("Choose your language:"), reply_markup=language_keyboard())


async def show_language_chosen(
    chat: Chat, current: tuple[Participant, Step] | None, *, has_role: bool, organiser: bool
) -> None:
    """A language button: the choice confirmed, menus and the current question in it."""
    await chat.note()
    _ = chat.gettext
    await chat.rewrite_pressed(
        _("Language: {name}").format(name=escape(language_name(chat.language)))
    )
    if has_role:
        await publish_role_commands(
            chat.bot, chat_id=chat.user_id, language=chat.language, organiser=organiser
        )
    if current is not None:
        participant, step = current
        await present(chat, participant, step)


async def show_whoami(chat: Chat) -> None:
    await chat.send(chat.gettext("Your Telegram id is {id}.").format(id=chat.user_id))


async def show_unknown_command(chat: Chat, command: str) -> None:
    _ = chat.gettext
    await chat.send(
        _("I do not know the command {command}. /help lists what I can do.").format(
            command=escape(command[:64])
        )
    )


class Unsupported(StrEnum):
    """What was sent instead of words or a button."""

    STICKER = "sticker"
    PHOTO = "photo"
    VOICE = "voice"  # a voice note, an audio file, a round video
    VIDEO = "video"
    DOCUMENT = "document"
    LOCATION = "location"  # a location or a venue
    CONTACT = "contact"
    OTHER = "other"  # a poll, a dice, a game...


async def show_unsupported(chat: Chat, kind: Unsupported = Unsupported.OTHER) -> None:
    """Stickers, photos, voice notes, files, locations, contacts: not answers, each told
    so in its own words; nothing is stored."""
    _ = chat.gettext
    said = {
        Unsupported.STICKER: _("Thank you for the sticker! I can only read words, though."),
        Unsupported.PHOTO: _("I cannot look at photos: nothing was saved."),
        Unsupported.VOICE: _("I cannot listen to voice or audio messages: nothing was saved."),
        Unsupported.VIDEO: _("I cannot watch videos: nothing was saved."),
        Unsupported.DOCUMENT: _("I do not open files: nothing was saved."),
        Unsupported.LOCATION: _("No location is needed here: nothing was saved."),
        Unsupported.CONTACT: _(
            "Please share no contact here: nothing was saved, and other people's details "
            "stay private."
        ),
    }.get(kind)
    advice = _(
        "I can only read text messages and buttons. Please write your answer as a "
        "message, or use the buttons under the question."
    )
    await chat.send(advice if said is None else f"{said} {advice}")


async def show_edit_ignored(chat: Chat) -> None:
    _ = chat.gettext
    await chat.send(
        _(
            "Edits to sent messages are not taken into account. To change an answer, use "
            "/back to return to its question."
        )
    )


async def show_slow_down(chat: Chat) -> None:
    """Too many messages or taps at once: the rest of the burst is ignored."""
    _ = chat.gettext
    await chat.send(
        _(
            "You are sending messages very fast: slow down, please. I am ignoring the "
            "last ones; wait a few seconds, then carry on."
        )
    )


async def show_private_only(chat: Chat) -> None:
    """Commands in a group: the workshop happens in private chats, so answers stay private."""
    _ = chat.gettext
    await chat.send(
        _("Let's talk in a private chat, so that your answers stay private: open @{bot}.").format(
            bot=chat.bot.username
        )
    )


async def show_stale_button(chat: Chat) -> None:
    """A button this version of the bot does not know (an old or forged one)."""
    await chat.note(chat.gettext("This button is no longer valid."))


async def show_refusal(chat: Chat, error: Exception, command: str) -> None:
    """Why a facilitator command was not carried out."""
    if isinstance(error, Ambiguous):
        await chat.send(several_workshops_text(error.choices, command, chat.language))
        return
    if isinstance(error, Erased):
        zone = chat.runtime.settings.timezone
        await chat.send(erased_text(error.workshop, error.erased_at, zone, chat.language))
        return
    await chat.send(chat.gettext("Only the facilitators of a workshop can do that."))


def error_text(language: str) -> str:
    """After an unexpected failure: the user is told their saved answers are safe."""
    _ = translator(language)
    return _(
        "Sorry, something went wrong on my side. Every answer you saw confirmed is "
        "saved; /resume shows the question you are at."
    )
