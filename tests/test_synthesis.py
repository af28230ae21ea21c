"""The synthesis on a fixed data set: 42 people joined, 40 took part, in four categories
(12 elected officials, 12 officers, 14 socio-economic actors, 2 State officers); and the
agora's maths on twelve people, three per category, as docs/SYNTHESIS.md works them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from flows.caucus import choose
from flows.decantation import decantation_complete, synthesise_decantation
from flows.journey import Journey
from flows.journey_file import default_journey
from flows.synthesis import (
    ALL,
    OTHERS,
    StatementResult,
    Synthesis,
    Tally,
    proportion_z,
    summarise_scale,
    synthesise,
)
from flows.themes import anonymise, summarise_texts
from storage.models import Answer, Participant, Resolution, Vote
from tests.synthesis_data import T0, authors_agree, forty, participant, statement

CATEGORIES = ("elu", "agent", "socio_eco", "etat")


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
    assert synthesis.statements[0].overall.votes == 38


def test_scales_count_each_answer(synthesis: Synthesis) -> None:
    scales = synthesis.scales["m1_present"]
    assert scales["elu"].high == 12 and scales["agent"].high == 0
    assert scales["socio_eco"].distribution == (0, 7, 0, 0, 7)
    assert (scales["socio_eco"].high, scales["socio_eco"].mean) == (7, 3.5)
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
    assert by_number[1].overall.agree == 38  # 40 (its author too), less the State officers
    assert by_number[2].divisive and not by_number[2].consensus
    assert by_number[2].by_group["elu"].disagrees and by_number[2].by_group["agent"].agrees
    assert by_number[3].uncertain and not by_number[3].consensus
    assert 4 not in by_number  # its author's agreement alone: under the threshold
    assert [r.statement.number for r in synthesis.agreed] == [1]


def test_pol_is_rules_on_small_numbers() -> None:
    assert proportion_z(3, 3) > 1.2816  # three agrees out of three
    assert proportion_z(2, 3) < 1.2816  # two out of three is not enough
    assert summarise_scale([1]).distribution == (1, 0, 0, 0, 0)


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


def test_the_worked_example_of_the_documentation(journey: Journey) -> None:
    """docs/SYNTHESIS.md works this example by hand."""
    scale = summarise_scale([4, 4, 5, 3, 2, 2, 3, 3, 4, 4])  # the State officers left out
    assert scale.distribution == (0, 2, 3, 4, 1) and scale.high == 5
    assert summarise_scale([4, 4, 5, 3]).high == 3
    officials, officers = Tally(3, 0, 1), Tally(3, 0, 0)
    assert round(officials.p_agree, 2) == 0.67 and round(officials.z_agree, 2) == 1.34
    assert officers.p_agree == 0.8 and officers.z_agree == 2.0
    assert officials.agrees and officers.agrees
    actors = Tally(3, 0, 0)
    assert round(officials.p_agree * officers.p_agree * actors.p_agree, 2) == 0.43
    assert Tally(0, 4, 0).disagrees and round(Tally(0, 4, 0).z_disagree, 2) == 2.24
    # The same, from the votes: an actor's request, the author's agreement among them,
    # the two State officers counted nowhere.
    people = [
        participant(pid, category)
        for pid, category in enumerate(["elu"] * 4 + ["agent"] * 3 + ["socio_eco"] * 3, 1)
    ] + [participant(11, "etat"), participant(12, "etat")]
    request = statement(1, people[7], "request", "Involve us from the start", "elu")
    values = ["agree"] * 3 + ["pass"] + ["agree"] * 3 + ["agree"] * 2 + ["agree", "disagree"]
    voters = [p for p in people if p.id != request.participant_id]
    votes = authors_agree([request])
    votes += [Vote(1, p.id, v, T0) for p, v in zip(voters, values, strict=True)]
    [result] = synthesise(journey, people, [], [request], votes, min_group=3).statements
    assert result.by_group == {"elu": officials, "agent": officers, "socio_eco": actors}
    assert result.overall == Tally(9, 0, 1) and result.consensus
    assert round(result.group_consensus, 2) == 0.43
    # Three per category: two agrees and a pass are not enough to say a group agrees.
    hesitant = Tally(2, 0, 1)
    assert hesitant.p_agree == 0.6 and hesitant.z_agree == 1.0 and not hesitant.agrees


def test_a_statement_voted_by_one_group_only_is_no_consensus(journey: Journey) -> None:
    rows = forty()
    officials = [p for p in rows.participants if p.category == "elu"]
    votes = [Vote(1, p.id, "agree", T0) for p in officials[1:]]  # 11 officials, nobody else
    result = synthesise(journey, rows.participants, [], rows.statements[:1], votes, min_group=3)
    [only] = result.statements
    assert only.by_group["elu"].agrees and not only.consensus and result.agreed == []


def test_names_and_contacts_leave_quotes_and_themes(journey: Journey) -> None:
    texts = [(f"Appelez Marie Dupont au 06/12/34/56/78 ({n})", "fr") for n in range(3)]
    summary = summarise_texts(texts)
    assert all("Marie" not in q and "06/12" not in q for q in summary.quotes)
    assert not {"marie", "dupont"} & {theme.word for theme in summary.themes}
    assert anonymise("Voir t.me/jdupont ou Mme Durand") == "Voir [lien] ou [nom]"


# -- the author counts: twelve people, three per category --------------------------------


def twelve() -> list[Participant]:
    """Three participants in each of the four categories: ids 1-3 elected officials, 4-6
    officers, 7-9 socio-economic actors, 10-12 State officers."""
    return [
        participant(3 * index + number, category)
        for index, category in enumerate(CATEGORIES)
        for number in (1, 2, 3)
    ]


def put_to_the_agora(
    journey: Journey, people: list[Participant], votes: dict[str, list[str]]
) -> StatementResult | None:
    """A request of the first elected official (its author, who agrees by writing it) to
    the officers, and the others' votes, per category, in the order of its members (the
    author's category lists its two other members); its result, if it has figures."""
    request = statement(1, people[0], "request", "Nous associer dès le début", "agent")
    cast = authors_agree([request])
    for category, values in votes.items():
        voters = [p for p in people if p.category == category and p.id != request.participant_id]
        cast += [Vote(1, p.id, value, T0) for p, value in zip(voters, values, strict=False)]
    result = synthesise(journey, people, [], [request], cast, min_group=3)
    return result.statements[0] if result.statements else None


