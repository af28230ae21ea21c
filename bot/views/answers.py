"""The outcomes of an answer, shown to the participant: the next question, a refusal
explained, a stale button noted.

One paced message per answer: an answer by button turns the pressed question into the next
one (a line on top recalls the answer given), an answer by text is followed by the next
question only. The question left above a typed answer keeps its buttons: they belong to
an earlier state, and the stale-button handling answers them without changing anything.

Order matters for "nothing lost": the use case has committed the answer before any of
this runs, and a question shown anew is sent before the previous one loses its buttons,
so that a failure leaves the previous question the live one.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message
from telegram.error import TelegramError

from bot.keyboards import step_keyboard
from bot.views import prompts
from bot.views.agora import join_agora
from bot.views.caucus import join_caucus
from bot.views.chat import Chat
from bot.views.moderation import statement_written
from bot.views.syntheses import push_completed_phases, push_decantation_synthesis
from flows.audiences import agora_state, crossed_a_phase, has_just_finished
from flows.engine import Problem, Step
from flows.service import Outcome, Response, StepView
from reports.text import escape
from storage.models import Participant

log = logging.getLogger(__name__)

# Rejections answered by showing the question again, with its buttons.
_SHOW_AGAIN = (Problem.USE_BUTTONS, Problem.USE_TEXT, Problem.NOT_AN_OPTION)


async def step_text(
    chat: Chat, participant: Participant, step: Step, *, view: StepView | None = None
) -> str:
    """The text of the step the participant is at, in the chat's language."""
    state, language = chat.runtime, chat.language
    if step.kind in ("consent", "done"):
        workshop = await state.service.workshop(workshop_id=participant.workshop_id)
        if step.kind == "consent":
            title = workshop.title if workshop else ""
            return prompts.consent_text(title, language, min_group=state.settings.min_group)
        if participant.settled_at is not None:  # back at the end after the deferred moments
            return prompts.settled_text(language)
        return prompts.finished_text(state.journey, language, agora=agora_state(workshop))
    if step.kind == "category":
        return prompts.category_text(language)
    if step.kind == "language":
        return prompts.language_text(language)
    if step.kind == "peers_wait":
        return prompts.peers_wait_text(language)
    recalled = None
    if step.prompt is not None and step.prompt.recall is not None:  # the décantation's
        recalled = await state.decantation.commitments(participant_id=participant.id)
    return prompts.prompt_text(
        state.journey,
        step,
        language,
        max_length=state.settings.max_answer_length,
        category=participant.category,
        view=view or await state.service.step_view(participant, step),
        recalled=recalled,
    )


async def present(
    chat: Chat,
    participant: Participant,
    step: Step,
    *,
    before: str | None = None,
    answered_message_id: int | None = None,
    text: str | None = None,
    in_place: int | None = None,
) -> int | None:
    """Show the step the participant is at (or `text` with the step's buttons): edited
    into message `in_place` (the question whose button was pressed), or sent when there is
    none or it cannot be edited (deleted by the user). Then the buttons come off the
    message shown before, unless it is the one just answered by text (`answered_message_id`,
    whose buttons are stale now): only the current question should be pressed. (In that
    order: if sending fails, the previous question stays the live one.) Returns the id of
    the message showing it (None: not sent)."""
    state = chat.runtime
    view = await state.service.step_view(participant, step)
    if text is None:
        text = await step_text(chat, participant, step, view=view)
    if before:
        text = f"{before}\n\n{text}"
    keyboard = step_keyboard(
        state.engine, participant.id, step, chat.language, category=participant.category, view=view
    )
    if in_place is not None and await chat.edit(in_place, text, reply_markup=keyboard):
        shown = in_place
    else:
        sent = await chat.send(text, reply_markup=keyboard)
        if sent is None:  # a broadcast that could not reach them: their live question is unchanged
            return None
        shown = sent.message_id
    # Only a message with buttons is remembered: it is the one to take them off later.
    await state.service.remember_prompt(
        participant_id=participant.id, message_id=shown if keyboard else None, state=step.state
    )
    previous = participant.prompt_message_id
    if previous is not None and previous not in (answered_message_id, shown, in_place):
        await chat.set_buttons(previous, None)
    return shown


