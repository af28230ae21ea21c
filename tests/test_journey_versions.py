"""The journey's prompts, each with its moment: what is asked, what was retired and why
answers stored under a retired id stay readable, and the options that fit each pair."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.views.prompts import prompt_text
from flows.engine import JourneyEngine, Situation
from flows.export import COLUMNS, question_text, rows
from flows.journey import Journey
from flows.journey_file import DEFAULT_JOURNEY, JourneyError, default_journey, load_journey
from flows.synthesis import synthesise
from reports.messages import synthesis_messages
from storage.models import Answer, Participant, Workshop
from tests import stored
from tests.conftest import bot_running, create_workshop, participant_row, stored_answers
from tests.helpers import onboard
from tgemu import BotApiEmulator

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
    # Satisfaction, asked before the collective part; nothing asked after them in phase 1:
    # on to the wait for phase 2 (let in at once when it is open).
    "m8_useful": "peers_wait",
    "m8_evaluate": "peers_wait",
    "m8_change": "peers_wait",
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
        replacing = journey.prompt(new)
        assert replacing is None or prompt.text["fr"] != replacing.text["fr"]


def test_a_participant_standing_at_a_retired_prompt_goes_on_from_the_next(
    journey: Journey,
) -> None:
    engine = JourneyEngine(journey)
    assert engine.step("m3_rule").state == "m3_frame"
    assert engine.step("m8_useful").state == "peers_wait"
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


def test_a_synthesis_answered_before_the_change_still_shows_its_answers(
    journey: Journey,
) -> None:
    people = [
        Participant(pid, 1, 100 + pid, "agent", "fr", "done", T0, T0, T0, None) for pid in (1, 2, 3)
    ]
    answers = [Answer(p.id, "m3_relation", "partnership", T0, None) for p in people]
    answers += [Answer(p.id, "m8_useful", str(p.id + 2), T0, None) for p in people]
    answers += [
        Answer(p.id, "p2_postures", "Garants de l'intérêt général", T0, None) for p in people
    ]
    synthesis = synthesise(journey, people, answers, [], [], min_group=3)
    assert synthesis.choices["m3_relation"]["agent"]["partnership"] == 3
    assert synthesis.scales["m8_useful"]["agent"].count == 3
    assert synthesis.own["p2_postures"]["agent"].respondents == 3
    text = html.unescape("\n".join(synthesis_messages(journey, synthesis, "fr")))
    for question_id in ("m3_relation", "m8_useful", "p2_postures"):
        prompt = journey.prompt(question_id)
        assert prompt is not None
        assert prompt.text["fr"].split("{")[0][:60] in text, question_id
    # A workshop of today's journey shows no retired question.
    fresh = synthesise(journey, people, [], [], [], min_group=3)
    fresh_text = html.unescape("\n".join(synthesis_messages(journey, fresh, "fr")))
    assert journey.prompt("m3_relation").text["fr"][:60] not in fresh_text  # type: ignore[union-attr]
    assert "{others}" not in fresh_text


def test_every_rule_proposed_for_the_frame_reaches_the_facilitators(journey: Journey) -> None:
    """The frame is set together: each rule proposed (masked like any quote) is read in
    full, not only those that share words with others."""
    frame = journey.prompt("m3_frame")
    assert frame is not None and frame.listed
    rules = ["On parle en son nom", "Personne ne coupe", "Téléphones rangés", "Silence accepté"]
    people = [
        Participant(pid, 1, 100 + pid, "agent", "fr", "done", T0, T0, T0, None)
        for pid in range(1, len(rules) + 1)
    ]
    answers = [
        Answer(p.id, "m3_frame", rule, T0, None) for p, rule in zip(people, rules, strict=True)
    ]
    feelings = [Answer(p.id, "m4_feeling", r, T0, None) for p, r in zip(people, rules, strict=True)]
    # Read as others read it: the author's name masked when it was written.
    answers.append(Answer(9, "m3_frame", "Écoutez Sam Martin", T0, None, "Écoutez […]"))
    people.append(Participant(9, 1, 109, "agent", "fr", "done", T0, T0, T0, None))
    synthesis = synthesise(journey, people, answers, [], [], min_group=3)
    text = html.unescape("\n".join(synthesis_messages(journey, synthesis, "fr", phase="1")))
    assert all(rule in text for rule in rules)
    assert "Écoutez […]" in text and "Sam Martin" not in text
    # Another text prompt keeps to its typical quotes: none here, no word is shared.
    synthesis = synthesise(journey, people, feelings, [], [], min_group=3)
    text = html.unescape("\n".join(synthesis_messages(journey, synthesis, "fr", phase="1")))
    assert not any(rule in text for rule in rules)


async def test_a_participant_at_a_retired_question_when_the_bot_restarts(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """Someone who had a question on screen that a new journey file retired: at start they
    are moved on to the question that replaced it, and what they then type to the old one
    is not stored as the answer to the new one, which they had not read."""
    async with bot_running(settings, emulator):
        code = await create_workshop(emulator)
        sam = emulator.user(1003, first_name="Sam", language_code="fr")
        await onboard(
            emulator, sam, code, category=journey.categories[2].label["fr"], language="fr"
        )
    # As if an earlier journey had shown them m3_rule, now retired.
    with stored.connect(settings.database) as conn:
        conn.execute("UPDATE participants SET state = 'm3_rule', shown_state = 'm3_rule'")
    async with bot_running(settings, emulator):
        row = participant_row(settings.database, 1003)
        assert row is not None and row["state"] == "m3_frame"  # moved on at start
        await sam.send("Parler franchement")  # written to the old question
        await emulator.wait_idle()
        assert stored_answers(settings.database, 1003) == {}
        frame = journey.prompt("m3_frame")
        assert frame is not None and frame.text["fr"] in (sam.last.text or "")
        assert "📌" in (sam.last.text or "")
        await sam.send("On parle en son nom")  # now to the new one, read
        await emulator.wait_idle()
        assert stored_answers(settings.database, 1003) == {"m3_frame": "On parle en son nom"}
    assert emulator.rejected == []


def test_every_pair_is_offered_at_least_two_options(tmp_path: Path) -> None:
    text = DEFAULT_JOURNEY.read_text(encoding="utf-8")
    for option in ("distant", "partnership", "cooperation"):
        head, found, tail = text.rpartition(f'id = "{option}"\n')
        assert found
        text = f'{head}{found}between = "public-private"\n{tail}'
    path = tmp_path / "journey.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    # Between an authority's elected officials and its officers, only "vertical" is left.
    assert "fewer than 2 options are offered to elu → agent" in caught.value.problem
    assert caught.value.key == "peers.about.prompts[0].options"