def test_three_per_category_everyone_agreeing_is_a_consensus(journey: Journey) -> None:
    agree = ["agree"] * 3
    result = put_to_the_agora(
        journey, twelve(), {"elu": agree, "agent": agree, "socio_eco": agree, "etat": agree}
    )
    assert result is not None
    assert result.consensus and not result.divisive and not result.uncertain
    # The elected officials are three with the author's agreement: counted like the others.
    assert result.by_group == dict.fromkeys(CATEGORIES, Tally(3, 0, 0))
    assert result.overall == Tally(12, 0, 0)
    assert round(result.group_consensus, 4) == 0.4096  # 0.8 ** 4


def test_two_categories_agreeing_and_two_disagreeing_is_divisive(journey: Journey) -> None:
    agree, disagree = ["agree"] * 3, ["disagree"] * 3
    result = put_to_the_agora(
        journey, twelve(), {"elu": agree, "agent": agree, "socio_eco": disagree, "etat": disagree}
    )
    assert result is not None
    assert result.divisive and not result.consensus
    assert result.by_group["socio_eco"].disagrees and result.by_group["etat"].disagrees
    assert result.by_group["elu"].agrees and result.by_group["agent"].agrees
    assert result.overall == Tally(6, 6, 0)
    assert round(result.group_consensus, 4) == 0.0256  # 0.8 · 0.8 · 0.2 · 0.2


def test_a_category_under_the_threshold_is_left_out_of_both_and_of_the_totals(
    journey: Journey,
) -> None:
    agree = ["agree"] * 3
    # Two State officers vote, both against: two voters, under the threshold of three.
    # Counted, they would make the statement divisive; left out, it is a consensus.
    result = put_to_the_agora(
        journey,
        twelve(),
        {"elu": agree, "agent": agree, "socio_eco": agree, "etat": ["disagree"] * 2},
    )
    assert result is not None
    assert "etat" not in result.by_group
    assert result.consensus and not result.divisive
    assert result.overall == Tally(9, 0, 0)  # their two votes are out of the total
    assert round(result.group_consensus, 3) == 0.512  # 0.8 ** 3: three factors, not four
    # With a second category under it, too, only one is left: no consensus.
    alone = put_to_the_agora(
        journey,
        twelve(),
        {"elu": agree, "agent": agree[:2], "socio_eco": ["disagree"] * 2, "etat": agree[:1]},
    )
    assert alone is not None
    assert list(alone.by_group) == ["elu"] and not alone.consensus and not alone.divisive
    assert alone.overall == Tally(3, 0, 0)