async def show_outcome(chat: Chat, response: Response, *, typed_length: int = 0) -> None:
    """Answer the participant, then what their move brings about: a statement written
    goes to the review queue (or, approved at once, to whoever waits for one), one who
    has just finished joins
    their group's caucus or an open agora (also after a redelivery, in case the first
    handling stopped short of it),
    the last one through a phase brings its synthesis to the facilitators."""
    if response.masked:  # before the next question, which stays the last message
        await chat.send(prompts.masking_text(chat.language))
    await show_response(chat, response, typed_length=typed_length)
    participant = response.participant
    if participant is None or response.step is None:
        return
    settling = response.answered is not None and response.answered.deferred
    try:
        if response.made is not None:
            await statement_written(chat, response.made)
        if settling:  # the deferred moments, days later: the caucus and the agora are behind them
            if response.move is not None and response.move.settles:
                await push_decantation_synthesis(chat.runtime, chat.bot, participant.workshop_id)
            return
        if has_just_finished(response):
            move = response.move
            language = (move and move.language) or chat.language
            finished = chat.speaking(language)
            if not await join_caucus(finished, participant):
                await join_agora(finished, participant)
    finally:  # the facilitators' synthesis does not wait for the participant's messages
        if crossed_a_phase(response) and not settling:
            await push_completed_phases(chat.runtime, chat.bot, participant.workshop_id)


async def show_response(chat: Chat, response: Response, *, typed_length: int = 0) -> None:
    """Render any outcome of `WorkshopService.respond` for the participant."""
    _ = chat.gettext
    if response.outcome is Outcome.NOT_JOINED:
        if chat.query:  # a button of a participation that is over: a short note suffices
            await chat.note(_("This button is no longer valid."))
            await chat.close_pressed()
            return
        await chat.send(prompts.not_joined_text(chat.language))
        return
    if response.outcome is Outcome.DECLINED:
        await chat.note()
        await chat.close_pressed()
        await chat.send(
            _(
                "Understood: you are not taking part, and no answer of yours is kept. If you "
                "change your mind, open the workshop link again."
            )
        )
        return
    participant, step = response.participant, response.step
    assert participant is not None and step is not None
    if response.outcome is Outcome.CLOSED:  # closed by an organiser: nothing more is taken
        await chat.note()
        await chat.close_pressed()
        workshop = await chat.runtime.service.workshop(workshop_id=participant.workshop_id)
        title = escape(workshop.title) if workshop is not None else ""
        await chat.send(
            _(
                "The workshop «{title}» is closed: it takes no more answers. Thank you for "
                "taking part."
            ).format(title=title)
        )
        return
    if response.outcome is Outcome.DUPLICATE:
        await chat.note()
        before = "✅ " + _("You wrote this one already.") if response.already_given else None
        await present(chat, participant, step, before=before)
    elif response.outcome is Outcome.UNSEEN:  # typed before this question reached them
        if response.already_given:
            before = "✅ " + _("That was saved already. Here is where you are now:")
        else:
            before = "📌 " + _(
                "Your message was not taken as an answer: this question had not reached you "
                "yet. Here it is:"
            )
        await present(chat, participant, step, before=before)
    elif response.outcome is Outcome.STALE:
        await _stale(chat, response, participant, step)
    elif response.outcome is Outcome.REJECTED:
        await _rejected(chat, response, participant, step, typed_length)
    elif response.move is not None and response.move.stays:
        await _stay(chat, response, participant, step)
    else:
        await _moved(chat, response, participant, step)


async def _stale(chat: Chat, response: Response, participant: Participant, step: Step) -> None:
    _ = chat.gettext
    if chat.query:
        await chat.note(
            _("This button belongs to another workshop.")
            if response.other_participation
            else _("This button belongs to an earlier question.")
        )
        pressed, live = chat.query.message, participant.prompt_message_id
        if isinstance(pressed, Message) and live is not None and pressed.message_id != live:
            # A double tap or an old message: the live question is further down.
            await chat.close_pressed()
            return
        if isinstance(pressed, Message) and pressed.message_id == live:
            if participant.shown_state == step.state:
                return  # a double tap: its message shows the next question already
            await present(chat, participant, step, in_place=live)
            return
    await present(
        chat,
        participant,
        step,
        before=_(
            "That button belongs to an earlier question; nothing was changed. "
            "Here is where you are:"
        ),
    )


async def _rejected(
    chat: Chat, response: Response, participant: Participant, step: Step, typed_length: int
) -> None:
    assert response.rejection is not None
    await chat.note()
    message = prompts.rejection_text(response.rejection, chat.language, length=typed_length)
    if response.rejection.problem in _SHOW_AGAIN:
        await present(chat, participant, step, before=message)
    else:
        await chat.send(message)


