"""What participants, facilitators and organisers read: HTML texts, in their language.

Every text that comes from a user or from the journey file is escaped here; nothing
else in the bot builds message text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from html import escape

from babel.dates import format_datetime
from babel.numbers import format_decimal
from tqdm import tqdm

from bot.i18n import translations
from flows.engine import Problem, Progress, Rejection, Step
from flows.journey import Journey, Moment
from flows.service import Board
from storage.models import Workshop

BAR_WIDTH = 10


def translator(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def number(value: int, language: str) -> str:
    return format_decimal(value, locale=language)


def plain(texts: Mapping[str, str], language: str) -> str:
    """A journey text in the user's language, as plain text (button labels)."""
    return texts.get(language) or texts["fr"]


def local(texts: Mapping[str, str], language: str) -> str:
    """A journey text in the user's language, escaped for HTML."""
    return escape(plain(texts, language))


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


def prompt_text(journey: Journey, step: Step, language: str, *, max_length: int) -> str:
    """A prompt with its progress marker, its moment's intro on the moment's first prompt,
    and a hint on how to answer."""
    gettext = translator(language)
    assert step.prompt is not None and step.moment is not None
    prompt, moment = step.prompt, step.moment
    total = len(journey.live_prompts())
    lines = [
        f"<b>{moment_heading(moment, len(journey.moments), language)}</b>",
        f"{progress_bar(step.number - 1, total)} "
        + gettext("question {number} of {count}").format(number=step.number, count=total),
        "",
    ]
    if prompt is moment.prompts[0]:
        lines += [f"<i>{local(moment.intro, language)}</i>", ""]
    lines.append(local(prompt.text, language))
    lines.append("")
    if prompt.kind == "scale":
        lines.append(
            gettext("1 = {low} · 5 = {high}").format(
                low=local(prompt.low, language), high=local(prompt.high, language)
            )
        )
    elif prompt.kind == "choice":
        lines.append(gettext("Choose one answer below."))
    else:
        lines.append(
            gettext("Reply with a message (up to {limit} characters).").format(
                limit=number(max_length, language)
            )
        )
    if prompt.optional:
        lines.append(gettext("This question is optional: tap «Skip ➡️» or send /skip."))
    return "\n".join(lines)


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
    if step.kind == "scale":
        return f"{escape(value)}/5"
    return escape(value)


def with_answer(text: str, label: str, language: str) -> str:
    """A prompt as it reads once answered (its buttons gone)."""
    gettext = translator(language)
    return f"{text}\n\n✅ " + gettext("Your answer: {answer}").format(answer=label)


def with_skip(text: str, language: str) -> str:
    """A prompt as it reads once skipped."""
    gettext = translator(language)
    return f"{text}\n\n⏭️ " + gettext("Skipped")


def language_name(code: str) -> str:
    return {"fr": "Français", "en": "English"}.get(code, code)


def consent_text(workshop_title: str, language: str) -> str:
    gettext = translator(language)
    return "\n".join(
        [
            gettext("Welcome to the workshop «{title}».").format(title=escape(workshop_title)),
            "",
            gettext(
                "Over a few short questions you will look at how you cooperate, moment by "
                "moment. Take your time: you can pause and come back whenever you like."
            ),
            "",
            "<b>" + gettext("What is stored") + "</b>",
            gettext(
                "Your actor category, your language, your answers and when you gave them. "
                "Your Telegram account is used only to keep your place."
            ),
            "<b>" + gettext("Who sees it") + "</b>",
            gettext(
                "The facilitators see only anonymous, grouped results, never your name; "
                "results of a group too small to stay anonymous are not shown."
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


def finished_text(journey: Journey, language: str) -> str:
    gettext = translator(language)
    return "\n".join(
        [
            "🎉 <b>" + gettext("Thank you, you have answered every question.") + "</b>",
            "",
            gettext(
                "Your answers are saved. The facilitators will share what the group said "
                "as a whole. The last moment, settling, is asked later, once the workshop "
                "has had time to sink in."
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
        case Problem.FINISHED:
            return gettext(
                "You have already answered every question. Use /back to change an answer."
            )
    return gettext("Please answer the question.")


def participant_progress_text(
    journey: Journey, workshop: Workshop, step: Step, progress: Progress, language: str
) -> str:
    gettext = translator(language)
    lines = [f"<b>{escape(workshop.title)}</b>"]
    if progress.finished:
        lines.append(gettext("You have answered every question of the workshop. Thank you!"))
    elif step.prompt is None:
        lines.append(gettext("You have not started the questions yet."))
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


def board_text(journey: Journey, board: Board, language: str, *, now: datetime) -> str:
    """The facilitator's live view: how many participants stand where, per category."""
    gettext = translator(language)
    ngettext = translations(language).ngettext
    lines = [
        f"📊 <b>{escape(board.workshop.title)}</b>",
        ngettext("{count} participant", "{count} participants", board.total).format(
            count=number(board.total, language)
        ),
    ]
    if board.total == 0:
        lines.append(gettext("Nobody has joined yet. Share the join link or the QR code."))
    order = [c.id for c in journey.categories]
    keys = sorted(board.by_category, key=lambda c: order.index(c) if c in order else len(order))
    for category_id in keys:
        counts = board.by_category[category_id]
        category = journey.category(category_id) if category_id else None
        name = local(category.label, language) if category else gettext("Category not chosen yet")
        parts = []
        if counts.get(Board.JOINING):
            joining = counts[Board.JOINING]
            parts.append(
                ngettext("{count} joining", "{count} joining", joining).format(count=joining)
            )
        for moment in journey.moments:
            if counts.get(str(moment.number)):
                parts.append(
                    gettext("{count} at moment {number}").format(
                        count=counts[str(moment.number)], number=moment.number
                    )
                )
        if counts.get(Board.FINISHED):
            finished = counts[Board.FINISHED]
            parts.append(
                ngettext("{count} finished", "{count} finished", finished).format(count=finished)
            )
        lines.append(
            gettext("{category} ({count}): {details}").format(
                category=f"<b>{name}</b>", count=sum(counts.values()), details=" · ".join(parts)
            )
        )
    lines.append("")
    lines.append(
        gettext("As of {time}.").format(
            time=format_datetime(now, "short", tzinfo=now.tzinfo, locale=language)
        )
    )
    return "\n".join(lines)
