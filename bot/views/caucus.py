"""The caucus, member side: one message per phone, edited in place, puts the statements of
their group to them one at a time, as the group's (never under anyone's name); and the
facilitators' `/caucus` replies."""

from __future__ import annotations

from collections import Counter

from telegram import Bot, Message

from bot.keyboards import CAUCUS_PREFIX, caucus_keyboard
from bot.runtime import Runtime
from bot.views.agora import vote_recall
from bot.views.chat import Chat, broadcast_chat
from flows import audiences
from flows.agora import Voted, VoteOutcome
from flows.caucus import MAX_KEEP, CaucusOffer, CaucusSetting, SettingOutcome
from flows.facilitation import PhaseChange
from flows.journey import Journey
from flows.kinds import StatementKind
from reports.labels import group_name, vote_label
from reports.text import escape, ngettext_for, number, quoted, translator
from storage.models import Participant, Statement


def caucus_heading(language: str) -> str:
    """The top of every caucus message: what the group is doing."""
    gettext = translator(language)
    return "\n".join(
        [
            "👥 <b>" + gettext("Your group chooses what it puts to the agora") + "</b>",
            gettext(
                "Vote on the requests and commitments the others of your group wrote: those "
                "your group agrees with most go to the agora as the group's, never under "
                "anyone's name."
            ),
        ]
    )


def group_statement(journey: Journey, statement: Statement, language: str) -> str:
    """A statement of the participant's group, said as the group's."""
    gettext = translator(language)
    if statement.kind == StatementKind.REQUEST:
        target = group_name(journey, statement.target_category, language)
        head = "🗣️ " + gettext("Your group's request to {group}:").format(group=target)
    else:
        head = "🤝 " + gettext("Your group's commitment:")
    return "\n".join([f"<b>{head}</b>", quoted(statement.text, language)])


def caucus_text(
    journey: Journey, offer: CaucusOffer | None, language: str, *, above: str | None = None
) -> str:
    """The caucus message: the heading, the vote just given, then the next statement of
    the group (or that there is none for now)."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    lines = [caucus_heading(language), ""]
    if above:
        lines += [above, ""]
    if offer is None:
        lines.append(
            "✅ "
            + gettext(
                "You have voted on every statement of your group for now. Those the "
                "facilitators approve next will come here."
            )
        )
        return "\n".join(lines)
    lines.append(group_statement(journey, offer.statement, language))
    if offer.remaining:
        lines += [
            "",
            ngettext(
                "{count} more after this one.", "{count} more after this one.", offer.remaining
            ).format(count=number(offer.remaining, language)),
        ]
    return "\n".join(lines)


def choice_made_text(count: int, language: str) -> str:
    """The caucus message once the agora opens: buttons gone, the group's choice told."""
    ngettext = ngettext_for(language)
    return "👥 " + ngettext(
        "Your group's choice is made: {count} statement goes to the agora.",
        "Your group's choice is made: {count} statements go to the agora.",
        count,
    ).format(count=number(count, language))


def caucus_skipped_text(language: str) -> str:
    gettext = translator(language)
    return "👥 " + gettext(
        "The facilitators skipped the groups' choice: your group's statements go to the "
        "agora as they are."
    )


async def offer_caucus(
    chat: Chat,
    participant: Participant,
    *,
    above: str | None = None,
    only_if_new: bool = False,
    fresh: bool = False,
) -> None:
    """Show the next statement of the participant's group on their one caucus message:
    edited in place, sent the first time (or, `fresh`, sent again further down, the old
    one losing its buttons). `only_if_new`: leave it as it is when nothing new is there.
    Decided on the participant as stored now, under their lock: their vote and an approval,
    handled side by side, move the one message once each."""
    async with chat.runtime.ballot(participant.id):
        now = await chat.runtime.agora.participant(participant.id)
        if now is not None:
            await _offer_caucus(chat, now, above=above, only_if_new=only_if_new, fresh=fresh)


