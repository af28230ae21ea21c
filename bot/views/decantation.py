"""The décantation: the deferred moments sent some days after a participant finished, with
their commitments recalled; its one reminder; /decantation's replies; and the follow-up
of resolutions and commitments, with its answers passed on to the facilitators."""

from __future__ import annotations

from bot.menus import spoken
from bot.views.answers import present
from bot.views.chat import Chat, broadcast_chat
from bot.views.prompts import RECALL_UNITS, recalled_text
from flows.decantation import MAX_DAYS, Delay, Refusal, Refused, Sent
from flows.errors import NotAllowed
from flows.followup import Answered, Carried, FollowupProblem, Scheduled
from reports.text import escape, excerpt, number, units, when_text
from storage.outbox import Claimed

# A recalled commitment or resolution in a follow-up, and an answer passed on: cut short.
RECALL_LIMIT = 300
ANSWER_SHOWN = 1500


async def send_decantation(chat: Chat, item: Claimed) -> int | None:
    """The first deferred prompt, with the participant's commitments recalled. It
    moves them to it once; after a crash in flight (a doubled delivery) the prompt they
    are at is sent again. Nothing is sent (settled skipped) to someone not at the end."""
    if item.participant is None:
        return None
    service = chat.runtime.decantation
    sent = await service.start(participant_id=item.participant.id)
    if sent is None and (item.delivery.doubled or item.delivery.attempts):
        # Moved there by an attempt that did not reach them (a crash, the network): the
        # question they are at, shown now.
        sent = await service.unanswered(participant_id=item.participant.id)
    if sent is None:
        return None
    _ = chat.gettext
    lines = [
        "🌱 <b>"
        + _("Some days have passed since the workshop «{title}».").format(
            title=escape(sent.workshop.title)
        )
        + "</b>",
        _(
            "Here are its last two moments, the nourishing feedback and the settling: a "
            "few questions, at your own pace."
        ),
    ]
    if sent.commitments:
        lines += ["", recalled_text(sent.commitments, chat.language)]
    return await present(chat, sent.participant, sent.step, before="\n".join(lines))


async def send_decantation_reminder(chat: Chat, item: Claimed) -> int | None:
    """Once, if the deferred moments are still unanswered: a kind word and the prompt they are
    at, again. Nothing (settled skipped) once they answered it."""
    if item.participant is None:
        return None
    sent: Sent | None = await chat.runtime.decantation.unanswered(
        participant_id=item.participant.id
    )
    if sent is None:
        return None
    _ = chat.gettext
    before = "🔔 " + _(
        "The last moments of «{title}» are still waiting for you, whenever you have a "
        "few minutes. Here is where you are:"
    ).format(title=escape(sent.workshop.title))
    return await present(chat, sent.participant, sent.step, before=before)


# -- /decantation --------------------------------------------------------------------------


async def show_delay(chat: Chat, delay: Delay) -> None:
    _ = chat.gettext
    ngettext = chat.ngettext
    if delay.days == 0:
        said = _("In «{title}», the last two moments now come as soon as a participant finishes.")
    else:
        said = ngettext(
            "In «{title}», the last two moments now come {days} day after a participant finishes.",
            "In «{title}», the last two moments now come {days} days after a participant finishes.",
            delay.days,
        )
    lines = [
        said.format(title=escape(delay.workshop.title), days=number(delay.days, chat.language)),
        _(
            "They ask about what was lived together: while the agora is open they wait, and "
            "once it has closed the delay counts from its closing."
        ),
    ]
    if delay.moved:
        lines.append(
            ngettext(
                "{count} message still to come was moved to the new delay.",
                "{count} messages still to come were moved to the new delay.",
                delay.moved,
            ).format(count=number(delay.moved, chat.language))
        )
    await chat.send("\n".join(lines))