def test_without_the_authors_agreement_their_category_would_be_left_out(
    journey: Journey,
) -> None:
    """The issue's workshop: three per category, the author never offered their own."""
    people = twelve()
    request = statement(1, people[0], "request", "Nous associer dès le début", "agent")
    others = [Vote(1, p.id, "agree", T0) for p in people[1:]]
    without = synthesise(journey, people, [], [request], others, min_group=3)
    assert "elu" not in without.statements[0].by_group  # two voters only
    counted = synthesise(
        journey, people, [], [request], authors_agree([request]) + others, min_group=3
    )
    assert counted.statements[0].by_group["elu"] == Tally(3, 0, 0)


def test_a_statement_with_no_category_counted_shows_no_figures(journey: Journey) -> None:
    two = ["agree"] * 2
    assert put_to_the_agora(journey, twelve(), {"agent": two, "socio_eco": two}) is None


def test_only_statements_put_to_the_agora_have_results(journey: Journey) -> None:
    people = twelve()
    author = people[3]
    statements = [
        statement(1, author, "commitment", "Gardé par le caucus", None),
        statement(2, author, "commitment", "Pas gardé", None, in_agora=False),
        statement(3, author, "commitment", "Retiré", None, status="withdrawn"),
        statement(4, author, "commitment", "En attente", None, status="pending", in_agora=False),
        statement(5, author, "commitment", "Fusionné", None, status="merged", in_agora=False),
    ]
    votes = [Vote(s.id, p.id, "agree", T0) for s in statements for p in people]
    result = synthesise(journey, people, [], statements, votes, min_group=3)
    assert [r.statement.number for r in result.statements] == [1, 3]


def test_phase_two_keeps_what_the_caucus_did_not_and_what_was_merged(journey: Journey) -> None:
    people = twelve()
    actors = [p for p in people if p.category == "socio_eco"]
    statements = [
        statement(1, actors[0], "request", "Simplifier les dossiers", "elu"),
        # Approved, but the caucus did not keep it for the agora.
        statement(2, actors[1], "request", "Des dossiers plus simples", "elu", in_agora=False),
        statement(
            3, actors[2], "request", "Payer plus vite", "elu", status="merged", in_agora=False
        ),
        statement(4, actors[0], "request", "Refusé", "elu", status="rejected", in_agora=False),
    ]
    result = synthesise(journey, people, [], statements, [], min_group=3)
    assert result.requests[("socio_eco", "elu")].respondents == 3


def test_the_resolutions_recorded_come_with_their_statements_number(journey: Journey) -> None:
    people = twelve()
    made = statement(7, people[0], "request", "Nous associer dès le début", "agent")
    resolutions = [
        Resolution(2, 1, 2, None, "Sans énoncé", None, "Camille", None, 500, T0, T0),
        Resolution(
            1, 1, 1, made.id, "Un comité commun", "agent", None, date(2027, 3, 1), 500, T0, T0
        ),
    ]
    result = synthesise(journey, people, [], [made], [], resolutions=resolutions, min_group=3)
    assert [(r.resolution.number, r.statement_number) for r in result.resolutions] == [
        (1, 7),
        (2, None),
    ]


def test_the_caucus_counts_the_same_way() -> None:
    """docs/SYNTHESIS.md's caucus: three actors, three requests to the elected officials,
    each author's agreement recorded as their caucus vote."""
    actors = [participant(pid, "socio_eco") for pid in (7, 8, 9)]
    texts = ["Simplify the grant files", "Pay the grants sooner", "One single desk"]
    requests = [
        statement(n, author, "request", text, "elu", in_agora=False)
        for n, (author, text) in enumerate(zip(actors, texts, strict=True), 1)
    ]
    first, second, third = (p.id for p in actors)
    votes = [Vote(1, first, "agree", T0), Vote(2, second, "agree", T0), Vote(3, third, "agree", T0)]
    votes += [
        Vote(1, second, "agree", T0),
        Vote(1, third, "pass", T0),
        Vote(2, first, "agree", T0),
        Vote(2, third, "agree", T0),
        Vote(3, first, "disagree", T0),
        Vote(3, second, "disagree", T0),
    ]
    assert choose(requests, votes, actors, keep=2, commitments=3) == [1, 2]
    assert choose(requests, votes, actors, keep=1, commitments=3) == [2]  # three agrees


