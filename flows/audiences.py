"""Who hears what when the workshop moves: the rules the bot follows to announce a phase,
offer a statement or push a synthesis. Pure functions of the use cases' results, so
that each rule is decided (and tested) here, never in a handler."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.engine import DONE, ONBOARDING, JourneyEngine
from flows.facilitation import Moderated, PhaseChange
from flows.kinds import AgoraState, StatementKind, StatementStatus
from flows.service import Outcome, Response
from storage.models import Participant, Workshop


@dataclass(frozen=True)
class Announcement:
    """Participants split by what they are sent: the next prompt (or statement), or a notice."""

    prompted: list[Participant] = field(default_factory=list)
    notified: list[Participant] = field(default_factory=list)


def peers_opened(engine: JourneyEngine, change: PhaseChange) -> Announcement:
    """Phase 2 opens: whoever is in it without having been shown a question (released from
    the wait, or a message that could not be delivered before) gets their question; those
    still in phase 1 are told, once, when it really opened now."""
    prompted: list[Participant] = []
    notified: list[Participant] = []
    for participant in change.audience:
        phase = engine.step(participant.state, participant.category).phase
        if phase == 2 and participant.prompt_message_id is None:
            prompted.append(participant)
        elif phase == 1 and change.changed:
            notified.append(participant)
    return Announcement(prompted, notified)


def in_the_workshop(participant: Participant) -> bool:
    """Past the onboarding: someone who agreed to take part and started answering."""
    return participant.state not in ONBOARDING


def may_be_offered(participant: Participant) -> bool:
    """Finished the questions and has no statement in front of them now."""
    return participant.state == DONE and participant.offer_statement_id is None


def agora_opened(change: PhaseChange) -> Announcement:
    """The agora opens: those who have finished get its introduction and a first statement
    (not those already offered one); those still answering learn it waits for them."""
    if not change.changed:
        return Announcement()
    prompted = [p for p in change.audience if may_be_offered(p)]
    notified = [p for p in change.audience if p.state != DONE and in_the_workshop(p)]
    return Announcement(prompted, notified)


def forgotten(change: PhaseChange) -> list[Participant]:
    """The agora was open already: whoever finished but holds no agora message (one that
    could not be delivered) gets it now, nobody is told twice."""
    return [p for p in change.audience if p.state == DONE and p.offer_message_id is None]


def waiting_for_a_statement(people: list[Participant]) -> list[Participant]:
    """In the agora with nothing in front of them: their one message says they have seen
    everything (or they have none yet): a new statement goes to them."""
    return [p for p in people if may_be_offered(p)]


def awaits_the_caucus(participant: Participant) -> bool:
    """A member who has finished and has none of their group's statements in front of them
    (caught up, or never shown the caucus)."""
    return (
        participant.state == DONE
        and participant.category is not None
        and participant.caucus_statement_id is None
    )


def caucus_waiting(members: list[Participant]) -> list[Participant]:
    """Whom a statement newly approved in the caucus may go to."""
    return [p for p in members if awaits_the_caucus(p)]


def caucus_closed(change: PhaseChange) -> list[Participant]:
    """The agora opens: the groups have chosen; every caucus message loses its buttons."""
    if not change.changed:
        return []
    return [p for p in change.audience if p.caucus_message_id is not None]


@dataclass(frozen=True)
class Closing:
    """The agora closes: offers to take back, and who is told."""

    offers: list[Participant] = field(default_factory=list)  # their statement loses its buttons
    notified: list[Participant] = field(default_factory=list)


def agora_closed(change: PhaseChange) -> Closing:
    if not change.changed:
        return Closing()
    return Closing(
        offers=[
            p
            for p in change.audience
            if p.offer_message_id is not None and p.offer_statement_id is not None
        ],
        notified=[p for p in change.audience if in_the_workshop(p)],
    )


def author_to_tell(moderated: Moderated) -> Participant | None:
    """The author of a proposal learns whether it was kept for the agora (once)."""
    statement = moderated.statement
    if (
        moderated.changed
        and statement.kind == StatementKind.PROPOSAL
        and statement.status in (StatementStatus.APPROVED, StatementStatus.REJECTED)
    ):
        return moderated.author
    return None


def agora_state(workshop: Workshop | None) -> AgoraState:
    """Whether the agora is still to come, open, or over."""
    if workshop is not None and workshop.agora_closed_at is not None:
        return AgoraState.CLOSED
    if workshop is not None and workshop.agora_open:
        return AgoraState.OPEN
    return AgoraState.LATER


def has_just_finished(response: Response) -> bool:
    """The input brought the participant to the end (or is a redelivery of the one that
    did, in case its first handling stopped short): they may join an open agora."""
    step, move = response.step, response.move
    if step is None or step.kind != "done":
        return False
    if response.outcome is Outcome.DUPLICATE:
        return True
    return response.outcome is Outcome.MOVED and move is not None and not move.stays


def crossed_a_phase(response: Response) -> bool:
    """The input carried the participant out of a phase: the last one through it brings its
    synthesis to the facilitators."""
    step, answered = response.step, response.answered
    if response.outcome is not Outcome.MOVED or step is None or answered is None:
        return False
    return step.kind in ("done", "peers_wait") or step.phase > answered.phase
