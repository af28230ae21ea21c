"""The review queue, facilitator side: the statements waiting for review shown in batches
(one message per batch, the same to every facilitator, each in their language), the
decisions taken on them shown on every copy, the authors of proposals told, and approved
statements brought to whoever waits for one (the caucus, the agora, the room)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import Bot

from bot.keyboards import merge_keyboard, review_keyboard
from bot.runtime import Runtime
from bot.views.agora import offer_to_everyone_waiting, proposal_decided_text
from bot.views.caucus import offer_caucus_to_waiting
from bot.views.chat import Chat, broadcast_chat
from bot.views.room import sync_room
from flows.audiences import author_to_tell
from flows.identifying import Identifying
from flows.journey import Journey
from flows.kinds import AgoraMode, StatementStatus
from flows.review import Batch, Reviewed, ReviewOutcome, ReviewSwitch
from reports.labels import statement_heading
from reports.text import (
    MESSAGE_LIMIT,
    escape,
    ngettext_for,
    number,
    quoted,
    strip_tags,
    translator,
    units,
)
from storage.models import Statement, Workshop

# A statement's text in a batch is cut to this only when the whole would not fit a message.
SHORT_QUOTE = 400
# The queue is shown by one worker at a time (`Database.exclusive`).
REVIEW_SECTION = "review-queue"


def statement_status(status: str, language: str) -> str:
    gettext = translator(language)
    return {
        "pending": "⏳ " + gettext("Waiting for approval"),
        "approved": "✅ " + gettext("Approved"),
        "rejected": "❌ " + gettext("Rejected"),
        "withdrawn": "🚫 " + gettext("Withdrawn"),
        "merged": "🔀 " + gettext("Merged"),
    }[status]


def flags_line(flags: Sequence[Identifying], language: str) -> str:
    """What in a statement may identify someone, for the facilitator to look twice."""
    gettext = translator(language)
    names = {
        Identifying.NAME: gettext("a name"),
        Identifying.HANDLE: gettext("an @handle"),
        Identifying.EMAIL: gettext("an e-mail address"),
        Identifying.PHONE: gettext("a phone number"),
        Identifying.LINK: gettext("a link"),
    }
    return "⚠️ " + gettext("It may identify someone: {details}.").format(
        details=", ".join(names[flag] for flag in flags)
    )


def _status_line(batch: Batch, statement: Statement, language: str) -> str:
    if statement.status == StatementStatus.MERGED and statement.id in batch.kept:
        gettext = translator(language)
        return "🔀 " + gettext("Merged into {number}").format(number=batch.kept[statement.id])
    return statement_status(statement.status, language)


def batch_text(journey: Journey, batch: Batch, language: str) -> str:
    """A batch of the review queue, as every facilitator sees it (never who wrote what)."""
    text = _batch_text(journey, batch, language, limit=None)
    if units(strip_tags(text)) > MESSAGE_LIMIT:
        text = _batch_text(journey, batch, language, limit=SHORT_QUOTE)
    return text


def _batch_text(journey: Journey, batch: Batch, language: str, *, limit: int | None) -> str:
    gettext, ngettext = translator(language), ngettext_for(language)
    waiting = len(batch.pending)
    head = [f"🛡️ <b>{escape(batch.workshop.title)}</b> · " + gettext("Review")]
    if waiting:
        head.append(
            ngettext(
                "{count} statement waits for your review: nobody sees it before it is approved.",
                "{count} statements wait for your review: nobody sees them before they are "
                "approved.",
                waiting,
            ).format(count=number(waiting, language))
        )
    else:
        head.append(gettext("Every statement of this batch is decided."))
    blocks = ["\n".join(head)]
    for statement in batch.statements:
        lines = [
            f"<b>{statement.number}.</b> " + statement_heading(journey, statement, language),
            quoted(statement.text, language, limit=limit),
        ]
        if statement.id in batch.flags and statement.status == StatementStatus.PENDING:
            lines.append(flags_line(batch.flags[statement.id], language))
        lines.append(_status_line(batch, statement, language))
        blocks.append("\n".join(lines))
    if waiting:
        blocks.append(
            gettext(
                "✅ approve · ❌ reject · 🔀 merge into another statement (the one kept counts "
                "the merged one's votes and authors)"
            )
        )
    return "\n\n".join(blocks)


def merge_text(
    journey: Journey, statement: Statement, candidates: Sequence[Statement], language: str
) -> str:
    """The statements a statement may be merged into, to choose from (their excerpts
    shorter when long ones would not fit a message)."""
    text = _merge_text(journey, statement, candidates, language, limit=160)
    if units(strip_tags(text)) > MESSAGE_LIMIT:
        text = _merge_text(journey, statement, candidates, language, limit=60)
    return text


def _merge_text(
    journey: Journey,
    statement: Statement,
    candidates: Sequence[Statement],
    language: str,
    *,
    limit: int,
) -> str:
    gettext = translator(language)
    lines = [
        "🔀 <b>"
        + gettext("Merge statement {number} into another").format(number=statement.number)
        + "</b>",
        statement_heading(journey, statement, language),
        quoted(statement.text, language, limit=300),
        "",
        gettext(
            "Which statement does it join? The one kept counts the merged one's votes and "
            "authors; the merged one is never shown on its own."
        ),
    ]
    for candidate in candidates:
        lines += [
            "",
            f"<b>{candidate.number}.</b> "
            + statement_status(candidate.status, language)
            + "\n"
            + quoted(candidate.text, language, limit=limit),
        ]
    return "\n".join(lines)


async def _language_of(state: Runtime, user_id: int) -> str:
    return (
        await state.service.preferred_language(user_id=user_id) or state.settings.default_language
    )


# -- showing the queue ---------------------------------------------------------------------


async def flush_review_queue(state: Runtime, bot: Bot) -> list[Batch]:
    """Show every facilitator the statements waiting for review that nobody was shown yet,
    one message per batch. Returns the batches shown."""
    shown: list[Batch] = []
    # One worker at a time: another, showing the same statements, remembers them first.
    assert state.database is not None
    async with state.review_lock, state.database.exclusive(REVIEW_SECTION):
        for batch in await state.review.unqueued():
            if await _send_batch(state, bot, batch, batch.facilitators):
                shown.append(batch)
    return shown


async def _send_batch(state: Runtime, bot: Bot, batch: Batch, to: Iterable[int]) -> bool:
    """Send a batch to facilitators, each in their language; every copy is remembered so
    that a decision edits them all. Whether one copy at least was sent."""
    sent_any = False
    for facilitator_id in to:
        their = broadcast_chat(
            state, bot, facilitator_id, await _language_of(state, facilitator_id)
        )
        sent = await their.send(
            batch_text(state.journey, batch, their.language),
            reply_markup=review_keyboard(batch.pending, their.language),
        )
        if sent is not None:
            sent_any = True
            await state.review.remember(
                batch=batch, chat_id=facilitator_id, message_id=sent.message_id
            )
    return sent_any


async def show_queue(chat: Chat, workshop: Workshop) -> None:
    """/review: the new statements go to every facilitator now, and the asker gets again,
    in batches, those waiting that they were shown before (their earlier copies say so and
    lose their buttons: only the newest can be pressed)."""
    state = chat.runtime
    flushed = [
        s.id
        for batch in await flush_review_queue(state, chat.bot)
        if batch.workshop.id == workshop.id
        for s in batch.statements
    ]
    again = await state.review.waiting(workshop=workshop, excluding=flushed)
    for batch in again:
        earlier = await state.review.copies_in(batch=batch, chat_id=chat.chat_id)
        sent = await chat.send(
            batch_text(state.journey, batch, chat.language),
            reply_markup=review_keyboard(batch.pending, chat.language),
        )
        if sent is not None:
            await state.review.remember(
                batch=batch, chat_id=chat.chat_id, message_id=sent.message_id
            )
            for message_id in earlier:
                await chat.edit(message_id, _moved_text(workshop, chat.language))
    if not flushed and not again:
        await chat.send(_queue_empty_text(workshop, chat.language))


def _moved_text(workshop: Workshop, language: str) -> str:
    """An earlier copy of statements shown again further down."""
    gettext = translator(language)
    return (
        f"🛡️ <b>{escape(workshop.title)}</b> · "
        + gettext("Review")
        + "\n"
        + gettext("These statements are shown again further down: decide them there.")
    )


def _queue_empty_text(workshop: Workshop, language: str) -> str:
    gettext = translator(language)
    text = gettext("Nothing waits for review in «{title}».").format(title=escape(workshop.title))
    return f"{text}\n{_review_mode_text(workshop.review, language)}"


def _review_mode_text(on: bool, language: str) -> str:
    gettext = translator(language)
    if on:
        return gettext(
            "Review is on: each new statement waits for a facilitator before anyone sees it "
            "(/review off to put them to everyone at once)."
        )
    return gettext(
        "Review is off: new statements reach the participants at once (/review on to check "
        "them first)."
    )


async def show_review_switch(chat: Chat, switch: ReviewSwitch) -> None:
    """/review on|off: the workshop's setting now, and what still waits."""
    _, ngettext = chat.gettext, chat.ngettext
    title = escape(switch.workshop.title)
    if switch.changed:
        first = _("Done for «{title}».").format(title=title)
    else:
        first = _("Nothing changed for «{title}».").format(title=title)
    lines = [first, _review_mode_text(switch.workshop.review, chat.language)]
    if switch.waiting and not switch.workshop.review:
        lines.append(
            ngettext(
                "{count} statement written before still waits for your review: turning review "
                "off approves nothing by itself. /review shows it.",
                "{count} statements written before still wait for your review: turning review "
                "off approves nothing by itself. /review shows them.",
                switch.waiting,
            ).format(count=number(switch.waiting, chat.language))
        )
    await chat.send("\n".join(lines))


