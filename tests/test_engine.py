"""The journey engine: pure transitions, validation and progress."""

from __future__ import annotations

import pytest

from flows.engine import (
    BACK,
    DONE,
    FINISH,
    PEERS_WAIT,
    SKIP,
    TICK,
    UNTICK,
    JourneyEngine,
    Move,
    Problem,
    Rejection,
    Situation,
)
from flows.journey_file import default_journey


@pytest.fixture(scope="module")
def engine() -> JourneyEngine:
    return JourneyEngine(default_journey(), max_text_length=50)


def test_states_are_onboarding_then_both_phases_then_done(engine: JourneyEngine) -> None:
    journey = default_journey()
    prompts = journey.live_prompts()
    peers = journey.all_peer_prompts()
    assert engine.states == [
        "consent",
        "category",
        "language",
        *(p.id for p in prompts),
        PEERS_WAIT,
        *(p.id for p in peers),
        DONE,
        *("m8_shifted", "m8_lesson", "m8_story"),
        *("m9_stays", "m9_commitments", "m9_settled"),
    ]
    assert not any(p.id.startswith(("m8", "m9")) for p in prompts)


# -- the décantation ---------------------------------------------------------------------


def test_nobody_reaches_the_decantation_by_answering(engine: JourneyEngine) -> None:
    """The end stays the end: the deferred moments come only when their sender moves them."""
    assert engine.decantation_start == "m8_shifted"
    assert engine.interpret(DONE, "4", from_button=True) == Rejection(Problem.FINISHED)
    assert engine.interpret(DONE, SKIP, from_button=True) == Rejection(Problem.FINISHED)
    last_peer = engine.peer_sequences["elu"][-1].id
    move = engine.interpret(last_peer, FINISH, from_button=True, situation=Situation("elu"))
    assert isinstance(move, Move) and move.to_state == DONE and not move.deferred


def test_the_decantation_goes_through_its_prompts_back_to_the_end(engine: JourneyEngine) -> None:
    stays = engine.interpret("m9_stays", "4", from_button=True, situation=Situation("elu"))
    assert stays == Move("m9_stays", "m9_commitments", answer=("m9_stays", "4"), deferred=True)
    assert not stays.finished and not stays.settles
    did = engine.interpret("m9_commitments", "kept one", from_button=False)
    assert isinstance(did, Move) and did.answer == ("m9_commitments", "kept one")
    assert did.to_state == "m9_settled" and did.deferred
    settled = engine.interpret("m9_settled", "a contact", from_button=False)
    assert isinstance(settled, Move) and settled.to_state == DONE
    assert settled.finished and settled.settles and settled.deferred
    # Same rules as any prompt: the scale is not optional, texts are; back within it only.
    assert engine.interpret("m9_stays", SKIP, from_button=True) == Rejection(Problem.NOT_OPTIONAL)
    assert engine.interpret("m9_stays", "hello", from_button=False) == Rejection(
        Problem.USE_BUTTONS
    )
    assert engine.interpret("m8_shifted", BACK, from_button=True) == Rejection(Problem.NO_WAY_BACK)
    back = engine.interpret("m9_stays", BACK, from_button=True)
    assert back == Move("m9_stays", "m8_story", "back", deferred=True)
    skipped = engine.interpret("m9_settled", SKIP, from_button=True)
    assert isinstance(skipped, Move) and skipped.settles and skipped.answer is None
    back = engine.interpret("m9_commitments", BACK, navigation=True, from_button=False)
    assert back == Move("m9_commitments", "m9_stays", "back", deferred=True)
    assert engine.interpret("m9_commitments", "x" * 51, from_button=False) == Rejection(
        Problem.TOO_LONG, 50
    )
    # From the end, /back still goes to the last question of phase 2, never into it.
    assert engine.fire(DONE, "back", Situation("elu")) == engine.peer_sequences["elu"][-1].id


def test_decantation_steps_are_numbered_within_the_deferred_moments(
    engine: JourneyEngine,
) -> None:
    step = engine.step("m9_commitments", "agent")
    assert step.deferred and step.moment is not None and step.moment.number == 9
    assert (step.number, step.count, step.kind) == (5, 6, "text")
    assert step.prompt is not None and step.prompt.recall == "commitment"
    assert not engine.step(engine.prompts[0].id).deferred
    progress = engine.progress("m9_settled", "agent")
    assert (progress.moment_number, progress.answered_steps, progress.step_count) == (9, 5, 6)
    assert not progress.finished


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
    elu = Situation(category="elu")
    from_done = engine.interpret(DONE, BACK, from_button=False, navigation=True, situation=elu)
    assert isinstance(from_done, Move) and from_done.to_state == "p2_commit"


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


def test_phase_one_leads_to_phase_two_or_to_the_wait(engine: JourneyEngine) -> None:
    last = engine.prompts[-1]
    value = "fin" if last.kind == "text" else "3"
    button = last.kind != "text"
    open_ = engine.interpret(
        last.id, value, from_button=button, situation=Situation(category="elu", peers_open=True)
    )
    assert isinstance(open_, Move) and open_.to_state == "p2_role" and not open_.finished
    closed = engine.interpret(
        last.id, value, from_button=button, situation=Situation(category="elu", peers_open=False)
    )
    assert isinstance(closed, Move) and closed.to_state == PEERS_WAIT
    waiting = engine.interpret(
        PEERS_WAIT, "hello", from_button=False, situation=Situation("elu", peers_open=False)
    )
    assert waiting == Rejection(Problem.WAITING)
    assert engine.release_target("etat") == "p2_role"
    back = engine.interpret(
        "p2_role", BACK, from_button=True, situation=Situation("elu", peers_open=False)
    )
    assert isinstance(back, Move) and back.to_state == last.id


