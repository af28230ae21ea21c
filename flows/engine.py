"""The participant's journey as a `transitions` state machine, declared from the journey's data.

The machine is built once per journey. A participant's position lives in SQLite; for
each event their stored state is attached as a model (`add_model(initial=...)`, which
runs no `on_enter` callbacks), the trigger fires, and the model is removed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from transitions import Machine, MachineError

from flows.journey import LANGUAGES, Journey, Moment, Prompt

CONSENT, CATEGORY, LANGUAGE, DONE = "consent", "category", "language", "done"
ONBOARDING = (CONSENT, CATEGORY, LANGUAGE)
BACK, SKIP = "~back", "~skip"
StepKind = Literal["consent", "category", "language", "scale", "text", "choice", "done"]


@dataclass(frozen=True)
class Step:
    """Where a participant stands: an onboarding step, a prompt, or the end."""

    state: str
    kind: StepKind
    prompt: Prompt | None = None
    moment: Moment | None = None
    number: int = 0  # 1-based position among the live prompts; 0 outside them


class Problem(Enum):
    """Why an input was not taken; the bot turns each into a sentence."""

    USE_BUTTONS = "use_buttons"
    USE_TEXT = "use_text"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_AN_OPTION = "not_an_option"
    NOT_OPTIONAL = "not_optional"
    NO_WAY_BACK = "no_way_back"
    FINISHED = "finished"


@dataclass(frozen=True)
class Move:
    """What an accepted input does: the next state and what to store with it."""

    from_state: str
    to_state: str
    trigger: str = "advance"  # "advance", "back" or "skip"
    answer: tuple[str, str] | None = None
    category: str | None = None
    language: str | None = None
    consented: bool = False
    declined: bool = False

    @property
    def finished(self) -> bool:
        return self.to_state == DONE


@dataclass(frozen=True)
class Rejection:
    problem: Problem
    limit: int = 0


@dataclass(frozen=True)
class Progress:
    moment_number: int  # the moment the participant is in (0 before the first)
    moment_count: int  # every moment, deferred ones included
    answered_steps: int  # live prompts behind them
    step_count: int  # live prompts in all
    finished: bool


class _Position:
    """A participant's position, attached to the machine for the length of one event."""

    state: str


