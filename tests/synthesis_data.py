"""The synthesis tests' fixed data set: 42 people joined, 40 took part, in four
categories (12 elected officials, 12 officers, 14 socio-economic actors, 2 State
officers). Shared by the tests of the synthesis, of its report and of its charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flows.journey_file import default_journey
from storage.models import Answer, Participant, Statement, Vote

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SIZES = {"elu": 12, "agent": 12, "socio_eco": 14, "etat": 2}
# m1_present, the first scale: each category answers one value, except the socio-economic
# actors (seven 2s and seven 5s).
SCALE = {"elu": [4] * 12, "agent": [2] * 12, "socio_eco": [2] * 7 + [5] * 7, "etat": [1, 1]}
INTENTIONS_FR = [
    "Construire la confiance entre élus et associations",
    "Retrouver la confiance, et mieux connaître les contraintes des autres",
    "La confiance se construit avec le temps",
    "Comprendre les contraintes des services",
    "Écrivez-moi : camille.martin@example.org, la confiance avant tout",
]
INTENTIONS_EN = ["Build trust with local officials", "Trust takes time to build"]


def participant(
    pid: int, category: str, *, state: str = "done", consented: bool = True
) -> Participant:
    return Participant(
        id=pid,
        workshop_id=1,
        user_id=10_000 + pid,
        category=category if consented else None,
        language="en" if pid % 10 == 9 else "fr",
        state=state,
        joined_at=T0,
        consented_at=T0 if consented else None,
        finished_at=T0 if state == "done" else None,
        paused_at=None,
    )


def statement(
    sid: int,
    author: Participant,
    kind: str,
    text: str,
    target: str | None,
    *,
    status: str = "approved",
    in_agora: bool = True,
    merged_into: int | None = None,
) -> Statement:
    """A statement of `author`, put to the agora unless `in_agora` is False."""
    return Statement(
        id=sid,
        workshop_id=1,
        number=sid,
        participant_id=author.id,
        kind=kind,
        source_category=author.category or "",
        target_category=target,
        question_id=None,
        text=text,
        status=status,
        created_at=T0,
        in_agora_at=T0 if in_agora else None,
        merged_into=merged_into,
    )


@dataclass
class Rows:
    participants: list[Participant]
    answers: list[Answer]
    statements: list[Statement]
    votes: list[Vote]


def authors_agree(statements: list[Statement]) -> list[Vote]:
    """Each author's agreement with their statement, as storage stores it when the
    statement enters the agora: writing a statement counts as agreeing with it."""
    return [
        Vote(s.id, s.participant_id, "agree", T0)
        for s in statements
        if s.participant_id is not None and s.in_agora_at is not None
    ]


def forty() -> Rows:
    """The data set, with three statements voted on: one agreed by all, one that divides
    the elected officials from the others, one most people pass on; the fourth has its
    author's agreement only."""
    people: list[Participant] = []
    for category, size in SIZES.items():
        for _ in range(size):
            people.append(participant(len(people) + 1, category))
    # Two of the socio-economic actors are still in phase 1, one at the third moment.
    third_moment = default_journey().moment(3).prompts[0].id
    people[26] = participant(27, "socio_eco", state=third_moment)
    people[27] = participant(28, "socio_eco", state="peers_wait")
    joined_only = [
        participant(41, "", state="consent", consented=False),
        participant(42, "", state="consent", consented=False),
    ]
    everyone = people + joined_only
    answers: list[Answer] = []
    index = {c: 0 for c in SIZES}
    for p in people:
        category = p.category or ""
        value = SCALE[category][index[category]]
        index[category] += 1
        answers.append(Answer(p.id, "m1_present", str(value), T0, None))
    for number, p in enumerate(people[:5]):
        answers.append(Answer(p.id, "m1_intention", INTENTIONS_FR[number], T0, None))
    for number, p in enumerate(people[12:14]):
        answers.append(Answer(p.id, "m1_intention", INTENTIONS_EN[number], T0, None))
    # Phase 2: the elected officials about the officers: relation and obstacles.
    for p in people[:12]:
        answers.append(
            Answer(p.id, "rel_agent", "partnership" if p.id % 3 else "service", T0, None)
        )
        answers.append(Answer(p.id, "obs_agent", "procurement,knowledge", T0, None))
    # The two State officers: not enough to be shown as a pair.
    for p in people[38:40]:
        answers.append(Answer(p.id, "rel_elu", "distant", T0, None))
    elu, agent = people[0], people[12]
    statements = [
        statement(1, elu, "request", "Nous associer dès le début des projets", "agent"),
        statement(2, agent, "commitment", "Ouvrir nos réunions techniques aux associations", None),
        statement(3, elu, "request", "Des marchés réservés pour l'ESS", "etat"),
        statement(4, agent, "request", "Simplifier les dossiers de subvention", "elu"),
    ]
    votes = authors_agree(statements)
    for p in people:
        category = p.category or ""
        # 1: agreed by all (its author too, by writing it) → consensus.
        if p.id != elu.id:
            votes.append(Vote(1, p.id, "agree", T0 + timedelta(minutes=1)))
        # 2: the elected officials disagree, everybody else agrees → divisive.
        if p.id != agent.id:
            votes.append(Vote(2, p.id, "disagree" if category == "elu" else "agree", T0))
        # 3: most pass → uncertain.
        if p.id != elu.id:
            votes.append(Vote(3, p.id, "pass" if p.id % 4 else "agree", T0))
    return Rows(everyone, answers, statements, votes)