async def show_refused(chat: Chat, error: Refused | NotAllowed, command: str) -> None:
    """Why /decantation or /followup changed nothing."""
    _ = chat.gettext
    if isinstance(error, NotAllowed):
        await chat.send(
            _("Only the organisers and facilitators of a workshop can use {command}.").format(
                command=spoken(command, chat.language)
            )
        )
        return
    examples = {
        "/decantation": _("For instance: /decantation ABC123 10"),
        "/followup": _("For instance: /followup ABC123 in 6 weeks, or /followup ABC123 3/12 9:00"),
    }
    match error.reason:
        case Refusal.USAGE:
            text = (
                _("Give the workshop code and a number of days.")
                if command == "/decantation"
                else _("Give the workshop code and a date and time.")
            )
            text += "\n" + examples.get(command, "")
        case Refusal.UNKNOWN_CODE:
            text = _("No workshop has the code {code}.").format(code=escape(error.code[:64]))
        case Refusal.CLOSED:
            text = _("That workshop is closed: nothing more is sent for it.")
        case Refusal.BAD_DAYS:
            text = (
                _("The delay is a whole number of days from 0 to {max}.").format(
                    max=number(MAX_DAYS, chat.language)
                )
                + "\n"
                + examples["/decantation"]
            )
        case Refusal.NO_TIME:
            text = _("I could not read that date.") + "\n" + examples["/followup"]
        case Refusal.PAST:
            text = _("That moment has passed already.") + "\n" + examples["/followup"]
    await chat.send(text)


# -- the follow-up ----------------------------------------------------------------------


async def show_followup_scheduled(chat: Chat, scheduled: Scheduled) -> None:
    _ = chat.gettext
    when = when_text(scheduled.mailing.due_at, scheduled.zone, chat.language)
    await chat.send(
        "\n".join(
            [
                _(
                    "The follow-up of «{title}» goes on {when} to the authors of the "
                    "commitments put to the agora and the members of the groups that carry "
                    "a resolution."
                ).format(title=escape(scheduled.workshop.title), when=when),
                chat.ngettext(
                    "As things stand, that is {count} participant.",
                    "As things stand, that is {count} participants.",
                    scheduled.recipients,
                ).format(count=number(scheduled.recipients, chat.language)),
                _("Their answers will come to the facilitators as they arrive."),
            ]
        )
    )


def _carried_lines(chat: Chat, carried: Carried) -> list[str]:
    """What a carrier carries, recalled to them."""
    _ = chat.gettext
    lines: list[str] = []
    for heading, texts in (
        (_("Your commitments, put to the agora:"), carried.commitments),
        (_("The resolutions your group carries:"), carried.resolutions),
    ):
        if not texts:
            continue
        lines += ["", f"<b>{heading}</b>"]
        for text in texts:  # as many as fit in one message beside the question
            line = f"• {excerpt(text, RECALL_LIMIT)}"
            if units("\n".join([*lines, line])) > RECALL_UNITS:
                lines.append("• …")
                break
            lines.append(line)
    return lines


async def send_followup(chat: Chat, item: Claimed) -> int | None:
    """A carrier or author asked where they stand: what they carry, recalled, and their
    next message awaited as the answer."""
    if item.participant is None:
        return None
    asked = await chat.runtime.decantation.followup.ask(
        participant_id=item.participant.id, mailing_id=item.mailing.id
    )
    if asked is None:
        return None
    _ = chat.gettext
    lines = [
        "🧭 <b>"
        + _("Where do things stand since «{title}»?").format(title=escape(asked.workshop.title))
        + "</b>",
        *_carried_lines(chat, asked.carried),
        "",
        _(
            "Reply with a message: what has been done, what is under way, what is stuck. "
            "Your answer goes to the facilitators without your name."
        ),
    ]
    sent = await chat.send("\n".join(lines))
    return sent.message_id if sent is not None else None


async def show_followup_answered(chat: Chat, answered: Answered) -> None:
    """Thanks to the carrier; the answer passed on to every facilitator (once)."""
    await chat.send("✅ " + chat.gettext("Thank you: your answer went to the facilitators."))
    if not answered.first:
        return
    for user_id, language in answered.facilitators:
        reached = broadcast_chat(chat.runtime, chat.bot, user_id, language)
        _ = reached.gettext
        lines = [
            "🧭 <b>"
            + _("A follow-up answer for «{title}»").format(title=escape(answered.workshop.title))
            + "</b>",
            # Not what they carry: a commitment or a group's resolution beside the answer
            # would point at a group, and a small group at one person.
            "",
            "<b>" + _("Their answer:") + "</b>",
            f"<blockquote>{excerpt(answered.text, ANSWER_SHOWN)}</blockquote>",
        ]
        await reached.send("\n".join(lines))


async def show_followup_problem(chat: Chat, problem: FollowupProblem) -> None:
    _ = chat.gettext
    if not problem.length:
        await chat.send(_("That message is empty. Please write your answer."))
        return
    await chat.send(
        _(
            "Your message has {length} characters; answers are limited to {limit}. Could you "
            "shorten it? Nothing was saved."
        ).format(
            length=number(problem.length, chat.language),
            limit=number(problem.limit, chat.language),
        )
    )
