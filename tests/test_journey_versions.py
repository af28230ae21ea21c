"""The journey's prompts, each with its moment: what is asked, what was retired and why
answers stored under a retired id stay readable, and the options that fit each pair."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.views.prompts import prompt_text
from flows.engine import JourneyEngine, Situation
from flows.export import COLUMNS, question_text, rows
from flows.journey import Journey
from flows.journey_file import DEFAULT_JOURNEY, JourneyError, default_journey, load_journey
from storage.models import Answer, Participant, Workshop

# Every prompt the workshop asks, by moment (0: the peer exchange, by section). A change
# here is a change of the method: docs/METHOD.md says which intent each one carries.
ASKED = {
    1: ["m1_present", "m1_intention"],
    2: ["m2_person", "m2_knowother"],
    3: ["m3_safety", "m3_frame"],
    4: ["m4_reflect", "m4_feeling"],
    5: ["m5_bias", "m5_shaken", "m5_detour"],
    6: ["m6_otherview", "m6_from"],
    7: ["m7_lasting", "m7_disagree", "m7_missing"],
    8: ["m8_shifted", "m8_lesson", "m8_story"],
    9: ["m9_stays", "m9_commitments", "m9_settled"],
}
PEERS = {
    "own": ["p2_role", "p2_knowhow", "p2_stances"],
    "about": ["rel", "obs", "lev", "req"],
    "closing": ["p2_commit"],
}
# Prompts whose meaning changed: retired (never asked again, still named) -> the prompt a
# participant who stood at it goes on from.
RETIRED = {
    "m3_relation": "m3_safety",  # the relation gradient belongs to phase 2, per pair
    "m3_rule": "m3_frame",  # an individual wish; the frame is set together
    "m5_factor": "m5_bias",  # families of factors; the moment is about prejudices
    "m5_prejudice": "m5_detour",  # naming a prejudice; now: what overturned it
    "m6_seat": "m6_from",  # "put yourself in their place", own category offered
    "m8_useful": "m7_missing",  # satisfaction, asked before the collective part
    "m8_evaluate": "m7_missing",
    "m8_change": "m7_missing",
    "p2_postures": "p2_stances",  # left out the two monopolies the method names
}
RETIRED_MOMENT = {"m3_relation": 3, "m3_rule": 3, "m5_factor": 5, "m5_prejudice": 5}
RETIRED_MOMENT |= {"m6_seat": 6, "m8_useful": 8, "m8_evaluate": 8, "m8_change": 8}
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def journey() -> Journey:
    return default_journey()


def test_every_prompt_id_with_its_moment(journey: Journey) -> None:
    assert {m.number: [p.id for p in m.prompts] for m in journey.moments} == ASKED
    assert journey.peers is not None
    peers = journey.peers
    assert [p.id for p in peers.own] == PEERS["own"]
    assert [p.id for p in peers.about] == PEERS["about"]
    assert [p.id for p in peers.closing] == PEERS["closing"]
    retired = {p.id: p.moment_number for p in journey.retired_prompts()}
    assert retired == {**RETIRED_MOMENT, "p2_postures": 0}
    # Moments 8 and 9 come days later, together: after the workshop's collective part.
    assert [p.moment_number for p in journey.deferred_prompts()] == [8, 8, 8, 9, 9, 9]
    assert max(p.moment_number for p in journey.live_prompts()) == 7


def test_a_changed_prompt_carries_a_new_id_and_its_old_one_is_still_known(
    journey: Journey,
) -> None:
    assert dict(journey.replaced) == RETIRED
    asked = {p.id for p in (*journey.live_prompts(), *journey.deferred_prompts())}
    for old, new in RETIRED.items():
        prompt = journey.prompt(old)
        assert prompt is not None and prompt.retired and old not in asked
        # A retired id is never reused: what is asked under the new id reads differently.
        assert journey.prompt(new) is not None
        assert prompt.text["fr"] != journey.prompt(new).text["fr"]  # type: ignore[union-attr]


def test_a_participant_standing_at_a_retired_prompt_goes_on_from_the_next(
    journey: Journey,
) -> None:
    engine = JourneyEngine(journey)
    assert engine.step("m3_rule").state == "m3_frame"
    assert engine.step("m8_useful").state == "m7_missing"
    assert engine.step("p2_postures", "elu").state == "p2_stances"
    move = engine.interpret("m5_factor", "+disengaged", from_button=True)
    assert not hasattr(move, "to_state")  # a choice takes a plain option id, not a tick
    moved = engine.interpret("m5_factor", "disengaged", from_button=True)
    assert getattr(moved, "to_state", None) == "m5_shaken"
    assert getattr(moved, "answer", None) == ("m5_bias", "disengaged")


def test_the_options_offered_fit_the_pair_of_categories(journey: Journey) -> None:
    def options(category: str, prompt_id: str) -> list[str]:
        prompt = next(p for p in journey.peer_prompts(category) if p.id == prompt_id)
        return [o.id for o in prompt.options]

    # Between an authority's elected officials and its officers, or the State: vertical.
    for one, other in (("elu", "agent"), ("agent", "elu"), ("elu", "etat"), ("etat", "agent")):
        relations = options(one, f"rel_{other}")
        assert "vertical" in relations and "service" not in relations, (one, other)
        assert "quasi_delegation" not in relations
        assert "procurement" not in options(one, f"obs_{other}")
    # Between a public body and a private actor: public contracts, not a hierarchy.
    for one, other in (("elu", "socio_eco"), ("socio_eco", "agent"), ("socio_eco", "etat")):
        relations = options(one, f"rel_{other}")
        assert {"service", "quasi_delegation"} <= set(relations) and "vertical" not in relations
        assert "procurement" in options(one, f"obs_{other}")
    # The synthesis and the export still name every option, whoever chose it.
    named = journey.prompt("rel_agent")
    assert named is not None and {o.id for o in named.options} >= {"vertical", "service"}
    # A forged button for an option not offered to the pair is refused.
    engine = JourneyEngine(journey)
    ticked = engine.interpret(
        "obs_agent", "+procurement", from_button=True, situation=Situation(category="socio_eco")
    )
    assert getattr(ticked, "answer", None) == ("obs_agent", "procurement")
    refused = engine.interpret(
        "obs_agent", "+procurement", from_button=True, situation=Situation(category="elu")
    )
    assert getattr(refused, "problem", None) is not None


def test_the_stances_question_names_both_monopolies(journey: Journey) -> None:
    stances = journey.prompt("p2_stances")
    assert stances is not None
    assert "monopole de l'intérêt général" in stances.text["fr"]
    assert "monopole de la coopération" in stances.text["fr"]
    assert "monopoly on cooperation" in stances.text["en"]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_perception_prompt_offers_the_three_other_places_only(
    journey: Journey, language: str
) -> None:
    engine = JourneyEngine(journey)
    groups = {c.id: c.group[language] for c in journey.categories}
    for category in groups:
        text = prompt_text(
            journey, engine.step("m6_from", category), language, max_length=2000, category=category
        )
        named = {other for other, group in groups.items() if group in html.unescape(text)}
        assert named == set(groups) - {category}, (category, text)
        assert "{others}" not in text


def test_an_export_answered_before_the_change_still_names_its_questions(
    journey: Journey,
) -> None:
    people = [
        Participant(pid, 1, 100 + pid, "agent", "fr", "done", T0, T0, T0, None) for pid in (1, 2, 3)
    ]
    old = {"m3_relation": "partnership", "m3_rule": "Parler vrai", "m5_factor": "relational"}
    old |= {"m6_seat": "Le temps long", "m8_useful": "4", "p2_postures": "Garants"}
    answers = [Answer(p.id, qid, value, T0, None) for p in people for qid, value in old.items()]
    workshop = Workshop(
        1, "C" * 16, "F" * 16, "Atelier", journey.id, 500, T0, None, export_key="k" * 32
    )
    table = list(rows(journey, workshop, people, answers, [], [], language="fr", min_group=1))
    by_step = {row[COLUMNS.index("step")]: row for row in table}
    assert set(by_step) >= set(old)
    for question_id in old:
        prompt = journey.prompt(question_id)
        assert prompt is not None
        row = by_step[question_id]
        # The question as it was asked, in the phase it was asked in.
        assert row[COLUMNS.index("question")] == question_text(journey, prompt, "fr", "agent")
        assert "{" not in row[COLUMNS.index("question")]
        phase = "2" if question_id == "p2_postures" else "1"
        assert row[COLUMNS.index("phase")] == phase, (question_id, row)


def test_retired_and_between_are_checked(tmp_path: Path) -> None:
    text = DEFAULT_JOURNEY.read_text(encoding="utf-8")
    cases = [
        (
            'id = "vertical"\nbetween = "public-public"',
            'id = "vertical"\nbetween = "inside"',
            "must be",
        ),
        ('id = "none_yet"\n', 'id = "none_yet"\nbetween = "public-public"\n', "unknown key"),
        ('id = "rel"\nkind', 'id = "rel"\nretired = true\nkind', "cannot be retired"),
        ('id = "p2_commit"\nkind', 'id = "p2_commit"\nretired = true\nkind', "at least one"),
        ("{own} adoptent-ils", "{others} adoptent-ils", "unknown placeholder {others}"),
        ('"State officers in the territory"\npublic = true', '"x"\npublic = "oui"', "true or"),
    ]
    for old, new, problem in cases:
        assert old in text, old
        path = tmp_path / "journey.toml"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(JourneyError) as caught:
            load_journey(path)
        assert problem in caught.value.problem, (new, caught.value)
