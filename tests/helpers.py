"""Walking participants through the journey as a person would: by button label or by text."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from babel.lists import format_list

from flows.journey import Journey, Prompt
from tgemu import BotApiEmulator, EmulatedUser

CONSENT_LABEL = {"fr": "✅ J'accepte", "en": "✅ I agree"}
LANGUAGE_LABEL = {"fr": "Français", "en": "English"}


def reflection(prompt: Prompt, language: str) -> str:
    """A text answer that also exercises escaping."""
    return f"{language}: à propos de {prompt.id}, <b>gras</b> & <script>x</script>"


async def onboard(
    emulator: BotApiEmulator, user: EmulatedUser, code: str, *, category: str, language: str
) -> None:
    """Open the join link, consent, pick a category (by label) and a language."""
    await user.send(f"/start {code}")
    await emulator.wait_idle()
    await user.press(CONSENT_LABEL[language if language in CONSENT_LABEL else "fr"])
    await emulator.wait_idle()
    await user.press(category)
    await emulator.wait_idle()
    await user.press(LANGUAGE_LABEL[language])
    await emulator.wait_idle()


async def answer_prompts(
    emulator: BotApiEmulator, user: EmulatedUser, prompts: list[Prompt], language: str
) -> dict[str, str]:
    """Answer each prompt as shown; returns what should be stored (question id → value)."""
    expected: dict[str, str] = {}
    for index, prompt in enumerate(prompts):
        shown = user.last.text or ""
        # Placeholders ({others}) are filled for the participant: each part around them.
        parts = re.split(r"\{\w+\}", prompt.text[language])
        assert all(part in shown for part in parts), (prompt.id, shown)
        if prompt.kind == "scale":
            value = str(1 + index % 5)
            await user.press(value)
        elif prompt.kind == "choice":
            option = prompt.options[index % len(prompt.options)]
            value = option.id
            await user.press(option.label[language])
        else:
            value = reflection(prompt, language)
            await user.send(value)
        expected[prompt.id] = value
        await emulator.wait_idle()
    return expected


# -- many participants at once ----------------------------------------------------------

DONE_LABEL = {"fr": "Terminé ✅", "en": "Done ✅"}
VOTE_LABELS = {
    "fr": {"agree": "👍 D'accord", "disagree": "👎 Pas d'accord", "pass": "🤷 Sans avis"},
    "en": {"agree": "👍 Agree", "disagree": "👎 Disagree", "pass": "🤷 Pass"},
}
Step = Callable[[], Awaitable[object]]


@dataclass
class Plan:
    """What one participant does, one tap or message at a time, and what must be stored."""

    user: EmulatedUser
    language: str
    category: str
    steps: list[Step] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    statements: list[tuple[str, str | None, str]] = field(default_factory=list)  # kind, to, text


async def in_lockstep(emulator: BotApiEmulator, plans: list[Plan]) -> None:
    """Play every plan a step at a time, all participants together, waiting for the bot to
    answer each round (as a room of people on their phones would)."""
    rounds = max(len(plan.steps) for plan in plans)
    for index in range(rounds):
        for plan in plans:
            if index < len(plan.steps):
                await plan.steps[index]()
        await emulator.wait_idle(quiet=0.05)


def _shown(plan: Plan, text: str, then: Step) -> Step:
    """A step that first checks the participant is looking at `text`."""

    async def step() -> object:
        shown = plan.user.last.text or ""
        assert text in shown, (plan.user.id, text, shown)
        return await then()

    return step


def plan_onboarding(plan: Plan, journey: Journey, code: str) -> None:
    user, language = plan.user, plan.language
    category = journey.category(plan.category)
    assert category is not None
    plan.steps += [
        lambda: user.send(f"/start {code}"),
        lambda: user.press(CONSENT_LABEL[language]),
        lambda: user.press(category.label[language]),
        lambda: user.press(LANGUAGE_LABEL[language]),
    ]


def plan_phase_one(
    plan: Plan, journey: Journey, *, write: Callable[[Prompt], str] | None = None
) -> None:
    """Answer phase 1: scales and choices by button, reflections typed (`write` gives
    their text, `reflection` by default)."""
    user, language = plan.user, plan.language
    for index, prompt in enumerate(journey.live_prompts()):
        if prompt.kind == "scale":
            value = str(1 + (index + user.id) % 5)
            action: Step = partial(user.press, value)
        elif prompt.kind == "choice":
            option = prompt.options[(index + user.id) % len(prompt.options)]
            value = option.id
            action = partial(user.press, option.label[language])
        else:
            value = write(prompt) if write else reflection(prompt, language)
            action = partial(user.send, value)
        plan.answers[prompt.id] = value
        shown = peer_prompt_text(journey, prompt, plan.category, language)
        plan.steps.append(_shown(plan, shown, action))


def group_label(journey: Journey, category_id: str | None, language: str) -> str:
    category = journey.category(category_id or "")
    assert category is not None
    return category.group[language]


def peer_prompt_text(journey: Journey, prompt: Prompt, category: str, language: str) -> str:
    """A prompt's text as a participant of `category` reads it: {own} and {group} in phase
    2, {others} (the three other groups, "A, B or C") in phase 1."""
    others = [group_label(journey, c.id, language) for c in journey.categories if c.id != category]
    return prompt.text[language].format(
        own=group_label(journey, category, language),
        group=group_label(journey, prompt.about or category, language),
        others=format_list(others, style="or", locale=language),
    )


def plan_phase_two(
    plan: Plan,
    journey: Journey,
    *,
    requests: int = 1,
    write: Callable[[str, int], str] | None = None,
) -> None:
    """Answer phase 2: texts, a relation, ticks (and an other answer), requests to the
    first other category only, and one commitment (`write` gives a statement's text from
    its kind and number)."""
    user, language = plan.user, plan.language
    others = [c.id for c in journey.categories if c.id != plan.category]
    for index, prompt in enumerate(journey.peer_prompts(plan.category)):
        shown = peer_prompt_text(journey, prompt, plan.category, language)
        actions: list[Step] = []
        if prompt.kind == "text":
            value = f"{reflection(prompt, language)} (n°{user.id * 37 % 9973})"
            plan.answers[prompt.id] = value
            actions.append(partial(user.send, value))
        elif prompt.kind == "choice":
            option = prompt.options[(index + user.id) % len(prompt.options)]
            plan.answers[prompt.id] = option.id
            actions.append(partial(user.press, option.label[language]))
        elif prompt.kind == "multi":
            ticked = [prompt.options[0], prompt.options[2]]
            actions += [partial(user.press, "⬜ " + o.label[language]) for o in ticked]
            plan.answers[prompt.id] = ",".join(o.id for o in ticked)
            if prompt.other and prompt.about == others[0]:
                other = f"autre frein <u>{user.id * 37 % 9973}</u> & co"
                plan.answers[prompt.id + ".other"] = other
                actions.append(partial(user.send, other))
            actions.append(partial(user.press, DONE_LABEL[language]))
        else:
            assert prompt.kind == "list" and prompt.statement is not None
            count = requests if prompt.statement == "request" else 1
            if prompt.about not in (None, others[0]):
                count = 0
            for number in range(count):
                # Unique per participant, without anything that names them.
                text = f"{prompt.statement} {number + 1} n°{user.id * 37 % 9973} <b>&"
                if write is not None:
                    text = write(prompt.statement, number)
                plan.statements.append((prompt.statement, prompt.about, text))
                actions.append(partial(user.send, text))
            actions.append(partial(user.press, DONE_LABEL[language]))
        plan.steps.append(_shown(plan, shown, actions[0]))
        plan.steps += actions[1:]


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait for `condition` (on the emulator's or the database's state) to hold."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)