async def show_review_usage(chat: Chat) -> None:
    _ = chat.gettext
    await chat.send(
        _(
            "/review shows the statements waiting for review; /review off puts new "
            "statements to everyone at once; /review on checks them first again."
        )
    )


# -- decisions -----------------------------------------------------------------------------


async def show_pressed(chat: Chat, reviewed: Reviewed) -> None:
    """A button of the review queue pressed: a note on the button, the pressed message
    and every other copy shown as they are now."""
    _ = chat.gettext
    outcome, statement = reviewed.outcome, reviewed.statement
    notes = {
        ReviewOutcome.NOT_ALLOWED: _("Only the facilitators of this workshop can do that."),
        ReviewOutcome.STALE: _("This button is no longer valid."),
        ReviewOutcome.NOTHING_LEFT: _("Every statement of this batch is decided already."),
        ReviewOutcome.NO_CANDIDATES: _(
            "No other statement of the same kind and groups to merge it into."
        ),
    }
    if outcome in notes:
        await chat.note(notes[outcome])
    elif outcome is ReviewOutcome.ALREADY and statement is not None:
        await chat.note(
            _("Already decided: {status}").format(
                status=statement_status(statement.status, chat.language)
            )
        )
    elif outcome is ReviewOutcome.TARGET_GONE and reviewed.target is not None:
        await chat.note(
            _("Statement {number} was decided meanwhile: nothing was merged.").format(
                number=reviewed.target.number
            )
        )
    elif outcome is ReviewOutcome.CANDIDATES and statement is not None:
        await chat.note()
        await _show_candidates(chat, statement, reviewed.candidates)
    elif outcome is ReviewOutcome.BACK and reviewed.batch is not None:
        await chat.note()
        await _show_copy(chat, reviewed.batch)
    elif outcome is ReviewOutcome.DECIDED and statement is not None:
        await chat.note(_decided_note(reviewed, chat.language))
        await show_decisions(chat.runtime, chat.bot, reviewed)
    if outcome is ReviewOutcome.TARGET_GONE:  # the choice of statements goes: the batch again
        pressed = await chat.runtime.review.copy_of(
            chat_id=chat.chat_id, message_id=chat.pressed_message_id()
        )
        if pressed is not None:
            await _show_copy(chat, pressed)


