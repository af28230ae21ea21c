"""Joining, welcoming, pausing and resuming: what a participant (or a facilitator opening
their link) is told about their place in a workshop."""

from __future__ import annotations

from bot.menus import publish_role_commands
from bot.views import prompts
from bot.views.agora import resume_agora
from bot.views.answers import present
from bot.views.caucus import resume_caucus
from bot.views.chat import Chat
from flows.engine import Step
from flows.service import Joined, JoinResult
from reports.text import escape
from storage.models import Participant, Workshop


async def show_joined(chat: Chat, joined: Joined) -> None:
    """The result of a join or facilitator link (or /join with a code)."""
    _ = chat.gettext
    if joined.result is JoinResult.UNKNOWN_CODE:
        await chat.send(
            _(
                "This code does not open any workshop. Check the link or the code with your "
                "facilitator; codes are case-sensitive."
            )
        )
        return
    if joined.result is JoinResult.TOO_MANY_CODES:
        await chat.send(
            chat.ngettext(
                "Too many wrong codes: try again in {minutes} minute.",
                "Too many wrong codes: try again in {minutes} minutes.",
                joined.wait_minutes,
            ).format(minutes=joined.wait_minutes)
        )
        return
    assert joined.workshop is not None
    title = escape(joined.workshop.title)
    if joined.result is JoinResult.CLOSED:
        await chat.send(_("The workshop «{title}» is closed.").format(title=title))
        return
    if joined.result in (JoinResult.FACILITATOR, JoinResult.ALREADY_FACILITATOR):
        await _welcome_facilitator(chat, joined.result, title)
        return
    assert joined.participant is not None and joined.step is not None
    left = joined.left_behind
    if left is not None and left.prompt_message_id is not None:  # that workshop waits now
        await chat.set_buttons(left.prompt_message_id, None)
    before = None
    if joined.result is JoinResult.RESUMED:
        before = _("Welcome back to «{title}». Here is where you are:").format(title=title)
    await present(chat, joined.participant, joined.step, before=before)


async def _welcome_facilitator(chat: Chat, result: JoinResult, title: str) -> None:
    _ = chat.gettext
    text = (
        _("You are now a facilitator of «{title}».")
        if result is JoinResult.FACILITATOR
        else _("You already facilitate «{title}».")
    )
    await chat.send(
        text.format(title=title)
        + "\n"
        + _("Follow the participants live with /progress. You never see who answered what.")
    )
    await publish_role_commands(
        chat.bot,
        chat_id=chat.chat_id,
        language=chat.language,
        organiser=chat.runtime.service.is_organiser(chat.user_id),
    )


async def show_welcome(
    chat: Chat,
    current: tuple[Participant, Step] | None,
    *,
    organiser: bool,
    facilitated: list[Workshop],
) -> None:
    """/start alone: back to where the user was, or what the bot does and how to join."""
    _ = chat.gettext
    if organiser or facilitated:
        await publish_role_commands(
            chat.bot, chat_id=chat.chat_id, language=chat.language, organiser=organiser
        )
    if current is not None:
        participant, step = current
        await present(chat, participant, step, before=_("Welcome back! Here is where you are:"))
        return
    lines = [
        _(
            "Hello! I accompany cooperation workshops between local authorities and social "
            "and solidarity economy actors."
        )
    ]
    if organiser:
        lines.append(
            _("As an organiser, create a workshop with /newsession followed by its title.")
        )
    if facilitated:
        lines.append(_("Follow your workshops live with /progress."))
    lines.append(prompts.not_joined_text(chat.language))
    await chat.send("\n\n".join(lines))


async def show_join_usage(chat: Chat) -> None:
    """/join without a code."""
    _ = chat.gettext
    await chat.send(
        _("Send /join followed by the workshop code, for example /join Ab12Cd34Ef56Gh78.")
    )


async def show_paused(chat: Chat, participant: Participant | None) -> None:
    _ = chat.gettext
    if participant is None:
        await chat.send(prompts.not_joined_text(chat.language))
    elif participant.finished_at is not None:
        await chat.send(
            _(
                "Paused: nothing will be sent to you unasked (reminders, the décantation) "
                "until you send /resume."
            )
        )
    else:
        await chat.send(
            _("Paused. Your answers are saved; send /resume whenever you want to continue.")
        )


async def show_resumed(chat: Chat, current: tuple[Participant, Step] | None) -> None:
    """/resume: the current question again; in the caucus or the agora, the message to vote
    with, sent again at the bottom of the chat (the old one loses its buttons)."""
    if current is None:
        await chat.send(prompts.not_joined_text(chat.language))
        return
    participant, step = current
    if await resume_caucus(chat) or await resume_agora(chat):
        return
    await present(chat, participant, step)