# -- the décantation ---------------------------------------------------------------------


def test_the_decantation_synthesis_counts_who_answered_and_hides_small_groups() -> None:
    journey = default_journey()
    sent = [replace(participant(i, "elu"), decantation_sent_at=T0) for i in range(1, 4)]
    sent += [replace(participant(4, "agent"), decantation_sent_at=T0)]
    settled = [replace(p, settled_at=T0) for p in sent[:3]]
    silent = [sent[3], participant(5, "etat")]  # one sent it, one not yet
    everyone = settled + silent

    def given(pid: int, question: str, value: str) -> Answer:
        return Answer(pid, question, value, T0, None)

    answers = [given(p.id, "m9_stays", str(p.id + 1)) for p in settled]
    answers += [given(1, "m9_commitments", "Tenu, avec la mairie")]
    answers += [given(1, "m1_present", "5")]  # phase 1: not the décantation's
    settling = synthesise_decantation(journey, everyone, answers, min_group=3)
    assert (settling.sent, settling.settled) == (4, 3)
    assert settling.synthesis.funnel.counts["sent"] == {ALL: 4, "elu": 3}
    assert settling.synthesis.categories.left_out == ("agent",)
    scale = settling.synthesis.scales["m9_stays"]
    assert scale["elu"].distribution == (0, 1, 1, 1, 0) and OTHERS not in scale
    assert "m1_present" not in settling.synthesis.scales
    assert "m9_commitments" not in settling.synthesis.texts  # one answer, under three
    # Due once everyone who finished (and is not pausing) answered it, three at least.
    assert not decantation_complete(everyone, min_group=3)
    assert decantation_complete(settled, min_group=3)
    assert not decantation_complete(settled[:2], min_group=3)
    paused = replace(sent[3], paused_at=T0)
    assert decantation_complete([*settled, paused], min_group=3)


def test_others_that_would_be_everyone_is_said_once_as_all(journey: Journey) -> None:
    """One person in each of three categories: folded together they are everyone, so the
    figure is given once, for all, not twice as "others" and "all"; one group is named
    once too."""
    people = [participant(1, "elu"), participant(2, "agent"), participant(3, "socio_eco")]
    answers = [Answer(p.id, "m1_present", str(p.id + 2), T0, None) for p in people]
    synthesis = synthesise(journey, people, answers, [], [], min_group=3)
    assert set(synthesis.scales["m1_present"]) == {ALL}
    assert synthesis.scales["m1_present"][ALL].count == 3
    # Three elected officials, the two others left out: the elected officials are all
    # that is counted, named as such.
    people += [participant(pid, "elu") for pid in (4, 5)]
    answers += [Answer(pid, "m1_present", "4", T0, None) for pid in (4, 5)]
    synthesis = synthesise(journey, people, answers, [], [], min_group=3)
    assert set(synthesis.scales["m1_present"]) == {"elu"}
    # Two groups shown: each, and all of them.
    people += [participant(pid, "agent") for pid in (6, 7)]
    answers += [Answer(pid, "m1_present", "2", T0, None) for pid in (6, 7)]
    synthesis = synthesise(journey, people, answers, [], [], min_group=3)
    assert set(synthesis.scales["m1_present"]) == {"elu", "agent", ALL}


def test_the_quotes_and_themes_do_not_depend_on_the_order_answers_came_in() -> None:
    """People answering at once are stored in any order (several workers, a server): the
    same answers must give the same quotes and theme words. Here every answer ties with
    another on typicality and length, and two forms of one stem are as frequent."""
    texts = [
        ("Coopérer avec la mairie, n°105.", "fr"),
        ("Coopérer avec la mairie, n°253.", "fr"),
        ("Coopérer avec la mairie, n°549.", "fr"),
        ("Coopérer avec la mairie, n°697.", "fr"),
        ("Coopération et mairie ensemble.", "fr"),
        ("Coopérons et mairie ensemble !", "fr"),
    ]
    first = summarise_texts(texts)
    for shift in range(1, len(texts)):
        turned = texts[shift:] + texts[:shift]
        assert summarise_texts(turned) == first
        assert summarise_texts(turned[::-1]) == first
    assert len(first.quotes) == 3