async def _offer_caucus(
    chat: Chat,
    participant: Participant,
    *,
    above: str | None = None,
    only_if_new: bool = False,
    fresh: bool = False,
) -> None:
    """`offer_caucus` for a caller that holds the participant's lock."""
    caucus = chat.runtime.caucus
    offer = await caucus.next_offer(participant)
    if offer is None and only_if_new:
        return
    text = caucus_text(chat.runtime.journey, offer, chat.language, above=above)
    keyboard = caucus_keyboard(offer.statement.id, chat.language) if offer else None
    message_id = await chat.show_in_place(
        participant.caucus_message_id, text, reply_markup=keyboard, fresh=fresh
    )
    if message_id is None:  # a broadcast that could not reach them: nothing is in front of them
        return
    await caucus.remember_offer(
        participant_id=participant.id,
        statement_id=offer.statement.id if offer is not None else None,
        message_id=message_id,
    )


async def join_caucus(chat: Chat, participant: Participant) -> bool:
    """A participant who has finished joins their group's caucus, if it is choosing now
    (once: not again if they hold its message). True if they are in it."""
    member = await chat.runtime.caucus.seat(user_id=participant.user_id)
    if member is None:
        return False
    async with chat.runtime.ballot(member.id):
        now = await chat.runtime.agora.participant(member.id)
        if now is not None and now.caucus_message_id is None:
            await _offer_caucus(chat, now)
    return True


async def offer_caucus_to_waiting(runtime: Runtime, bot: Bot, workshop_id: int) -> None:
    """Statements were approved: every member in the caucus with nothing in front of them
    is shown their group's next one (their message edited, or sent if they have none).
    Asked twice, it changes nothing more."""
    members = await runtime.caucus.members(workshop_id=workshop_id)
    for member in audiences.caucus_waiting(members):
        reached = broadcast_chat(runtime, bot, member.user_id, member.language)
        async with runtime.ballot(member.id):
            now = await runtime.agora.participant(member.id)
            if now is None or now.caucus_statement_id is not None:
                continue  # their own vote moved them on meanwhile
            await _offer_caucus(reached, now, only_if_new=now.caucus_message_id is not None)


def _refusal(outcome: VoteOutcome, language: str) -> str | None:
    """Why a caucus vote did not count, or None when it did."""
    _ = translator(language)
    refusals = {
        VoteOutcome.FOREIGN: _("This button is no longer valid."),
        VoteOutcome.INVALID: _("This button is no longer valid."),
        VoteOutcome.UNAVAILABLE: _(
            "This statement is no longer among your group's choices: nothing was saved."
        ),
        VoteOutcome.OWN: _("This is your own statement: writing it counts as agreeing."),
        VoteOutcome.CLOSED: _("Your group's choice is made: these votes are no longer taken."),
        VoteOutcome.WITHDRAWN: _("The facilitators withdrew this statement: nothing was saved."),
        VoteOutcome.IN_REVIEW: _("This statement is still being reviewed: nothing was saved."),
    }
    return refusals.get(outcome)


async def show_caucus_vote(chat: Chat, voted: Voted) -> None:
    """A caucus button pressed: the vote noted and the message moved on to the group's next
    statement (the vote recalled on top); or why it did not count."""
    _ = chat.gettext
    statement, member = voted.statement, voted.participant
    refusal = _refusal(voted.outcome, chat.language)
    if refusal is not None:
        await chat.note(refusal)
        if voted.outcome is VoteOutcome.CLOSED and _shows_caucus(chat):
            await chat.close_pressed()
        shown = member is not None and (
            voted.was_offer
            or (statement is not None and member.caucus_statement_id == statement.id)
        )
        if member is not None and shown and voted.outcome is not VoteOutcome.CLOSED:
            await offer_caucus(chat, member, above="🚫 " + refusal)
        return
    assert member is not None and voted.value is not None
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
        await offer_caucus(chat, member, above=vote_recall(voted.value, chat.language))