def _decided_note(reviewed: Reviewed, language: str) -> str:
    gettext, ngettext = translator(language), ngettext_for(language)
    if len(reviewed.decisions) > 1:
        count = len(reviewed.decisions)
        return ngettext("{count} approved", "{count} approved", count).format(
            count=number(count, language)
        )
    decided = reviewed.decisions[0].statement
    if decided.status == StatementStatus.MERGED and reviewed.target is not None:
        return gettext("Merged into {number}").format(number=reviewed.target.number)
    return statement_status(decided.status, language)


async def _show_candidates(chat: Chat, statement: Statement, candidates: list[Statement]) -> None:
    pressed = chat.pressed_message_id()
    if pressed is not None:
        await chat.edit(
            pressed,
            merge_text(chat.runtime.journey, statement, candidates, chat.language),
            reply_markup=merge_keyboard(statement, candidates, chat.language),
        )


async def _show_copy(chat: Chat, batch: Batch) -> None:
    if batch.message_id is not None:
        await chat.edit(
            batch.message_id,
            batch_text(chat.runtime.journey, batch, chat.language),
            reply_markup=review_keyboard(batch.pending, chat.language),
        )


async def show_decisions(state: Runtime, bot: Bot, reviewed: Reviewed) -> None:
    """Decisions taken: every facilitator's copy of their batches edited, the authors of
    proposals told, approved statements brought to whoever waits for one, a withdrawn one
    taken off a room's phones."""
    for copy in reviewed.copies:
        assert copy.chat_id is not None and copy.message_id is not None
        their = broadcast_chat(state, bot, copy.chat_id, await _language_of(state, copy.chat_id))
        await their.edit(
            copy.message_id,
            batch_text(state.journey, copy, their.language),
            reply_markup=review_keyboard(copy.pending, their.language),
        )
    for decision in reviewed.decisions:
        author = author_to_tell(decision)
        if author is not None:
            approved = decision.statement.status == StatementStatus.APPROVED
            await broadcast_chat(state, bot, author.user_id, author.language).send(
                proposal_decided_text(approved, decision.statement, author.language)
            )
    if reviewed.approved and reviewed.workshop is not None:
        entered = any(s.in_agora for s in reviewed.approved)
        await after_approval(state, bot, reviewed.workshop, entered=entered)
    withdrawn = [
        d.statement
        for d in reviewed.decisions
        if d.changed and d.statement.status == StatementStatus.WITHDRAWN
    ]
    if withdrawn:  # a room on it: its phones lose their buttons, its controls say so
        # Imported here: the room's controls import the phase views, which import this.
        from bot.views.room_control import after_withdrawal

        await after_withdrawal(state, bot, withdrawn[0].workshop_id)


async def after_approval(state: Runtime, bot: Bot, workshop: Workshop, *, entered: bool) -> None:
    """Approved statements reach whoever waits for one, once per batch: the members of the
    caucus, and when some entered the agora, its participants or its room."""
    if workshop.caucus_open:
        await offer_caucus_to_waiting(state, bot, workshop.id)
    if not entered or not workshop.agora_open:
        return
    if workshop.agora_mode == AgoraMode.ROOM:
        await sync_room(state, bot, workshop.id)
    else:
        await offer_to_everyone_waiting(state, bot, workshop.id)
