"""The journey's texts: prompts with their progress and hints, the onboarding screens, the
end screen, and the line that recalls an answer on top of the next question."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from tqdm import tqdm

from flows.engine import Problem, Progress, Rejection, Step
from flows.identifying import MASK
from flows.journey import Journey, Moment, Prompt
from flows.kinds import AgoraState
from flows.service import StepView
from reports.labels import filled, group_name, language_name
from reports.text import (
    escape,
    excerpt,
    local,
    ngettext_for,
    number,
    strip_tags,
    translator,
    units,
)
from storage.models import Workshop

BAR_WIDTH = 10


@cache  # a handful of (done, total) pairs, drawn on every question
def progress_bar(done: int, total: int) -> str:
    """A fixed-width bar such as ▰▰▰▱▱▱▱▱▱▱ (tqdm's meter, without its numbers)."""
    return tqdm.format_meter(
        done, max(total, 1), 0, ncols=BAR_WIDTH, bar_format="{bar}", ascii="▱▰"
    )


def moment_heading(moment: Moment, moment_count: int, language: str) -> str:
    gettext = translator(language)
    return gettext("Moment {number} of {count} · {title}").format(
        number=moment.number, count=moment_count, title=local(moment.title, language)
    )


def prompt_text(
    journey: Journey,
    step: Step,
    language: str,
    *,
    max_length: int,
    category: str | None = None,
    view: StepView | None = None,
    recalled: Sequence[str] | None = None,
) -> str:
    """A prompt with its progress marker, its moment's (or block's) intro on the first
    prompt, the answers given so far at a multi or list step, and a hint on how to answer.
    A prompt that recalls the participant's statements (the décantation's question on
    their commitments) shows `recalled` above its text, or its text for those who wrote
    none."""
    gettext = translator(language)
    assert step.prompt is not None
    prompt = step.prompt
    view = view or StepView()
    if step.moment is not None:
        moment = step.moment
        lines = [
            f"<b>{moment_heading(moment, len(journey.moments), language)}</b>",
            f"{progress_bar(step.number - 1, step.count)} "
            + gettext("question {number} of {count}").format(number=step.number, count=step.count),
            "",
        ]
        if prompt is moment.prompts[0]:
            lines += [f"<i>{local(moment.intro, language)}</i>", ""]
        if prompt.recall is not None and recalled:
            lines += [recalled_text(recalled, language), ""]
        if prompt.recall is not None and not recalled:
            lines.append(filled(journey, prompt.text_none, language, own=category, about=None))
        else:
            lines.append(filled(journey, prompt.text, language, own=category, about=None))
    else:
        assert journey.peers is not None
        peers = journey.peers
        lines = [
            "<b>"
            + gettext("Phase 2 · {title}").format(title=local(peers.title, language))
            + "</b>",
            f"{progress_bar(step.number - 1, step.count)} "
            + gettext("question {number} of {count}").format(number=step.number, count=step.count),
        ]
        if prompt.about:
            lines.append(
                gettext("About: {group}").format(group=group_name(journey, prompt.about, language))
            )
        lines.append("")
        if step.block_start:
            intro = peers.about_intro if prompt.about else peers.intro
            lines += [
                f"<i>{filled(journey, intro, language, own=category, about=prompt.about)}</i>",
                "",
            ]
        lines.append(filled(journey, prompt.text, language, own=category, about=prompt.about))
    lines.append("")
    lines += _answer_hint(prompt, language, max_length=max_length, view=view)
    return "\n".join(lines)


# The most a recall of commitments takes of a message (whose limit is 4,096 units).
RECALL_UNITS = 1500


def recalled_text(commitments: Sequence[str], language: str) -> str:
    """A participant's own commitments, recalled to them (escaped, each cut short)."""
    ngettext = ngettext_for(language)
    heading = ngettext(
        "The commitment you wrote during the workshop:",
        "The commitments you wrote during the workshop:",
        len(commitments),
    )
    lines = [f"<b>{heading}</b>"]
    for text in commitments:  # as many as fit beside the question, in Telegram's units
        line = f"• {excerpt(text, 300)}"
        if units("\n".join([*lines, line])) > RECALL_UNITS:
            lines.append("• …")
            break
        lines.append(line)
    return "\n".join(lines)


def settled_text(language: str) -> str:
    """The end screen once the deferred moments are answered."""
    gettext = translator(language)
    return "\n".join(
        [
            "🌱 <b>" + gettext("Thank you for taking this moment to look back.") + "</b>",
            "",
            gettext(
                "Your answers are saved. The facilitators will see what the group as a "
                "whole says of these weeks, never who said what."
            ),
        ]
    )


def _answer_hint(prompt: Prompt, language: str, *, max_length: int, view: StepView) -> list[str]:
    gettext = translator(language)
    ngettext = ngettext_for(language)
    if prompt.kind == "scale":
        return [
            gettext("1 = {low} · 5 = {high}").format(
                low=local(prompt.low, language), high=local(prompt.high, language)
            ),
            *_optional_hint(prompt, language),
        ]
    if prompt.kind == "choice":
        return [gettext("Choose one answer below."), *_optional_hint(prompt, language)]
    if prompt.kind == "multi":
        lines = [gettext("Tick every answer that applies, then tap «Done ✅».")]
        if prompt.other:
            lines.append(gettext("Something else? Write it in a message."))
        if view.other:
            lines.append(gettext("Your other answer: {text}").format(text=excerpt(view.other)))
        return lines
    if prompt.kind == "list":
        lines = [
            gettext(
                "Send each one as its own message (up to {limit} characters). When you have "
                "no more, tap «Done ✅»."
            ).format(limit=number(max_length, language))
        ]
        if view.statements:
            lines += [
                "",
                ngettext(
                    "You have written {count} so far:",
                    "You have written {count} so far:",
                    len(view.statements),
                ).format(count=len(view.statements)),
            ]
            lines += [f"• {excerpt(text)}" for text in view.statements]
        return lines
    return [
        gettext("Reply with a message (up to {limit} characters).").format(
            limit=number(max_length, language)
        ),
        *_optional_hint(prompt, language),
    ]


def _optional_hint(prompt: Prompt, language: str) -> list[str]:
    gettext = translator(language)
    if not prompt.optional:
        return []
    return [gettext("This question is optional: tap «Skip ➡️» or send /skip.")]


def list_added_text(count: int, language: str) -> str:
    """The acknowledgement of one more statement at a list step."""
    ngettext = ngettext_for(language)
    gettext = translator(language)
    return "\n".join(
        [
            "✅ "
            + ngettext("Noted: {count} so far.", "Noted: {count} so far.", count).format(
                count=count
            ),
            gettext("Send another one, or tap «Done ✅» to go on."),
        ]
    )


def peers_wait_text(language: str) -> str:
    gettext = translator(language)
    return "\n".join(
        [
            "✅ <b>" + gettext("You have answered every question of the first phase.") + "</b>",
            "",
            gettext(
                "The second phase, the exchange between peers, opens when the facilitators "
                "say so. I will write to you then; there is nothing to do until then."
            ),
            gettext("Changed your mind? /back takes you to the previous question."),
        ]
    )


def answer_label(journey: Journey, step: Step, value: str, language: str) -> str:
    """How a given answer reads back (the option's label, the scale value, the text)."""
    if step.kind == "category":
        category = journey.category(value)
        return local(category.label, language) if category else escape(value)
    if step.kind == "language":
        return escape(language_name(value))
    if step.kind == "consent":
        gettext = translator(language)
        return gettext("I agree")
    if step.kind == "choice" and step.prompt is not None:
        option = step.prompt.option(value)
        return local(option.label, language) if option else escape(value)
    if step.kind == "multi" and step.prompt is not None:
        return multi_label(step.prompt, StepView(tuple(value.split(","))), language)
    if step.kind == "scale":
        return f"{escape(value)}/5"
    return escape(value)


def multi_label(prompt: Prompt, view: StepView, language: str) -> str:
    """The ticked options and the other answer of a multi step, as they read back."""
    parts = [
        local(option.label, language) for option in prompt.options if option.id in view.selection
    ]
    if view.other:
        gettext = translator(language)
        parts.append(gettext("other: {text}").format(text=excerpt(view.other)))
    return "; ".join(parts)


RECALL_QUESTION_CHARS = 60  # how much of the answered question its recall line quotes


def recall_line(
    journey: Journey, step: Step, language: str, *, label: str | None, category: str | None = None
) -> str:
    """The line on top of the next question that recalls the answer just given, since the
    question itself is gone (a button answer turns its message into the next question):
    the answer (`label`, escaped; None: skipped), then the start of the question it
    answered, so that the chat still says what was said to what."""
    gettext = translator(language)
    line = ("✅ " + label) if label is not None else ("⏭️ " + gettext("Skipped"))
    prompt = step.prompt
    if prompt is None:  # an onboarding step: its answer says enough
        return line
    question = strip_tags(filled(journey, prompt.text, language, own=category, about=prompt.about))
    return f"{line} — <i>{excerpt(question, RECALL_QUESTION_CHARS)}</i>"


def agreed_text(terms: str, language: str) -> str:
    """The consent screen once agreed to (its buttons gone): the terms stay in the chat."""
    gettext = translator(language)
    return f"{terms}\n\n✅ <b>" + gettext("I agree") + "</b>"


def masking_text(language: str) -> str:
    """Said once, the first time a text of theirs is masked: why, and what they can do."""
    gettext = translator(language)
    return "🔒 " + gettext(
        "Quotes are anonymised: wherever others read your words, your name, @handle, e-mail "
        "address, phone number and links are replaced by «{mask}». Your own data (/mydata) "
        "keeps what you wrote. If you prefer, rephrase it in your next message."
    ).format(mask=MASK)


def consent_text(workshop_title: str, language: str, *, min_group: int = 3) -> str:
    """The consent screen: what is stored, and exactly what facilitators see and can
    download (`reports.files.export_files` keeps this promise, `min_group` its number)."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    return "\n".join(
        [
            gettext("Welcome to the workshop «{title}».").format(title=escape(workshop_title)),
            "",
            gettext(
                "The workshop has three parts. First, at your own pace, you look at how you "
                "cooperate, moment by moment. Then, as a member of your group of actors, you "
                "say with your peers what you ask of the others and what you commit to. "
                "Finally, in the agora, everyone votes on the groups' requests and "
                "commitments. A few days later, a last look back comes to you here."
            ),
            gettext("Take your time: you can pause and come back whenever you like."),
            "",
            "<b>" + gettext("What is stored") + "</b>",
            gettext(
                "Your actor category, your language, your answers and when you gave them. "
                "Your Telegram account is used only to keep your place."
            ),
            "<b>" + gettext("Who sees it") + "</b>",
            gettext(
                "The facilitators see grouped results, never your name; results of a group "
                "too small to stay anonymous are not shown."
            ),
            ngettext(
                "They can also download your answers under a pseudonym, with your category "
                "only if at least {count} person shares it, and times to the minute.",
                "They can also download your answers under a pseudonym, with your category "
                "only if at least {count} people share it, and times to the minute.",
                min_group,
            ).format(count=number(min_group, language)),
            gettext(
                "In the agora, your requests and commitments are shown to the other "
                "participants without your name, so that everyone can react to them."
            ),
            gettext(
                "Wherever others read your words, your name, @handle, e-mail address, phone "
                "number and links are masked."
            ),
            "",
            gettext("Do you agree to take part on these terms?"),
        ]
    )


def category_text(language: str) -> str:
    gettext = translator(language)
    return gettext(
        "Which of these best describes you in this workshop? The synthesis groups answers "
        "by category."
    )


def language_text(language: str) -> str:
    gettext = translator(language)
    return gettext("In which language would you like to answer?")


def finished_text(journey: Journey, language: str, *, agora: AgoraState = AgoraState.LATER) -> str:
    """The end screen; `agora` says whether the agora is still to come, open (its
    introduction follows) or closed."""
    gettext = translator(language)
    return "\n".join(
        [
            "🎉 <b>" + gettext("Thank you, you have answered every question.") + "</b>",
            "",
            gettext(
                "Your answers are saved. The facilitation team will share what the group "
                "said as a whole."
            ),
            *(
                [
                    gettext(
                        "Next comes the agora, where everyone reacts to the requests and "
                        "commitments of the groups. I will write to you when it opens."
                    )
                ]
                if journey.peers is not None and agora is AgoraState.LATER
                else []
            ),
            gettext(
                "The last two moments, the nourishing feedback and the settling, come "
                "later, once the workshop has had time to sink in."
            ),
            gettext("Changed your mind? /back takes you to the previous question."),
        ]
    )


def rejection_text(rejection: Rejection, language: str, *, length: int = 0) -> str:
    gettext = translator(language)
    match rejection.problem:
        case Problem.TOO_LONG:
            return gettext(
                "Your message has {length} characters; answers are limited to {limit}. "
                "Could you shorten it? Nothing was saved."
            ).format(length=number(length, language), limit=number(rejection.limit, language))
        case Problem.EMPTY:
            return gettext("That message is empty. Please write your answer.")
        case Problem.USE_BUTTONS:
            return gettext("Please answer with the buttons under the question.")
        case Problem.USE_TEXT | Problem.NOT_AN_OPTION:
            return gettext("That button does not fit this question. Here it is again.")
        case Problem.NOT_OPTIONAL:
            return gettext("This question cannot be skipped; please answer it.")
        case Problem.NO_WAY_BACK:
            return gettext("There is no earlier question to go back to.")
        case Problem.WAITING:
            return gettext(
                "The second phase is not open yet. I will write to you as soon as the "
                "facilitators open it."
            )
        case Problem.CATEGORY_LOCKED:
            return gettext(
                "Your actor category can no longer change: your answers in the exchange "
                "between peers were given as a member of it."
            )
        case Problem.NOTHING_CHOSEN:
            return gettext("Nothing is chosen yet: tick at least one answer, or write one.")
        case Problem.TOO_MANY:
            return gettext(
                "You have written {limit} already, the most this question takes. Tap "
                "«Done ✅» to go on."
            ).format(limit=number(rejection.limit, language))
        case Problem.FINISHED:
            return gettext(
                "You have already answered every question. Use /back to change an answer."
            )
    return gettext("Please answer the question.")


def participant_progress_text(
    journey: Journey,
    workshop: Workshop,
    step: Step,
    progress: Progress,
    language: str,
    *,
    votes: int = 0,
    to_vote: int = 0,
) -> str:
    gettext = translator(language)
    lines = [f"<b>{escape(workshop.title)}</b>"]
    if progress.finished:
        lines.append(gettext("You have answered every question of the workshop. Thank you!"))
        if workshop.agora_opened_at is not None:
            lines.append(
                gettext(
                    "Agora: you reacted to {done} statements; {left} still wait for you."
                ).format(done=number(votes, language), left=number(to_vote, language))
            )
    elif progress.waiting:
        lines.append(
            gettext(
                "You have finished the first phase; the second opens when the facilitators say so."
            )
        )
    elif step.prompt is None:
        lines.append(gettext("You have not started the questions yet."))
    elif progress.phase == 2:
        assert journey.peers is not None
        lines.append(
            gettext("Phase 2 · {title}").format(title=local(journey.peers.title, language))
        )
        lines.append(
            f"{progress_bar(progress.answered_steps, progress.step_count)} "
            + gettext("{done} of {count} questions answered").format(
                done=number(progress.answered_steps, language),
                count=number(progress.step_count, language),
            )
        )
    else:
        lines.append(
            moment_heading(journey.moment(progress.moment_number), progress.moment_count, language)
        )
        lines.append(
            f"{progress_bar(progress.answered_steps, progress.step_count)} "
            + gettext("{done} of {count} questions answered").format(
                done=number(progress.answered_steps, language),
                count=number(progress.step_count, language),
            )
        )
        later = [m for m in journey.moments if m.number > progress.moment_number]
        if later:
            lines.append(
                gettext("Still to come: {moments}.").format(
                    moments=", ".join(local(m.title, language) for m in later)
                )
            )
    return "\n".join(lines)


def not_joined_text(language: str) -> str:
    _ = translator(language)
    return _(
        "You are not taking part in a workshop yet. Open the link or scan the QR code your "
        "facilitator shared, or send /join followed by the workshop code."
    )