def _shows_caucus(chat: Chat) -> bool:
    """Whether the pressed message carries caucus buttons (a forged button on another
    message must not take that message's off)."""
    message = chat.query.message if chat.query else None
    if not isinstance(message, Message) or message.reply_markup is None:
        return False
    return any(
        str(button.callback_data or "").startswith(f"{CAUCUS_PREFIX}:")
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


async def close_caucus(chat: Chat, change: PhaseChange) -> None:
    """The agora opened (self-paced or in a room): each caucus message loses its buttons
    and tells how many of the group's statements went to the agora."""
    members = audiences.caucus_closed(change)
    sent = (
        await chat.runtime.caucus.sent_by_group(workshop_id=change.workshop.id)
        if members
        else Counter[str]()
    )
    for member in members:
        assert member.caucus_message_id is not None
        reached = broadcast_chat(chat.runtime, chat.bot, member.user_id, member.language)
        text = choice_made_text(sent[member.category or ""], reached.language)
        await reached.edit(member.caucus_message_id, text)
        await chat.runtime.caucus.remember_offer(
            participant_id=member.id, statement_id=None, message_id=None
        )


def _settings_line(setting: CaucusSetting, language: str) -> str:
    gettext = translator(language)
    ngettext = ngettext_for(language)
    workshop = setting.workshop
    if not workshop.caucus:
        return gettext("The groups' choice is off: every approved statement goes to the agora.")
    keep = ngettext(
        "Each group keeps its {count} most agreed request to each other group",
        "Each group keeps its {count} most agreed requests to each other group",
        workshop.caucus_keep,
    ).format(count=number(workshop.caucus_keep, language))
    commitments = ngettext(
        "and its {count} most agreed commitment.",
        "and its {count} most agreed commitments.",
        workshop.caucus_commitments,
    ).format(count=number(workshop.caucus_commitments, language))
    return f"{keep} {commitments}"


def caucus_setting_text(setting: CaucusSetting, language: str) -> str:
    """What a facilitator is told after `/caucus ...`."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    title = escape(setting.workshop.title)
    if setting.outcome is SettingOutcome.CLOSED:
        return gettext(
            "The groups of «{title}» have chosen already (the agora is open): the caucus "
            "cannot change any more."
        ).format(title=title)
    if setting.outcome is SettingOutcome.INVALID:
        return gettext(
            "Give a number from 1 to {max}, for example /caucus keep 2. Nothing changed."
        ).format(max=number(MAX_KEEP, language))
    lines = ["👥 <b>" + gettext("Caucus of «{title}»").format(title=title) + "</b>"]
    if setting.outcome is SettingOutcome.SAME:
        lines.append(gettext("It was so already: nothing changed."))
    lines.append(_settings_line(setting, language))
    if setting.workshop.caucus_open:
        lines.append(
            ngettext(
                "Now: {count} statement to choose among, {votes} votes of members.",
                "Now: {count} statements to choose among, {votes} votes of members.",
                setting.in_caucus,
            ).format(
                count=number(setting.in_caucus, language), votes=number(setting.votes, language)
            )
        )
    lines.append(gettext("The choice is made when you open the agora (/agora). See /caucus help."))
    return "\n".join(lines)


async def show_caucus_setting(chat: Chat, setting: CaucusSetting) -> None:
    """/caucus: the facilitator told; switched on, members waiting are shown their group's
    statements; switched off, caucus messages lose their buttons."""
    if setting.outcome is SettingOutcome.CHANGED:
        if setting.workshop.caucus_open:
            await offer_caucus_to_waiting(chat.runtime, chat.bot, setting.workshop.id)
        for member in setting.dismissed:
            assert member.caucus_message_id is not None
            reached = broadcast_chat(chat.runtime, chat.bot, member.user_id, member.language)
            await reached.edit(member.caucus_message_id, caucus_skipped_text(reached.language))
            await chat.runtime.caucus.remember_offer(
                participant_id=member.id, statement_id=None, message_id=None
            )
    await chat.send(caucus_setting_text(setting, chat.language))


async def show_caucus_usage(chat: Chat) -> None:
    _ = chat.gettext
    await chat.send(
        "\n".join(
            [
                _(
                    "After the second phase, each group chooses, among what its members "
                    "wrote, the requests and commitments it puts to the agora."
                ),
                _("/caucus: how it stands."),
                _("/caucus off: skip it, every approved statement goes to the agora."),
                _("/caucus on: the groups choose (the default)."),
                _("/caucus keep N: the requests each group keeps per other group (2)."),
                _("/caucus commitments N: the commitments each group keeps (3)."),
                _("Add the workshop code if you facilitate several."),
            ]
        )
    )


async def resume_caucus(chat: Chat) -> bool:
    """/resume in the caucus: the caucus message sent again further down. False if the
    user is not in a caucus now."""
    member = await chat.runtime.caucus.seat(user_id=chat.user_id)
    if member is None:
        return False
    await offer_caucus(chat, member, fresh=True)
    return True
