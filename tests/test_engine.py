"""The journey engine: pure transitions, validation and progress."""

from __future__ import annotations

import pytest

from flows.engine import BACK, DONE, SKIP, JourneyEngine, Move, Problem, Rejection
from flows.journey import default_journey


@pytest.fixture(scope="module")
def engine() -> JourneyEngine:
    return JourneyEngine(default_journey(), max_text_length=50)


def test_states_are_onboarding_then_live_prompts_then_done(engine: JourneyEngine) -> None:
    prompts = default_journey().live_prompts()
    assert engine.states == ["consent", "category", "language", *(p.id for p in prompts), DONE]
    assert not any(p.id.startswith("m9") for p in prompts)


def test_a_scale_accepts_buttons_and_typed_digits(engine: JourneyEngine) -> None:
    first = engine.prompts[0]
    assert first.kind == "scale"
    move = engine.interpret(first.id, "4", from_button=True)
    assert isinstance(move, Move) and move.answer == (first.id, "4")
    assert move.to_state == engine.prompts[1].id
    typed = engine.interpret(first.id, " 2 ", from_button=False)
    assert isinstance(typed, Move) and typed.answer == (first.id, "2")
    assert engine.interpret(first.id, "6", from_button=False) == Rejection(Problem.USE_BUTTONS)
    assert engine.interpret(first.id, "9", from_button=True) == Rejection(Problem.NOT_AN_OPTION)


def test_text_limits(engine: JourneyEngine) -> None:
    text_prompt = next(p for p in engine.prompts if p.kind == "text")
    assert engine.interpret(text_prompt.id, "x" * 51, from_button=False) == Rejection(
        Problem.TOO_LONG, 50
    )
    assert engine.interpret(text_prompt.id, "   ", from_button=False) == Rejection(Problem.EMPTY)
    assert engine.interpret(text_prompt.id, "3", from_button=True) == Rejection(Problem.USE_TEXT)


def test_choice_only_by_button(engine: JourneyEngine) -> None:
    choice = next(p for p in engine.prompts if p.kind == "choice")
    option = choice.options[0].id
    assert isinstance(engine.interpret(choice.id, option, from_button=True), Move)
    assert engine.interpret(choice.id, option, from_button=False) == Rejection(Problem.USE_BUTTONS)


def test_skip_only_optional_and_back_not_before_category(engine: JourneyEngine) -> None:
    required = next(p for p in engine.prompts if not p.optional)
    optional = next(p for p in engine.prompts if p.optional)
    assert engine.interpret(required.id, SKIP, from_button=False, navigation=True) == Rejection(
        Problem.NOT_OPTIONAL
    )
    skipped = engine.interpret(optional.id, SKIP, from_button=False, navigation=True)
    assert isinstance(skipped, Move) and skipped.answer is None and skipped.trigger == "skip"
    assert engine.interpret("category", BACK, from_button=False, navigation=True) == Rejection(
        Problem.NO_WAY_BACK
    )
    assert engine.interpret("consent", BACK, from_button=False, navigation=True) == Rejection(
        Problem.NO_WAY_BACK
    )
    back = engine.interpret(engine.prompts[0].id, BACK, from_button=False, navigation=True)
    assert isinstance(back, Move) and back.to_state == "language"
    from_done = engine.interpret(DONE, BACK, from_button=False, navigation=True)
    assert isinstance(from_done, Move) and from_done.to_state == engine.prompts[-1].id


def test_onboarding_moves(engine: JourneyEngine) -> None:
    consent = engine.interpret("consent", "yes", from_button=True)
    assert isinstance(consent, Move) and consent.consented and consent.to_state == "category"
    declined = engine.interpret("consent", "no", from_button=True)
    assert isinstance(declined, Move) and declined.declined and declined.to_state == "consent"
    category = engine.journey.categories[2].id
    chosen = engine.interpret("category", category, from_button=True)
    assert isinstance(chosen, Move) and chosen.category == category
    assert engine.interpret("category", "mayor", from_button=True) == Rejection(
        Problem.NOT_AN_OPTION
    )
    language = engine.interpret("language", "en", from_button=True)
    assert isinstance(language, Move) and language.language == "en"


def test_finishing_and_progress(engine: JourneyEngine) -> None:
    last = engine.prompts[-1]
    value = "fin" if last.kind == "text" else "3"
    move = engine.interpret(last.id, value, from_button=last.kind != "text")
    assert isinstance(move, Move) and move.finished
    assert engine.interpret(DONE, "more", from_button=False) == Rejection(Problem.FINISHED)
    progress = engine.progress(engine.prompts[4].id)
    assert (progress.answered_steps, progress.step_count) == (4, len(engine.prompts))
    assert progress.moment_count == 9
    assert progress.moment_number == engine.prompts[4].moment_number
    assert engine.progress(DONE).finished


def test_restoring_a_model_runs_no_callbacks_and_leaves_no_model(engine: JourneyEngine) -> None:
    before = len(engine._machine.models)
    for state in engine.states:
        engine.fire(state, "advance")
    assert len(engine._machine.models) == before


def test_back_and_skip_typed_as_answers_are_just_text(engine: JourneyEngine) -> None:
    text_prompt = next(p for p in engine.prompts if p.kind == "text")
    move = engine.interpret(text_prompt.id, SKIP, from_button=False)
    assert isinstance(move, Move) and move.answer == (text_prompt.id, SKIP)


def test_skip_at_the_end_says_it_is_finished(engine: JourneyEngine) -> None:
    assert engine.interpret(DONE, SKIP, from_button=False, navigation=True) == Rejection(
        Problem.FINISHED
    )


def test_an_unknown_stored_state_falls_back_to_the_first_prompt(engine: JourneyEngine) -> None:
    assert engine.step("removed_prompt").state == engine.prompts[0].id
