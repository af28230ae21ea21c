"""The participant's journey as a `transitions` state machine, declared from the journey's data.

The machine is built once per journey. A participant's position lives in SQLite; for
each event their stored state is attached as a model (`add_model(initial=...)`, which
runs no `on_enter` callbacks), the trigger fires, and the model is removed again.

The deferred moments (with the décantation) have states after DONE, reached only when
its sender moves a finished participant there (`decantation_start`); the last leads back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from functools import partial
from itertools import pairwise
from typing import Any, Literal

from transitions import Machine, MachineError

from flows.journey import LANGUAGES, Journey, Moment, Prompt

CONSENT, CATEGORY, LANGUAGE, PEERS_WAIT, DONE = (
    "consent",
    "category",
    "language",
    "peers_wait",
    "done",
)
ONBOARDING = (CONSENT, CATEGORY, LANGUAGE)
# Button values that are not answers: back, skip, and the "done" of a multiple choice or a
# list of statements. Ticking and unticking an option carry "+id" and "-id".
BACK, SKIP, FINISH = "~back", "~skip", "~done"
TICK, UNTICK = "+", "-"
OTHER_SUFFIX = ".other"  # the typed "other" answer of a multi prompt is stored as <id>.other
StepKind = Literal[
    "consent",
    "category",
    "language",
    "scale",
    "text",
    "choice",
    "multi",
    "list",
    "peers_wait",
    "done",
]


@dataclass(frozen=True)
class Step:
    """Where a participant stands: an onboarding step, a prompt, a wait, or the end."""

    state: str
    kind: StepKind
    prompt: Prompt | None = None
    moment: Moment | None = None
    number: int = 0  # 1-based position among the prompts of its phase; 0 outside them
    count: int = 0  # prompts in that phase (for this participant's category)
    block_start: bool = False  # the first prompt of a phase 2 block (its intro goes above)

    @property
    def phase(self) -> int:
        return self.prompt.phase if self.prompt is not None else 0

    @property
    def deferred(self) -> bool:  # a prompt of the décantation, some days after the end
        return self.moment is not None and self.moment.deferred


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
    WAITING = "waiting"  # phase 2 has not been opened yet
    NOTHING_CHOSEN = "nothing_chosen"
    TOO_MANY = "too_many"
    CATEGORY_LOCKED = "category_locked"  # phase 2 answers speak for the category chosen


@dataclass(frozen=True)
class Situation:
    """What decides a move besides the state: facts the service reads from storage."""

    category: str | None = None
    peers_open: bool = True
    selection: tuple[str, ...] = ()  # the options ticked so far at a multi step
    other: str | None = None  # the typed answer of a multi step
    statements: int = 0  # statements made so far at a list step
    category_locked: bool = False  # phase 2 was answered as this category: it stays


@dataclass(frozen=True)
class Move:
    """What an accepted input does: the next state and what to store with it."""

    from_state: str
    to_state: str
    trigger: str = "advance"  # advance, back, skip; tick, other, add stay on the step
    answer: tuple[str, str] | None = None  # (question id, value); an empty value clears it
    statement: str | None = None  # the text of a new statement (list steps)
    category: str | None = None
    language: str | None = None
    consented: bool = False
    declined: bool = False
    deferred: bool = False  # made at a prompt of the décantation (the participant had finished)

    @property
    def finished(self) -> bool:
        return self.to_state == DONE

    @property
    def settles(self) -> bool:  # the décantation's last answer: back at the end
        return self.deferred and self.to_state == DONE

    @property
    def stays(self) -> bool:
        """The input added to the current step (an option, an other answer, a statement)."""
        return self.trigger in ("tick", "other", "add")


@dataclass(frozen=True)
class Rejection:
    problem: Problem
    limit: int = 0


@dataclass(frozen=True)
class Progress:
    moment_number: int  # the moment the participant is in (0 before the first)
    moment_count: int  # every moment, deferred ones included
    answered_steps: int  # prompts of the current phase behind them
    step_count: int  # prompts of the current phase in all
    finished: bool
    phase: int = 1  # 0 before the first prompt
    waiting: bool = False  # phase 1 finished, phase 2 not open yet


def text_length(text: str) -> int:
    """A text's length as Telegram counts it (UTF-16 code units: an emoji counts two), so
    that a text accepted here always fits in a message."""
    return len(text.encode("utf-16-le")) // 2


class _Position:
    """A participant's position, attached to the machine for the length of one event."""

    state: str