class JourneyEngine:
    """Computes the next state for an input; knows nothing of Telegram or storage."""

    def __init__(self, journey: Journey, *, max_text_length: int = 2000) -> None:
        self.journey = journey
        self.max_text_length = max_text_length
        self.prompts = journey.live_prompts()
        self.states = [*ONBOARDING, *(p.id for p in self.prompts), DONE]
        self._steps = {step.state: step for step in self._declare_steps()}
        self._machine = Machine(
            model=None,
            states=self.states,
            transitions=self._declare_transitions(),
            initial=None,
            auto_transitions=False,
        )

    def _declare_steps(self) -> list[Step]:
        steps = [Step(CONSENT, "consent"), Step(CATEGORY, "category"), Step(LANGUAGE, "language")]
        moments = {m.number: m for m in self.journey.moments}
        for number, prompt in enumerate(self.prompts, start=1):
            steps.append(
                Step(prompt.id, prompt.kind, prompt, moments[prompt.moment_number], number)
            )
        steps.append(Step(DONE, "done"))
        return steps

    def _declare_transitions(self) -> list[dict[str, str]]:
        """advance: to the next state; skip: past an optional prompt; back: to the previous
        state, as far back as the category (consent, once given, is not asked again)."""
        transitions: list[dict[str, str]] = []
        for index, state in enumerate(self.states[:-1]):
            following = self.states[index + 1]
            transitions.append({"trigger": "advance", "source": state, "dest": following})
            step = self._steps[state]
            if step.prompt is not None and step.prompt.optional:
                transitions.append({"trigger": "skip", "source": state, "dest": following})
        for index, state in enumerate(self.states):
            if index > self.states.index(CATEGORY):
                transitions.append(
                    {"trigger": "back", "source": state, "dest": self.states[index - 1]}
                )
        return transitions

    def step(self, state: str) -> Step:
        """The step for a stored state; an unknown state (the journey file changed) is
        treated as the first prompt so that nobody is stuck."""
        return self._steps.get(state) or self._steps[self.states[len(ONBOARDING)]]

    def fire(self, state: str, trigger: str) -> str | None:
        """The state `trigger` leads to from `state`, or None where it does not apply."""
        position = _Position()
        self._machine.add_model(position, initial=state)
        try:
            position.trigger(trigger)  # type: ignore[attr-defined]
        except MachineError:
            return None
        finally:
            self._machine.remove_model(position)
        return position.state

    def interpret(
        self, state: str, value: str, *, from_button: bool, navigation: bool = False
    ) -> Move | Rejection:
        """Turn an input into a move or a rejection. Back and skip come from a button or,
        with `navigation`, a command; typed as an answer they are just text."""
        step = self.step(state)
        navigating = from_button or navigation
        if navigating and value == SKIP and step.kind == "done":
            return Rejection(Problem.FINISHED)
        if navigating and value == BACK:
            target = self.fire(step.state, "back")
            return Move(step.state, target, "back") if target else Rejection(Problem.NO_WAY_BACK)
        if navigating and value == SKIP:
            target = self.fire(step.state, "skip")
            return Move(step.state, target, "skip") if target else Rejection(Problem.NOT_OPTIONAL)
        if step.kind == "done":
            return Rejection(Problem.FINISHED)
        accepted = self._accept(step, value.strip(), from_button=from_button)
        if isinstance(accepted, Rejection):
            return accepted
        if step.kind == "consent" and accepted == "no":
            return Move(step.state, step.state, "decline", declined=True)
        target = self.fire(step.state, "advance")
        assert target is not None, "every state but done advances"
        return Move(
            step.state,
            target,
            answer=(step.prompt.id, accepted) if step.prompt else None,
            category=accepted if step.kind == "category" else None,
            language=accepted if step.kind == "language" else None,
            consented=step.kind == "consent",
        )

    def _accept(self, step: Step, value: str, *, from_button: bool) -> str | Rejection:
        """The value to store for this step, or why it is refused."""
        if step.kind == "text":
            if from_button:
                return Rejection(Problem.USE_TEXT)
            if not value:
                return Rejection(Problem.EMPTY)
            if len(value) > self.max_text_length:
                return Rejection(Problem.TOO_LONG, self.max_text_length)
            return value
        choices = self.choices(step)
        if value in choices and (from_button or step.kind == "scale"):
            return value
        return Rejection(Problem.NOT_AN_OPTION if from_button else Problem.USE_BUTTONS)

    def choices(self, step: Step) -> list[str]:
        """The values a button may carry at this step."""
        if step.kind == "consent":
            return ["yes", "no"]
        if step.kind == "category":
            return [c.id for c in self.journey.categories]
        if step.kind == "language":
            return list(LANGUAGES)
        if step.kind == "scale":
            return ["1", "2", "3", "4", "5"]
        if step.kind == "choice" and step.prompt is not None:
            return [o.id for o in step.prompt.options]
        return []

    def progress(self, state: str) -> Progress:
        step = self.step(state)
        total = len(self.prompts)
        if step.kind == "done":
            answered = total
            moment_number = max((p.moment_number for p in self.prompts), default=0)
        elif step.prompt is not None:
            answered, moment_number = step.number - 1, step.prompt.moment_number
        else:
            answered, moment_number = 0, 0
        return Progress(
            moment_number=moment_number,
            moment_count=len(self.journey.moments),
            answered_steps=answered,
            step_count=total,
            finished=step.kind == "done",
        )

    def can_go_back(self, state: str) -> bool:
        return self.fire(state, "back") is not None
