"""The synthesis charts: PNG pictures a phone shows whole, with the journey's own words.

The data set is test_synthesis's: 42 people joined, 40 took part, in four categories
(12 elected officials, 12 officers, 14 socio-economic actors, 2 State officers)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from dataclasses import replace

import pytest

from flows.journey import Journey
from flows.journey_file import default_journey
from flows.synthesis import STAGES, StatementResult, Synthesis, Tally, synthesise
from reports.charts import (
    ChartLabels,
    agora_chart,
    agora_order,
    chart_labels,
    funnel_chart,
    profile_chart,
    relation_chart,
    relation_counts,
    shorten,
)
from tests.synthesis_data import forty

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def journey() -> Journey:
    return default_journey()


@pytest.fixture(scope="module")
def synthesis(journey: Journey) -> Synthesis:
    """The shared data set: one scale, the relation of two pairs (one of them under the
    threshold), and three statements voted on (consensus, divisive, uncertain)."""
    rows = forty()
    return synthesise(
        journey, rows.participants, rows.answers, rows.statements, rows.votes, min_group=3
    )


@pytest.fixture(scope="module")
def empty(journey: Journey) -> Synthesis:
    return synthesise(journey, [], [], [], [], min_group=3)


@pytest.fixture(scope="module")
def french(journey: Journey) -> ChartLabels:
    return chart_labels(journey, "fr")


def size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG's header."""
    assert png.startswith(PNG)
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def readable_on_a_phone(png: bytes) -> None:
    width, height = size(png)
    assert 900 <= width <= 1400
    assert 600 <= height <= 2400


def test_labels_come_from_the_journey_in_the_language(journey: Journey) -> None:
    fr, en = chart_labels(journey, "fr"), chart_labels(journey, "en")
    assert fr.categories["elu"] == "Les élus" and en.categories["elu"] == "Elected officials"
    assert fr.group("socio_eco") == "Les acteurs socio-économiques (ESS)"  # as groups
    assert fr.group("all") == fr.everyone and fr.group("others") == fr.others
    assert set(fr.stages) == set(STAGES) and set(fr.votes) == {"agree", "disagree", "pass"}
    # The relation gradient, by the head of each option's label, in the journey's order.
    gradient = next(p for p in journey.peers.about if p.gradient) if journey.peers else None
    assert gradient is not None
    assert list(fr.relations) == [option.id for option in gradient.options]
    assert fr.relations["distant"] == "Distante" and en.relations["partnership"] == "Partnership"


def test_every_chart_is_a_png_a_phone_shows_whole(
    journey: Journey, synthesis: Synthesis, french: ChartLabels
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (é, —, ·, …) would warn
        charts = [
            profile_chart(journey, synthesis, french),
            funnel_chart(synthesis, french),
            relation_chart(journey, synthesis, french),
            agora_chart(synthesis, french),
        ]
    for png in charts:
        assert png is not None
        readable_on_a_phone(png)


def test_english_charts_too(journey: Journey, synthesis: Synthesis) -> None:
    english = chart_labels(journey, "en")
    readable_on_a_phone(profile_chart(journey, synthesis, english))
    relation = relation_chart(journey, synthesis, english)
    assert relation is not None
    readable_on_a_phone(relation)


def test_relations_are_counted_not_averaged(journey: Journey, synthesis: Synthesis) -> None:
    # Eight "partnership" and four "service" from the elected officials about the
    # officers: counted at their places on the gradient. The two State officers' answers
    # are under the threshold: no bar.
    assert journey.peers is not None
    gradient = next(p for p in journey.peers.about if p.gradient)
    expected = [{"partnership": 8, "service": 4}.get(option.id, 0) for option in gradient.options]
    assert relation_counts(journey, synthesis) == {("elu", "agent"): expected}


def test_agora_lists_the_consensus_statements_first(
    synthesis: Synthesis, french: ChartLabels
) -> None:
    assert [r.statement.number for r in agora_order(synthesis)] == [1, 2, 3]
    assert shorten("Ouvrir nos réunions techniques aux associations", 40) == (
        "Ouvrir nos réunions techniques aux asso…"
    )
    assert len(shorten("x" * 100, 40)) == 40
    one = agora_chart(synthesis, french, limit=1)
    assert one is not None
    readable_on_a_phone(one)


def test_user_text_with_dollars_is_not_read_as_mathematics(
    synthesis: Synthesis, french: ChartLabels
) -> None:
    first = synthesis.statements[0]
    tricky = replace(first, statement=replace(first.statement, text="De 10 $ à $x^2$ par an"))
    png = agora_chart(replace(synthesis, statements=[tricky]), french)
    assert png is not None
    readable_on_a_phone(png)


def test_nothing_to_show(journey: Journey, empty: Synthesis, french: ChartLabels) -> None:
    assert relation_chart(journey, empty, french) is None
    assert agora_chart(empty, french) is None
    # The profile and the funnel still draw their frame: every row shows a dash or a zero.
    readable_on_a_phone(profile_chart(journey, empty, french))
    readable_on_a_phone(funnel_chart(empty, french))


def test_no_pyplot_so_nothing_global() -> None:
    script = "import sys, reports.charts; sys.exit('matplotlib.pyplot' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 0


def test_agora_lists_the_statements_that_matter_first(synthesis: Synthesis) -> None:
    """Consensus first, then the divisive statements, the most evenly split first, then
    the others by number: not the first statements by number."""
    base = synthesis.statements[0]

    def result(number: int, agree: int, disagree: int, *, divisive: bool) -> StatementResult:
        statement = replace(base.statement, id=number, number=number)
        return replace(
            base,
            statement=statement,
            overall=Tally(agree, disagree, 0),
            consensus=False,
            divisive=divisive,
            group_consensus=0.0,
        )

    quiet = [result(n, 3, 1, divisive=False) for n in (1, 2, 3)]
    split_evenly = result(9, 5, 5, divisive=True)
    split_less = result(7, 7, 3, divisive=True)
    agreed = replace(result(8, 10, 0, divisive=False), consensus=True, group_consensus=0.9)
    mixed = replace(synthesis, statements=[*quiet, split_less, agreed, split_evenly])
    assert [r.statement.number for r in agora_order(mixed)] == [8, 9, 7, 1, 2, 3]
