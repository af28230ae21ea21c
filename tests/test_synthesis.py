"""The synthesis on a fixed data set: 42 people joined, 40 took part, in four categories
(12 elected officials, 12 officers, 14 socio-economic actors, 2 State officers)."""

from __future__ import annotations

import pytest

from flows.journey import Journey
from flows.journey_file import default_journey
from flows.synthesis import (
    ALL,
    Synthesis,
    Tally,
    proportion_z,
    summarise_scale,
    synthesise,
)
from flows.themes import anonymise, summarise_texts
from storage.models import Vote
from tests.synthesis_data import T0, forty


@pytest.fixture(scope="module")
def journey() -> Journey:
    return default_journey()


@pytest.fixture(scope="module")
def synthesis(journey: Journey) -> Synthesis:
    rows = forty()
    return synthesise(
        journey, rows.participants, rows.answers, rows.statements, rows.votes, min_group=3
    )


def test_the_funnel(synthesis: Synthesis) -> None:
    counts = synthesis.funnel.counts
    assert counts["joined"][ALL] == 42 and counts["consented"][ALL] == 40
    assert counts["active"][ALL] == 40
    assert counts["phase1"][ALL] == 39 and counts["finished"][ALL] == 38
    assert counts["finished"]["socio_eco"] == 12 and counts["consented"]["elu"] == 12
    # Per moment: everyone is past moment 1; the participant at moment 3 is not past it.
    assert synthesis.moments[1][ALL] == 40 and synthesis.moments[3][ALL] == 39
    assert synthesis.moments[3]["socio_eco"] == 13


def test_a_category_of_two_is_hidden_everywhere(synthesis: Synthesis) -> None:
    assert synthesis.categories.shown == ("elu", "agent", "socio_eco")
    assert synthesis.categories.left_out == ("etat",)
    assert any("etat" in note for note in synthesis.notes)
    assert "etat" not in synthesis.funnel.counts["consented"]
    assert "etat" not in synthesis.scales["m1_present"]
    assert ("etat", "elu") not in synthesis.pairs["rel"]
    for result in synthesis.statements:
        assert "etat" not in result.by_group
    # Their answers are out of the totals too: the total minus the groups shown would
    # otherwise give them away.
    assert synthesis.scales["m1_present"][ALL].count == 38
    assert synthesis.statements[0].overall.votes == 37


def test_scales_medians_quartiles_and_distribution(synthesis: Synthesis) -> None:
    scales = synthesis.scales["m1_present"]
    assert scales["elu"].median == 4 and scales["agent"].median == 2
    assert scales["socio_eco"].median == 3.5
    assert scales["socio_eco"].distribution == (0, 7, 0, 0, 7)
    assert (scales["socio_eco"].q1, scales["socio_eco"].q3) == (2.0, 5.0)
    assert scales[ALL].distribution == (0, 19, 0, 12, 7)  # the two State officers left out


def test_themes_and_anonymised_quotes(synthesis: Synthesis) -> None:
    intention = synthesis.texts["m1_intention"]
    assert intention.respondents == 7
    words = {theme.word: theme.count for theme in intention.themes}
    assert words["confiance"] == 4  # "confiance" in four French answers, stemmed
    assert words["contraintes"] == 2
    assert words["trust"] == 2  # and in English, by its own stemmer
    assert "la" not in words and "the" not in words  # stop words
    assert 1 <= len(intention.quotes) <= 3
    assert all("@" not in quote for quote in intention.quotes)
    assert any("confiance" in quote for quote in intention.quotes)


def test_phase_two_pairs(synthesis: Synthesis) -> None:
    relation = synthesis.pairs["rel"][("elu", "agent")]
    assert relation == {"partnership": 8, "service": 4}
    assert synthesis.pairs["obs"][("elu", "agent")] == {"procurement": 12, "knowledge": 12}
    # One author per request pair: under the threshold, not shown.
    assert synthesis.requests == {}


def test_agora_consensus_divisive_uncertain_and_resolutions(synthesis: Synthesis) -> None:
    by_number = {r.statement.number: r for r in synthesis.statements}
    assert by_number[1].consensus and not by_number[1].divisive
    assert by_number[1].overall.agree == 37  # 39, less the two State officers
    assert by_number[2].divisive and not by_number[2].consensus
    assert by_number[2].by_group["elu"].disagrees and by_number[2].by_group["agent"].agrees
    assert by_number[3].uncertain and not by_number[3].consensus
    assert 4 not in by_number  # nobody voted on it: under the threshold
    assert [r.statement.number for r in synthesis.resolutions] == [1]


def test_pol_is_rules_on_small_numbers() -> None:
    assert proportion_z(3, 3) > 1.2816  # three agrees out of three
    assert proportion_z(2, 3) < 1.2816  # two out of three is not enough
    assert summarise_scale([1]).median == 1


def test_anonymise_removes_contacts() -> None:
    text = anonymise(
        "Écrivez à jo@example.fr ou au 06 12 34 56 78, voir @jo_asso et https://x.fr/a"
    )
    assert "@example" not in text and "06 12" not in text and "@jo_asso" not in text
    assert "https" not in text


def test_quotes_are_the_most_typical_answers() -> None:
    summary = summarise_texts(
        [
            ("La confiance et le temps", "fr"),
            ("Le temps de la confiance", "fr"),
            ("Des vélos", "fr"),
            ("La confiance", "fr"),
        ],
        quotes=2,
    )
    assert "Des vélos" not in summary.quotes and len(summary.quotes) == 2


def test_the_worked_example_of_the_documentation() -> None:
    """docs/SYNTHESIS.md works this example by hand."""
    scale = summarise_scale([4, 4, 5, 3, 2, 2, 3, 3, 4, 4])  # the State officers left out
    assert (scale.median, scale.q1, scale.q3) == (3.5, 3, 4)
    assert scale.distribution == (0, 2, 3, 4, 1)
    assert summarise_scale([4, 4, 5, 3]).q1 == 3.75
    officials, officers = Tally(3, 0, 1), Tally(3, 0, 0)
    assert round(officials.p_agree, 2) == 0.67 and round(officials.z_agree, 2) == 1.34
    assert officers.p_agree == 0.8 and officers.z_agree == 2.0
    assert officials.agrees and officers.agrees
    actors = Tally(3, 0, 0)
    assert round(officials.p_agree * officers.p_agree * actors.p_agree, 2) == 0.43
    assert Tally(0, 4, 0).disagrees and round(Tally(0, 4, 0).z_disagree, 2) == 2.24


def test_a_statement_voted_by_one_group_only_is_no_consensus(journey: Journey) -> None:
    rows = forty()
    officials = [p for p in rows.participants if p.category == "elu"]
    votes = [Vote(1, p.id, "agree", T0) for p in officials[1:]]  # 11 officials, nobody else
    result = synthesise(journey, rows.participants, [], rows.statements[:1], votes, min_group=3)
    [only] = result.statements
    assert only.by_group["elu"].agrees and not only.consensus and result.resolutions == []


def test_names_and_contacts_leave_quotes_and_themes(journey: Journey) -> None:
    texts = [(f"Appelez Marie Dupont au 06/12/34/56/78 ({n})", "fr") for n in range(3)]
    summary = summarise_texts(texts)
    assert all("Marie" not in q and "06/12" not in q for q in summary.quotes)
    assert not {"marie", "dupont"} & {theme.word for theme in summary.themes}
    assert anonymise("Voir t.me/jdupont ou Mme Durand") == "Voir [lien] ou [nom]"
