"""The workshop as CSV tables, without anyone's identity.

- answers.csv: one row per stored answer (phase 1 and phase 2, each request and
  commitment included, the décantation's and the follow-ups' answers with their own
  phase), per agora proposal, per caucus vote and per agora vote;
- statements.csv: one row per statement not rejected, with its status, whether it was
  put to the agora (the caucus did not keep every statement) and what it was merged into;
- resolutions.csv: one row per resolution the room recorded.

`workshop` is its title (not its join code, which would let whoever reads the file join
it); `participant` is a pseudonym, stable for a participant within the workshop and
unrelated to any Telegram id or name.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence

from flows.engine import OTHER_SUFFIX
from flows.journey import GROUP, OWN, Journey, Prompt
from flows.kinds import Phase, StatementKind, StatementStatus
from storage.models import Answer, Participant, Resolution, Statement, Vote, Workshop

COLUMNS = (
    "workshop",
    "participant",
    "category",
    "phase",
    "step",
    "question",
    "answer",
    "answered_at",
)
STATEMENT_COLUMNS = (
    "workshop",
    "number",
    "participant",
    "category",
    "kind",
    "target",
    "text",
    "status",
    "in_agora",
    "merged_into",
    "created_at",
)
RESOLUTION_COLUMNS = (
    "workshop",
    "number",
    "text",
    "carrier",
    "carrier_category",
    "due_on",
    "statement",
    "created_at",
)
CAUCUS = "caucus"  # the phase of a vote in a category's caucus
DECANTATION = "decantation"  # the phase of an answer to the ninth moment
FOLLOWUP = "followup"  # the phase of an answer to a follow-up
FOLLOWUP_PREFIX = "followup_"  # flows.followup.QUESTION_PREFIX


def pseudonym(workshop: Workshop, participant_id: int) -> str:
    """The same short code for a participant in every export of the workshop."""
    # Keyed with the facilitator code, which participants never see: knowing the join
    # code is not enough to tell who is who from the order participants joined in.
    digest = hashlib.blake2b(
        str(participant_id).encode(), digest_size=4, key=workshop.facilitator_code.encode()
    )
    return "p-" + digest.hexdigest()


def question_text(journey: Journey, prompt: Prompt, language: str, category: str | None) -> str:
    """A prompt's text as asked, placeholders filled with the categories' group names."""
    text = prompt.text.get(language) or prompt.text["fr"]
    if prompt.phase == 1:
        return text

    def group(category_id: str | None) -> str:
        found = journey.category(category_id or "")
        return (found.group.get(language) or found.group["fr"]) if found else ""

    return text.format(**{OWN: group(category), GROUP: group(prompt.about)})


def phase_of(journey: Journey, question_id: str) -> str:
    """The part of the workshop an answer belongs to: "1" or "2", "decantation" (the ninth
    moment, days later) or "followup" (a carrier's answer, weeks later); "" for a question
    the journey no longer has."""
    if question_id.startswith(FOLLOWUP_PREFIX):
        return FOLLOWUP
    prompt = journey.prompt(question_id.removesuffix(OTHER_SUFFIX))
    if prompt is None:
        return ""
    if any(prompt.id == p.id for p in journey.deferred_prompts()):
        return DECANTATION
    return str(prompt.phase)


def rows(
    journey: Journey,
    workshop: Workshop,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    statements: Sequence[Statement],
    votes: Sequence[Vote],
    *,
    caucus_votes: Sequence[Vote] = (),
    language: str,
) -> Iterator[tuple[str, ...]]:
    """The table's rows, after its header `COLUMNS`."""
    who = {p.id: p for p in participants}
    by_id = {s.id: s for s in statements}
    for answer in answers:
        participant = who.get(answer.participant_id)
        if participant is None:
            continue
        question_id = answer.question_id.removesuffix(OTHER_SUFFIX)
        prompt = journey.prompt(question_id)
        question = question_text(journey, prompt, language, participant.category) if prompt else ""
        yield (
            workshop.title,
            pseudonym(workshop, participant.id),
            participant.category or "",
            phase_of(journey, answer.question_id),
            answer.question_id,
            question,
            answer.value,
            (answer.edited_at or answer.answered_at).isoformat(),
        )
    for statement in statements:
        participant = who.get(statement.participant_id or 0)
        if participant is None or statement.status == StatementStatus.REJECTED:
            continue
        prompt = journey.prompt(statement.question_id or "")
        if prompt is not None:  # a request or a commitment, written in phase 2
            phase, step = Phase.PEERS, prompt.id
            question = question_text(journey, prompt, language, participant.category)
        else:  # a statement proposed during the agora
            phase, step, question = Phase.AGORA, str(statement.number), StatementKind.PROPOSAL
        yield (
            workshop.title,
            pseudonym(workshop, participant.id),
            participant.category or "",
            phase,
            step,
            question,
            statement.text,
            statement.created_at.isoformat(),
        )
    votes_of: list[tuple[str, Vote]] = [(CAUCUS, vote) for vote in caucus_votes]
    votes_of += [(Phase.AGORA, vote) for vote in votes]
    for phase_of_vote, vote in votes_of:
        participant = who.get(vote.participant_id)
        voted_on = by_id.get(vote.statement_id)
        if participant is None or voted_on is None:
            continue
        yield (
            workshop.title,
            pseudonym(workshop, participant.id),
            participant.category or "",
            phase_of_vote,
            str(voted_on.number),
            voted_on.text,
            vote.value,
            (vote.changed_at or vote.voted_at).isoformat(),
        )


def _inert(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (participants' text can start with
    = + - or @): such a cell is prefixed with an apostrophe, as spreadsheets do."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


def statement_rows(
    workshop: Workshop, participants: Sequence[Participant], statements: Sequence[Statement]
) -> Iterator[tuple[str, ...]]:
    """statements.csv's rows, after `STATEMENT_COLUMNS`: every statement but the rejected,
    those the caucus did not keep and those merged into another included."""
    who = {p.id: p for p in participants}
    numbers = {s.id: s.number for s in statements}
    for statement in statements:
        if statement.status == StatementStatus.REJECTED:
            continue
        author = who.get(statement.participant_id or 0)
        merged_into = numbers.get(statement.merged_into or 0)
        yield (
            workshop.title,
            str(statement.number),
            pseudonym(workshop, author.id) if author else "",
            statement.source_category,
            statement.kind,
            statement.target_category or "",
            statement.text,
            statement.status,
            "yes" if statement.in_agora_at is not None else "no",
            "" if merged_into is None else str(merged_into),
            statement.created_at.isoformat(),
        )


def resolution_rows(
    journey: Journey,
    workshop: Workshop,
    statements: Sequence[Statement],
    resolutions: Sequence[Resolution],
    *,
    language: str,
) -> Iterator[tuple[str, ...]]:
    """resolutions.csv's rows, after `RESOLUTION_COLUMNS`: the carrier is a category's
    label in `language` (its id in `carrier_category`) or the name the facilitator typed."""
    numbers = {s.id: s.number for s in statements}
    for resolution in sorted(resolutions, key=lambda r: r.number):
        category = journey.category(resolution.carrier_category or "")
        if category is not None:
            carrier = category.label.get(language) or category.label["fr"]
        else:
            carrier = resolution.carrier_name or resolution.carrier_category or ""
        statement = numbers.get(resolution.statement_id or 0)
        yield (
            workshop.title,
            str(resolution.number),
            resolution.text,
            carrier,
            resolution.carrier_category or "",
            resolution.due_on.isoformat() if resolution.due_on else "",
            "" if statement is None else str(statement),
            resolution.created_at.isoformat(),
        )


def table_csv(columns: Sequence[str], rows_: Iterable[tuple[str, ...]]) -> bytes:
    """A CSV file (UTF-8 with a byte-order mark, so that spreadsheets read accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(tuple(_inert(cell) for cell in row) for row in rows_)
    return buffer.getvalue().encode("utf-8-sig")


def answers_csv(rows_: Iterable[tuple[str, ...]]) -> bytes:
    """answers.csv, its header `COLUMNS`."""
    return table_csv(COLUMNS, rows_)
