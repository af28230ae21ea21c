"""Resolutions and the room, without Telegram: due dates as typed, default carriers, the
order the room takes the statements in, and its live tally by group."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.views.resolutions import due_example
from flows.journey import Journey
from flows.resolutions import Awaited, DueDateError, Field, default_carrier, parse_due
from flows.room import category_order, neighbour, parse_order, sequence, tally
from storage.models import Statement, Workshop

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def statement(
    number: int, kind: str, source: str, target: str | None = None, status: str = "approved"
) -> Statement:
    return Statement(
        id=100 + number,
        workshop_id=1,
        number=number,
        participant_id=number,
        kind=kind,
        source_category=source,
        target_category=target,
        question_id=None,
        text=f"{kind} {number}",
        status=status,
        created_at=NOW,
        in_agora_at=NOW,
    )


WORKSHOP = Workshop(
    id=1,
    code="c",
    facilitator_code="f",
    title="t",
    journey_id="cooperation",
    created_by=1,
    created_at=NOW,
    closed_at=None,
)


@pytest.mark.parametrize(
    ("typed", "language", "expected"),
    [
        ("2026-12-31", "fr", date(2026, 12, 31)),
        ("2026-12-31", "en", date(2026, 12, 31)),
        ("31/12/2026", "fr", date(2026, 12, 31)),
        ("12/31/2026", "en", date(2026, 12, 31)),
        ("01/02/2027", "fr", date(2027, 2, 1)),  # the first of February, in French
        ("01/02/2027", "en", date(2027, 1, 2)),  # the second of January, in English
        ("  27/11/2026 ", "fr", TODAY),  # today is not past
    ],
)
def test_a_due_date_is_read_in_the_users_language_or_in_iso(
    typed: str, language: str, expected: date
) -> None:
    assert parse_due(typed, language, TODAY) == expected


@pytest.mark.parametrize("typed", ["demain", "31 décembre", "32/13/2026", "", "2026-02-30"])
def test_an_unreadable_due_date_is_refused(typed: str) -> None:
    with pytest.raises(DueDateError) as refused:
        parse_due(typed, "fr", TODAY)
    assert not refused.value.past


@pytest.mark.parametrize(("typed", "language"), [("26/11/2026", "fr"), ("2020-01-01", "en")])
def test_a_due_date_in_the_past_is_refused(typed: str, language: str) -> None:
    with pytest.raises(DueDateError) as refused:
        parse_due(typed, language, TODAY)
    assert refused.value.past


def test_the_expected_form_is_the_languages_own_with_the_year_in_full() -> None:
    assert due_example("fr", TODAY) == "31/12/2026"
    assert due_example("en", TODAY) == "12/31/2026"
    # What is shown as an example is read back as that date.
    for language in ("fr", "en"):
        assert parse_due(due_example(language, TODAY), language, TODAY) == date(2026, 12, 31)


def test_the_default_carrier_is_the_category_asked_or_the_one_committing() -> None:
    assert default_carrier(statement(1, "request", "elu", "agent")) == "agent"
    assert default_carrier(statement(2, "commitment", "elu")) == "elu"
    assert default_carrier(statement(3, "proposal", "etat")) == "etat"


def test_what_a_typed_message_answers_round_trips_through_the_database_text() -> None:
    awaited = Awaited(12, Field.DUE, 345)
    assert Awaited.decode(awaited.encode()) == awaited
    assert Awaited.decode(Awaited(3, Field.TEXT, None).encode()) == Awaited(3, Field.TEXT, None)
    for foreign in (None, "", "merge:3", "resolution:x:text:0", "resolution:1:colour:0"):
        assert Awaited.decode(foreign) is None


def test_the_room_takes_each_group_in_turn_requests_then_commitments_proposals_last(
    journey: Journey,
) -> None:
    found = [
        statement(1, "commitment", "agent"),
        statement(2, "request", "agent", "etat"),
        statement(3, "request", "agent", "elu"),
        statement(4, "proposal", "elu"),
        statement(5, "commitment", "elu"),
        statement(6, "request", "elu", "agent"),
    ]
    order = category_order(journey, WORKSHOP)
    assert order == ["elu", "agent", "socio_eco", "etat"]
    assert [s.number for s in sequence(found, order)] == [6, 5, 3, 2, 1, 4]
    # The facilitator's order: the groups named first, then the others as the journey has
    # them; requests follow it too (to the State services first, then to the officials).
    reordered = category_order(journey, replace(WORKSHOP, room_order=("etat", "agent")))
    assert reordered == ["etat", "agent", "elu", "socio_eco"]
    assert [s.number for s in sequence(found, reordered)] == [2, 3, 1, 6, 5, 4]


def test_next_and_previous_walk_the_sequence_even_from_a_withdrawn_statement(
    journey: Journey,
) -> None:
    order = category_order(journey, WORKSHOP)
    first, second, third = (
        statement(1, "request", "elu", "agent"),
        statement(2, "commitment", "elu"),
        statement(3, "commitment", "agent"),
    )
    found = [third, first, second]
    assert neighbour(found, order, None, forward=True) == first
    assert neighbour(found, order, None, forward=False) is None
    assert neighbour(found, order, first, forward=True) == second
    assert neighbour(found, order, first, forward=False) is None
    assert neighbour(found, order, third, forward=True) is None
    # Withdrawn while the room was on it: it is out of the agora, it still marks the place.
    withdrawn = replace(second, status="withdrawn")
    assert neighbour([first, third], order, withdrawn, forward=True) == third
    assert neighbour([first, third], order, withdrawn, forward=False) == first


def test_parse_order_reads_ids_labels_and_group_names_in_any_case(journey: Journey) -> None:
    assert parse_order(journey, "etat, Agent ou agente de collectivité,LES ÉLUS") == (
        ["etat", "agent", "elu"],
        [],
    )
    assert parse_order(journey, "elu, mayors, elu") == (["elu"], ["mayors", "elu"])
    assert parse_order(journey, " , ") == ([], [])


def test_the_tally_shows_only_the_groups_large_enough_and_counts_only_them() -> None:
    cast = [("elu", "agree")] * 2 + [("elu", "disagree")]
    cast += [("agent", "agree"), ("agent", "pass")]  # two voters: under the threshold
    cast += [("etat", "disagree")] * 3 + [(None, "agree")]
    counted = tally(cast, ["elu", "agent", "socio_eco", "etat"], 3)
    assert counted.shown == (
        ("elu", Counter({"agree": 2, "disagree": 1})),
        ("etat", Counter({"disagree": 3})),
    )
    # The total is the groups' shown: with the others', it would give their count away.
    assert counted.hidden and counted.total == 6
    assert not tally(cast[:3], ["elu"], 3).hidden