async def _stay(chat: Chat, response: Response, participant: Participant, step: Step) -> None:
    """An option ticked, an other answer typed, a statement written: the step stays."""
    state, move = chat.runtime, response.move
    assert move is not None
    if move.trigger == "tick" and chat.query:
        await chat.note()
        live = participant.prompt_message_id or chat.pressed_message_id()
        if move.answer is None or live is None:  # a double tap: the ticks are as shown already
            return
        view = await state.service.step_view(participant, step)
        keyboard = step_keyboard(
            state.engine,
            participant.id,
            step,
            chat.language,
            category=participant.category,
            view=view,
        )
        await chat.set_buttons(live, keyboard)
        return
    if move.trigger == "add":
        view = await state.service.step_view(participant, step)
        text = prompts.list_added_text(len(view.statements), chat.language)
        await present(chat, participant, step, text=text)
        return
    await present(chat, participant, step, before="✏️ " + chat.gettext("Noted."))


async def _moved(chat: Chat, response: Response, participant: Participant, step: Step) -> None:
    """The answer is committed: show what comes next, under a line recalling it. A button
    turns its own message into the next question (but the consent, whose terms stay to be
    read again); a typed answer gets the next question as a new message below it."""
    move, answered = response.move, response.answered
    assert move is not None and answered is not None
    # The button's answer travels while the next question is drawn and sent: over
    # Telegram's round trip, the question shows that much sooner.
    noting = asyncio.create_task(_acknowledge(chat))
    try:
        await _show_next(chat, response, participant, step)
    finally:
        await noting


async def _acknowledge(chat: Chat) -> None:
    """The pressed button's answer, beside the next question. Its failure (Telegram or the
    network) is only logged: the next question shows either way, and a fault reported
    below it would tell of a problem that the participant does not have."""
    try:
        await chat.note()
    except TelegramError as error:
        log.info("button of chat %s not acknowledged: %s", chat.chat_id, error)


async def _show_next(chat: Chat, response: Response, participant: Participant, step: Step) -> None:
    """The next step, under the recall of the answer (the consent: below its terms)."""
    move, answered = response.move, response.answered
    assert move is not None and answered is not None
    if move.language:  # stored with the move, as the user's language too
        chat = chat.speaking(move.language)
    pressed = chat.pressed_message_id() if chat.query else None
    if answered.kind == "consent" and pressed is not None:
        terms = await step_text(chat, participant, answered)
        await chat.edit(pressed, prompts.agreed_text(terms, chat.language))
        await present(chat, participant, step, answered_message_id=pressed)
        return
    if pressed is not None and pressed != participant.prompt_message_id:
        # A question further up, live again since a typed answer and /back: the next one
        # goes to the bottom of the chat, where the participant reads, and the pressed one
        # loses its buttons.
        await chat.close_pressed()
        pressed = None
    if move.trigger in ("back", "release"):  # nothing to recall
        if chat.query:
            await present(chat, participant, step, in_place=pressed)
        else:  # /back typed: shown anew, the question left loses its buttons
            await present(chat, participant, step)
        return
    recall = await _recall(chat, response, participant)
    if chat.query:
        await present(chat, participant, step, before=recall, in_place=pressed)
    else:  # typed: the live question is the one answered; its buttons are stale now
        answered_message = participant.prompt_message_id
        await present(chat, participant, step, before=recall, answered_message_id=answered_message)


async def _recall(chat: Chat, response: Response, participant: Participant) -> str:
    """The line recalling the answer just given (or the question skipped)."""
    move, answered, language = response.move, response.answered, chat.language
    assert move is not None and answered is not None
    journey = chat.runtime.journey
    label: str | None
    if move.trigger == "skip":
        label = None
    elif answered.kind == "multi" and answered.prompt is not None:
        view = await chat.runtime.service.step_view(participant, answered)
        label = prompts.multi_label(answered.prompt, view, language) or None  # none: skipped
    elif answered.kind == "list":  # its statements were acknowledged one by one
        label = chat.gettext("Done")
    elif answered.kind == "text":  # their message is just above: it need not be repeated
        label = chat.gettext("Answer saved")
    else:
        value = move.answer[1] if move.answer else (move.category or move.language or "yes")
        label = prompts.answer_label(journey, answered, value, language)
    return prompts.recall_line(
        journey, answered, language, label=label, category=participant.category
    )