def _is_category(category: str, situation: Situation) -> bool:
    return situation.category == category


def _peers_open(situation: Situation) -> bool:
    return situation.peers_open


def _peers_closed(situation: Situation) -> bool:
    return not situation.peers_open


class JourneyEngine:
    """Computes the next state for an input; knows nothing of Telegram or storage."""

    def __init__(
        self, journey: Journey, *, max_text_length: int = 2000, max_statements: int = 10
    ) -> None:
        self.journey = journey
        self.max_text_length = max_text_length
        self.max_statements = max_statements
        self.prompts = journey.live_prompts()
        self.peer_sequences = {c.id: journey.peer_prompts(c.id) for c in journey.categories}
        self.peer_prompts = journey.all_peer_prompts()
        self.deferred_prompts = journey.deferred_prompts()
        self.deferred_states = frozenset(p.id for p in self.deferred_prompts)
        phase2 = [PEERS_WAIT, *(p.id for p in self.peer_prompts)] if self.peer_prompts else []
        later = [p.id for p in self.deferred_prompts]
        self.states = [*ONBOARDING, *(p.id for p in self.prompts), *phase2, DONE, *later]
        self._steps = self._declare_steps()
        self._fired: dict[tuple[str, str, str | None, bool], str | None] = {}
        self._machine = Machine(
            model=None,
            states=self.states,
            transitions=self._declare_transitions(),
            initial=None,
            auto_transitions=False,
        )

    def _declare_steps(self) -> dict[tuple[str, str | None], Step]:
        """Every step, keyed by state and category: phase 2 numbering depends on the category."""
        steps: dict[tuple[str, str | None], Step] = {}
        common = [Step(CONSENT, "consent"), Step(CATEGORY, "category"), Step(LANGUAGE, "language")]
        moments = {m.number: m for m in self.journey.moments}
        total = len(self.prompts)
        for number, prompt in enumerate(self.prompts, start=1):
            moment = moments[prompt.moment_number]
            common.append(Step(prompt.id, prompt.kind, prompt, moment, number, total))
        common += [Step(PEERS_WAIT, "peers_wait"), Step(DONE, "done")]
        deferred = len(self.deferred_prompts)
        for number, prompt in enumerate(self.deferred_prompts, start=1):
            moment = moments[prompt.moment_number]
            common.append(Step(prompt.id, prompt.kind, prompt, moment, number, deferred))
        for category in (None, *self.peer_sequences):
            for step in common:
                steps[(step.state, category)] = step
        for category, sequence in self.peer_sequences.items():
            previous_about: str | None = None
            for number, prompt in enumerate(sequence, start=1):
                block_start = number == 1 or (
                    prompt.about is not None and prompt.about != previous_about
                )
                previous_about = prompt.about
                steps[(prompt.id, category)] = Step(
                    prompt.id, prompt.kind, prompt, None, number, len(sequence), block_start
                )
        # A participant without a category (not possible past onboarding) still gets a step.
        for prompt in self.peer_prompts:
            steps.setdefault((prompt.id, None), Step(prompt.id, prompt.kind, prompt))
        return steps

    def _declare_transitions(self) -> list[dict[str, Any]]:
        """advance: to the next state; skip: past an optional prompt; back: to the previous
        state, as far back as the category (consent, once given, is not asked again).
        Phase 2 depends on the category, and is entered only once it is open."""
        transitions: list[dict[str, Any]] = []

        def link(source: str, dest: str, *conditions: Any, optional: bool = False) -> None:
            rule = {"source": source, "dest": dest, "conditions": list(conditions)}
            transitions.append({"trigger": "advance", **rule})
            if optional:
                transitions.append({"trigger": "skip", **rule})

        def back(source: str, dest: str, *conditions: Any) -> None:
            transitions.append(
                {"trigger": "back", "source": source, "dest": dest, "conditions": list(conditions)}
            )

        # The décantation: from its first prompt to the end, and back within it only.
        settling = [p.id for p in self.deferred_prompts]
        for source, dest in pairwise([*settling, DONE]):
            link(source, dest, optional=self._optional(source))
        for source, dest in pairwise(settling):
            back(dest, source)
        common = [*ONBOARDING, *(p.id for p in self.prompts)]
        for source, dest in pairwise(common):
            link(source, dest, optional=self._optional(source))
        for index in range(common.index(CATEGORY) + 1, len(common)):
            back(common[index], common[index - 1])
        last = common[-1]
        if not self.peer_prompts:
            link(last, DONE, optional=self._optional(last))
            back(DONE, last)
            return transitions
        link(last, PEERS_WAIT, _peers_closed, optional=self._optional(last))
        back(PEERS_WAIT, last)
        for category, sequence in self.peer_sequences.items():
            is_category = partial(_is_category, category)
            states = [p.id for p in sequence]
            link(last, states[0], is_category, _peers_open, optional=self._optional(last))
            link(PEERS_WAIT, states[0], is_category, _peers_open)
            back(states[0], last, is_category)
            for source, dest in pairwise([*states, DONE]):
                link(source, dest, is_category, optional=self._optional(source))
                back(dest, source, is_category)
        return transitions

    def _optional(self, state: str) -> bool:
        step = self._steps[(state, None)]
        return step.prompt is not None and step.prompt.optional

    def step(self, state: str, category: str | None = None) -> Step:
        """The step for a stored state (for a retired prompt, the one after it); an unknown
        state (the journey file changed) is the first prompt, so that nobody is stuck."""
        state = self.journey.replaced.get(state, state)
        return (
            self._steps.get((state, category))
            or self._steps.get((state, None))
            or (self._steps[(self.states[len(ONBOARDING)], None)])
        )

    def fire(self, state: str, trigger: str, situation: Situation | None = None) -> str | None:
        """The state `trigger` leads to from `state`, or None where it does not apply.

        Only the category and whether phase 2 is open decide a transition, so each answer
        is computed once by the machine and remembered (attaching a model is not cheap)."""
        situation = situation or Situation()
        key = (state, trigger, situation.category, situation.peers_open)
        if key not in self._fired:
            self._fired[key] = self._fire(state, trigger, situation)
        return self._fired[key]

    def _fire(self, state: str, trigger: str, situation: Situation) -> str | None:
        position = _Position()
        self._machine.add_model(position, initial=state)
        try:
            moved = position.trigger(trigger, situation)  # type: ignore[attr-defined]
        except MachineError:
            return None
        finally:
            self._machine.remove_model(position)
        return position.state if moved else None

    @property
    def decantation_start(self) -> str | None:
        """The state a finished participant is moved to when the décantation comes (None:
        the journey has no deferred moment)."""
        return self.deferred_prompts[0].id if self.deferred_prompts else None

    def interpret(
        self,
        state: str,
        value: str,
        *,
        from_button: bool,
        navigation: bool = False,
        situation: Situation | None = None,
    ) -> Move | Rejection:
        """Turn an input into a move or a rejection. Back and skip come from a button or,
        with `navigation`, a command; typed as an answer they are just text. A move made
        in the décantation says so (`Move.deferred`): the participant stays finished."""
        decided = self._interpret(state, value, from_button, navigation, situation)
        if isinstance(decided, Move) and decided.from_state in self.deferred_states:
            return replace(decided, deferred=True)
        return decided

    def _interpret(
        self,
        state: str,
        value: str,
        from_button: bool,
        navigation: bool,
        situation: Situation | None,
    ) -> Move | Rejection:
        situation = situation or Situation()
        step = self.step(state, situation.category)
        navigating = from_button or navigation
        if navigating and value == SKIP and step.kind == "done":
            return Rejection(Problem.FINISHED)
        if navigating and value == BACK:
            if step.state == LANGUAGE and situation.category_locked:
                return Rejection(Problem.CATEGORY_LOCKED)
            target = self.fire(step.state, "back", situation)
            return Move(step.state, target, "back") if target else Rejection(Problem.NO_WAY_BACK)
        if step.kind == "peers_wait":
            target = self.fire(step.state, "advance", situation)
            return Move(step.state, target, "release") if target else Rejection(Problem.WAITING)
        if navigating and value == SKIP:
            target = self.fire(step.state, "skip", situation)
            return Move(step.state, target, "skip") if target else Rejection(Problem.NOT_OPTIONAL)
        if step.kind == "done":
            return Rejection(Problem.FINISHED)
        if step.kind == "multi":
            return self._multi(step, value.strip(), from_button, situation)
        if step.kind == "list":
            return self._list(step, value.strip(), from_button, situation)
        accepted = self._accept(step, value.strip(), from_button=from_button)
        if isinstance(accepted, Rejection):
            return accepted
        if step.kind == "consent" and accepted == "no":
            return Move(step.state, step.state, "decline", declined=True)
        return self._advance(
            step,
            situation,
            answer=(step.prompt.id, accepted) if step.prompt else None,
            category=accepted if step.kind == "category" else None,
            language=accepted if step.kind == "language" else None,
            consented=step.kind == "consent",
        )

    def _advance(self, step: Step, situation: Situation, **stored: Any) -> Move:
        target = self.fire(step.state, "advance", situation)
        if target is None:  # a state outside the participant's sequence: start over cleanly
            target = self.states[len(ONBOARDING)]
        return Move(step.state, target, **stored)

    def _multi(
        self, step: Step, value: str, from_button: bool, situation: Situation
    ) -> Move | Rejection:
        """Tick and untick options, type an other answer, then finish."""
        assert step.prompt is not None
        prompt = step.prompt
        if not from_button:
            if not prompt.other:
                return Rejection(Problem.USE_BUTTONS)
            too_long = self._check_text(value)
            if too_long is not None:
                return too_long
            return Move(step.state, step.state, "other", answer=(prompt.id + OTHER_SUFFIX, value))
        if value == FINISH:
            if situation.selection or situation.other:
                return self._advance(step, situation)
            if prompt.optional:
                return self._skip(step, situation)
            return Rejection(Problem.NOTHING_CHOSEN)
        sign, option_id = value[:1], value[1:]
        if sign not in (TICK, UNTICK) or prompt.option(option_id) is None:
            return Rejection(Problem.NOT_AN_OPTION)
        chosen = set(situation.selection) - {option_id}
        if sign == TICK:
            chosen.add(option_id)
        if chosen == set(situation.selection):  # a double tap: already as asked
            return Move(step.state, step.state, "tick")
        ordered = ",".join(o.id for o in prompt.options if o.id in chosen)
        return Move(step.state, step.state, "tick", answer=(prompt.id, ordered))

    def _list(
        self, step: Step, value: str, from_button: bool, situation: Situation
    ) -> Move | Rejection:
        """Each typed message is one statement; the done button moves on."""
        assert step.prompt is not None
        if from_button:
            if value != FINISH:
                return Rejection(Problem.NOT_AN_OPTION)
            if situation.statements:
                return self._advance(step, situation)
            if step.prompt.optional:  # nothing written: the question is skipped
                return self._skip(step, situation)
            return Rejection(Problem.NOTHING_CHOSEN)
        problem = self._check_text(value)
        if problem is not None:
            return problem
        if situation.statements >= self.max_statements:
            return Rejection(Problem.TOO_MANY, self.max_statements)
        return Move(step.state, step.state, "add", statement=value)

    def _skip(self, step: Step, situation: Situation) -> Move | Rejection:
        target = self.fire(step.state, "skip", situation)
        return Move(step.state, target, "skip") if target else Rejection(Problem.NOT_OPTIONAL)

    def _check_text(self, value: str) -> Rejection | None:
        if not value:
            return Rejection(Problem.EMPTY)
        if text_length(value) > self.max_text_length:
            return Rejection(Problem.TOO_LONG, self.max_text_length)
        return None

    def _accept(self, step: Step, value: str, *, from_button: bool) -> str | Rejection:
        """The value to store for this step, or why it is refused."""
        if step.kind == "text":
            if from_button:
                return Rejection(Problem.USE_TEXT)
            return self._check_text(value) or value
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

    def release_target(self, category: str | None) -> str | None:
        """Where a participant waiting for phase 2 goes once it opens."""
        return self.fire(PEERS_WAIT, "advance", Situation(category=category, peers_open=True))

    def progress(self, state: str, category: str | None = None) -> Progress:
        step = self.step(state, category)
        moment_count = len(self.journey.moments)
        if step.kind == "done":
            last_moment = max((p.moment_number for p in self.prompts), default=0)
            count = len(self.peer_sequences.get(category or "", [])) or len(self.prompts)
            return Progress(
                last_moment, moment_count, count, count, True, 2 if self.peer_prompts else 1
            )
        if step.kind == "peers_wait":
            total = len(self.prompts)
            return Progress(
                self.prompts[-1].moment_number, moment_count, total, total, False, 1, waiting=True
            )
        if step.prompt is None:
            return Progress(0, moment_count, 0, len(self.prompts), False, 0)
        return Progress(
            moment_number=step.prompt.moment_number,
            moment_count=moment_count,
            answered_steps=step.number - 1,
            step_count=step.count,
            finished=False,
            phase=step.phase,
        )

    def can_go_back(self, state: str, category: str | None = None) -> bool:
        return self.fire(state, "back", Situation(category=category)) is not None