def test_each_category_is_asked_about_the_three_others_only(engine: JourneyEngine) -> None:
    for category in engine.journey.categories:
        sequence = [p.id for p in engine.peer_sequences[category.id]]
        others = [c.id for c in engine.journey.categories if c.id != category.id]
        assert sequence[:3] == ["p2_role", "p2_knowhow", "p2_stances"]
        assert sequence[-1] == "p2_commit"
        assert {p.about for p in engine.peer_sequences[category.id] if p.about} == set(others)
        assert not any(state.endswith("_" + category.id) for state in sequence)
        # Walking it with "advance" follows exactly that sequence, then ends.
        state, walked = "p2_role", []
        situation = Situation(category=category.id)
        while state != DONE:
            walked.append(state)
            target = engine.fire(state, "advance", situation)
            assert target is not None
            state = target
        assert walked == sequence
        step = engine.step(sequence[4], category.id)
        assert (step.number, step.count, step.phase) == (5, len(sequence), 2)


def test_multi_ticks_an_other_answer_and_done(engine: JourneyEngine) -> None:
    obstacles = engine.step("obs_agent", "elu")
    assert obstacles.kind == "multi"
    first, second = (o.id for o in obstacles.prompt.options[:2])  # type: ignore[union-attr]
    elu = Situation(category="elu")
    ticked = engine.interpret("obs_agent", TICK + second, from_button=True, situation=elu)
    assert isinstance(ticked, Move) and ticked.stays and ticked.to_state == "obs_agent"
    assert ticked.answer == ("obs_agent", second)
    both = Situation(category="elu", selection=(second,))
    ticked = engine.interpret("obs_agent", TICK + first, from_button=True, situation=both)
    assert isinstance(ticked, Move) and ticked.answer == ("obs_agent", f"{first},{second}")
    unticked = engine.interpret("obs_agent", UNTICK + second, from_button=True, situation=both)
    assert isinstance(unticked, Move) and unticked.answer == ("obs_agent", "")
    other = engine.interpret(
        "obs_agent", "Des délais trop courts", from_button=False, situation=elu
    )
    assert isinstance(other, Move) and other.answer == ("obs_agent.other", "Des délais trop courts")
    assert engine.interpret("obs_agent", TICK + "nope", from_button=True, situation=elu) == (
        Rejection(Problem.NOT_AN_OPTION)
    )
    done = engine.interpret("obs_agent", FINISH, from_button=True, situation=both)
    assert isinstance(done, Move) and done.to_state == "lev_agent" and done.trigger == "advance"
    empty = engine.interpret("obs_agent", FINISH, from_button=True, situation=elu)
    assert isinstance(empty, Move) and empty.trigger == "skip"  # optional: done with none


def test_list_makes_one_statement_per_message(engine: JourneyEngine) -> None:
    elu = Situation(category="elu")
    added = engine.interpret(
        "req_agent", "Nous associer plus tôt", from_button=False, situation=elu
    )
    assert isinstance(added, Move) and added.stays and added.statement == "Nous associer plus tôt"
    assert added.answer is None and added.to_state == "req_agent"
    full = Situation(category="elu", statements=engine.max_statements)
    assert engine.interpret("req_agent", "encore", from_button=False, situation=full) == Rejection(
        Problem.TOO_MANY, engine.max_statements
    )
    none = engine.interpret("req_agent", FINISH, from_button=True, situation=elu)
    assert isinstance(none, Move) and none.to_state == "rel_socio_eco" and none.trigger == "skip"
    one = Situation(category="elu", statements=1)
    done = engine.interpret("req_agent", FINISH, from_button=True, situation=one)
    assert isinstance(done, Move) and done.to_state == "rel_socio_eco" and done.trigger == "advance"
    last = engine.interpret("p2_commit", FINISH, from_button=True, situation=elu)
    assert isinstance(last, Move) and last.finished


def test_progress_per_phase(engine: JourneyEngine) -> None:
    assert engine.interpret(DONE, "more", from_button=False) == Rejection(Problem.FINISHED)
    progress = engine.progress(engine.prompts[4].id)
    assert (progress.answered_steps, progress.step_count) == (4, len(engine.prompts))
    assert progress.moment_count == 9 and progress.phase == 1
    assert progress.moment_number == engine.prompts[4].moment_number
    peers = engine.progress("rel_socio_eco", "elu")
    assert (peers.phase, peers.answered_steps, peers.step_count) == (2, 7, 16)
    assert engine.progress(PEERS_WAIT, "elu").waiting
    assert engine.progress(DONE, "elu").finished


def test_restoring_a_model_runs_no_callbacks_and_leaves_no_model() -> None:
    engine = JourneyEngine(default_journey())  # fresh: nothing remembered yet
    before = len(engine._machine.models)
    for state in engine.states:
        engine.fire(state, "advance", Situation(category="agent"))
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
