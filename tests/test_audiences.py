"""Who hears what when the workshop moves: the rules of `flows.audiences`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from flows import audiences
from flows.engine import DONE, PEERS_WAIT, JourneyEngine, Move
from flows.facilitation import Moderated, PhaseChange
from flows.journey_file import default_journey
from flows.kinds import AgoraState, StatementKind, StatementStatus
from flows.service import Outcome, Response
from storage.models import Participant, Statement, Workshop

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
WORKSHOP = Workshop(1, "code", "fcode", "Atelier", "cooperation", 500, T0, None)


@pytest.fixture(scope="module")
def engine() -> JourneyEngine:
    return JourneyEngine(default_journey())


def person(number: int, state: str, **fields: object) -> Participant:
    base = Participant(number, 1, 1000 + number, "elu", "fr", state, T0, T0, None, None)
    return replace(base, **fields)  # type: ignore[arg-type]


def ids(people: list[Participant]) -> list[int]:
    return [p.id for p in people]


def test_phase_two_prompts_the_released_and_tells_phase_one(engine: JourneyEngine) -> None:
    released = person(1, "p2_role")  # no question shown yet in phase 2
    shown = person(2, "p2_role", prompt_message_id=77)
    answering = person(3, "m2_person", prompt_message_id=12)
    joining = person(4, "consent")
    change = PhaseChange(WORKSHOP, True, [released, shown, answering, joining])
    told = audiences.peers_opened(engine, change)
    assert ids(told.prompted) == [1]
    assert ids(told.notified) == [3]
    again = audiences.peers_opened(engine, replace(change, changed=False))
    assert ids(again.prompted) == [1] and again.notified == []


def test_the_agora_welcomes_the_finished_and_tells_those_still_answering() -> None:
    finished = person(1, DONE)
    offered = person(2, DONE, offer_statement_id=5, offer_message_id=9)
    waiting = person(3, PEERS_WAIT)
    joining = person(4, "category")
    caught_up = person(5, DONE, offer_message_id=10)  # their message says they saw all
    change = PhaseChange(WORKSHOP, True, [finished, offered, waiting, joining, caught_up])
    opened = audiences.agora_opened(change)
    assert ids(opened.prompted) == [1, 5]
    assert ids(opened.notified) == [3]
    assert audiences.agora_opened(replace(change, changed=False)) == audiences.Announcement()
    # Asked again, only whoever holds no agora message gets one: nobody gets a second.
    assert ids(audiences.forgotten(change)) == [1]
    # A new statement goes to those with nothing in front of them, on their message.
    assert ids(audiences.waiting_for_a_statement(change.audience)) == [1, 5]


def test_closing_the_agora_takes_back_offers_and_thanks_those_who_took_part() -> None:
    offered = person(1, DONE, offer_statement_id=5, offer_message_id=9)
    answering = person(2, "m1_present")
    joining = person(3, "consent")
    caught_up = person(4, DONE, offer_message_id=10)  # no buttons to take off
    audience = [offered, answering, joining, caught_up]
    closing = audiences.agora_closed(PhaseChange(WORKSHOP, True, audience))
    assert ids(closing.offers) == [1]
    assert ids(closing.notified) == [1, 2, 4]
    assert audiences.agora_closed(PhaseChange(WORKSHOP, False, [offered])) == audiences.Closing()


def test_the_caucus_goes_to_members_with_nothing_in_front_of_them() -> None:
    shown = person(1, DONE, caucus_statement_id=3, caucus_message_id=8)
    caught_up = person(2, DONE, caucus_message_id=9)
    never_shown = person(3, DONE)
    answering = person(4, "p2_role")
    without_category = person(5, DONE, category=None)
    members = [shown, caught_up, never_shown, answering, without_category]
    assert ids(audiences.caucus_waiting(members)) == [2, 3]
    # The agora opens: every caucus message loses its buttons, once.
    opened = PhaseChange(replace(WORKSHOP, agora_opened_at=T0), True, members)
    assert ids(audiences.caucus_closed(opened)) == [1, 2]
    assert audiences.caucus_closed(replace(opened, changed=False)) == []


def statement(kind: StatementKind, status: StatementStatus, author: int | None) -> Statement:
    return Statement(7, 1, 3, author, kind, "elu", None, None, "Texte", status, T0)


def test_the_author_of_a_proposal_learns_what_became_of_it_once() -> None:
    author = person(1, DONE)
    approved = statement(StatementKind.PROPOSAL, StatementStatus.APPROVED, author=1)
    moderated = Moderated(approved, WORKSHOP, True, author, [author])
    assert audiences.author_to_tell(moderated) == author
    assert audiences.author_to_tell(replace(moderated, changed=False)) is None
    request = replace(moderated, statement=replace(approved, kind=StatementKind.REQUEST))
    assert audiences.author_to_tell(request) is None


def test_the_agora_state_of_a_workshop() -> None:
    assert audiences.agora_state(WORKSHOP) is AgoraState.LATER
    opened = replace(WORKSHOP, agora_opened_at=T0)
    assert audiences.agora_state(opened) is AgoraState.OPEN
    assert audiences.agora_state(replace(opened, agora_closed_at=T0)) is AgoraState.CLOSED


def test_finishing_and_crossing_a_phase(engine: JourneyEngine) -> None:
    last_of_phase_one = engine.step(engine.states[engine.states.index(PEERS_WAIT) - 1])
    wait, done, first = engine.step(PEERS_WAIT), engine.step(DONE), engine.step("m1_present")
    to_wait = Move(last_of_phase_one.state, PEERS_WAIT)
    crossed = Response(Outcome.MOVED, person(1, PEERS_WAIT), wait, last_of_phase_one, to_wait)
    assert audiences.crossed_a_phase(crossed)
    assert not audiences.has_just_finished(crossed)
    to_done = Move("req_elu", DONE)
    finished = Response(
        Outcome.MOVED, person(1, DONE), done, engine.step("req_elu", "elu"), to_done
    )
    assert audiences.has_just_finished(finished) and audiences.crossed_a_phase(finished)
    assert audiences.has_just_finished(replace(finished, outcome=Outcome.DUPLICATE))
    within = Response(Outcome.MOVED, person(1, "m1_intention"), engine.step("m1_intention"), first)
    assert not audiences.crossed_a_phase(within)
    assert not audiences.has_just_finished(replace(finished, outcome=Outcome.REJECTED))
