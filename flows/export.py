"""The workshop as CSV tables, without anyone's identity.

- answers.csv: one row per stored answer (phase 1 and phase 2, each request and
  commitment included, the décantation's and the follow-ups' answers with their own
  phase), per agora proposal, per caucus vote and per agora vote;
- statements.csv: one row per statement not rejected, with its status, whether it was
  put to the agora (the caucus did not keep every statement) and what it was merged into;
- resolutions.csv: one row per resolution the room recorded.

`workshop` is its title (not its join code, which would let whoever reads the file join
it); `participant` is a pseudonym, stable for a participant within the workshop and
unrelated to any Telegram id or name. What the consent screen promises holds in
answers.csv: a category fewer than `min_group` of its participants share is written as
the "others" label (its group name in the questions too), and times are to the minute.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime

from babel.lists import format_list

from flows.engine import OTHER_SUFFIX
from flows.journey import GROUP, OTHERS, OWN, Journey, Prompt
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
DECANTATION = "decantation"  # the phase of an answer to a deferred moment
FOLLOWUP = "followup"  # the phase of an answer to a follow-up
FOLLOWUP_PREFIX = "followup_"  # flows.followup.QUESTION_PREFIX


def _key(workshop: Workshop) -> bytes:
    """The workshop's secret for its pseudonyms, shown to no one: neither the join code
    nor the facilitator code (which the readers of the export hold) is enough to tell
    who is who from the order participants joined in."""
    return (workshop.export_key or workshop.facilitator_code).encode()


def pseudonym(workshop: Workshop, participant_id: int) -> str:
    """The same short code for a participant in every export of the workshop."""
    digest = hashlib.blake2b(str(participant_id).encode(), digest_size=4, key=_key(workshop))
    return "p-" + digest.hexdigest()


def group_pseudonym(workshop: Workshop, participant_id: int) -> str:
    """A second pseudonym for a participant whose category is too small to be named, on
    the rows that speak for their group (phase 2, its statements, the caucus): those rows
    give the group away, so they must not lead back to the same person's phase 1."""
    digest = hashlib.blake2b(
        str(participant_id).encode(), digest_size=4, key=_key(workshop) + b":group"
    )
    return "p-" + digest.hexdigest()


# The rows that speak for a participant's group, whatever category the table shows (a
# follow-up answer is about what their group committed to).
GROUP_PHASES = frozenset({str(Phase.PEERS), CAUCUS, FOLLOWUP})
# The order of answers.csv: phase by phase, then by pseudonym (so that a participant's
# two pseudonyms are never next to each other), then as given.
PHASE_ORDER = ("1", "2", CAUCUS, str(Phase.AGORA), DECANTATION, FOLLOWUP, "")


def minute(when: datetime) -> str:
    """A time as exported: ISO text rounded down to the minute, its offset kept."""
    return when.replace(second=0, microsecond=0).isoformat(timespec="minutes")


def question_text(
    journey: Journey,
    prompt: Prompt,
    language: str,
    category: str | None,
    *,
    own: str | None = None,
) -> str:
    """A prompt's text as asked, placeholders filled with the categories' group names
    (the participant's own group name replaced with `own` when given, and then no group
    left out of {others}, which would give theirs away)."""
    text = prompt.text.get(language) or prompt.text["fr"]

    def group(category_id: str | None) -> str:
        found = journey.category(category_id or "")
        return (found.group.get(language) or found.group["fr"]) if found else ""

    if prompt.phase == 1:
        left_out = category if own is None else None
        others = [group(c.id) for c in journey.categories if c.id != left_out]
        return text.format(**{OTHERS: format_list(others, style="or", locale=language)})
    mine = group(category) if own is None else own
    return text.format(**{OWN: mine, GROUP: group(prompt.about)})


def phase_of(journey: Journey, question_id: str) -> str:
    """The part of the workshop an answer belongs to: "1" or "2", "decantation" (the
    deferred moments, days later) or "followup" (a carrier's answer, weeks later); "" for a question
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
    min_group: int = 1,
    others: str = "Others",
) -> Iterator[tuple[str, ...]]:
    """The table's rows, after its header `COLUMNS`. A category fewer than `min_group`
    of the participants in the table share is written as `others` (the label in the
    facilitator's language), and its group name in a question too; times are to the
    minute."""
    entries = list(
        _entries(journey, participants, answers, statements, votes, caucus_votes=caucus_votes)
    )
    small = _small(entries, min_group)
    written = []
    for participant, phase, step, asked, answer, when in entries:
        category = participant.category or ""
        folded = category in small
        if isinstance(asked, Prompt):
            own = others if folded else None
            question = question_text(journey, asked, language, category, own=own)
        else:
            question = asked
        who = group_pseudonym if folded and phase in GROUP_PHASES else pseudonym
        written.append(
            (
                workshop.title,
                who(workshop, participant.id),
                others if folded else category,
                phase,
                step,
                question,
                answer,
                minute(when),
            )
        )
    rank = {phase: index for index, phase in enumerate(PHASE_ORDER)}
    # sorted() keeps the given order within a pseudonym's rows of one phase.
    yield from sorted(written, key=lambda row: (rank.get(row[3], len(rank)), row[1]))


def folded_categories(
    journey: Journey,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    statements: Sequence[Statement],
    votes: Sequence[Vote],
    *,
    caucus_votes: Sequence[Vote] = (),
    min_group: int = 1,
) -> frozenset[str]:
    """The categories that fewer than `min_group` of answers.csv's participants share:
    named as "others" there, and in statements.csv too."""
    entries = _entries(journey, participants, answers, statements, votes, caucus_votes=caucus_votes)
    return _small(list(entries), min_group)


def _small(
    entries: Sequence[tuple[Participant, str, str, Prompt | str, str, datetime]], min_group: int
) -> frozenset[str]:
    present = {entry[0].id: entry[0].category or "" for entry in entries}
    counts = Counter(present.values())
    return frozenset(c for c, n in counts.items() if c and n < min_group)


def _entries(
    journey: Journey,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    statements: Sequence[Statement],
    votes: Sequence[Vote],
    *,
    caucus_votes: Sequence[Vote],
) -> Iterator[tuple[Participant, str, str, Prompt | str, str, datetime]]:
    """answers.csv's rows before they are written: who, the phase, the step, the prompt
    asked (or the question's text), the answer and when it was given."""
    who = {p.id: p for p in participants}
    by_id = {s.id: s for s in statements}
    for answer in answers:
        participant = who.get(answer.participant_id)
        if participant is None:
            continue
        question_id = answer.question_id.removesuffix(OTHER_SUFFIX)
        prompt = journey.prompt(question_id)
        yield (
            participant,
            phase_of(journey, answer.question_id),
            answer.question_id,
            prompt if prompt is not None else "",
            answer.value,
            answer.edited_at or answer.answered_at,
        )
    for statement in statements:
        participant = who.get(statement.participant_id or 0)
        if participant is None or statement.status == StatementStatus.REJECTED:
            continue
        prompt = journey.prompt(statement.question_id or "")
        # The author's own words: the answer column is where they are the point.
        words = statement.own_words
        if prompt is not None:  # a request or a commitment, written in phase 2
            yield participant, Phase.PEERS, prompt.id, prompt, words, statement.created_at
        else:  # a statement proposed during the agora
            step, question = str(statement.number), StatementKind.PROPOSAL
            yield participant, Phase.AGORA, step, question, words, statement.created_at
    votes_of: list[tuple[str, Vote]] = [(CAUCUS, vote) for vote in caucus_votes]
    votes_of += [(Phase.AGORA, vote) for vote in votes]
    for phase_of_vote, vote in votes_of:
        participant = who.get(vote.participant_id)
        voted_on = by_id.get(vote.statement_id)
        if participant is None or voted_on is None:
            continue
        yield (
            participant,
            phase_of_vote,
            str(voted_on.number),
            voted_on.text,
            vote.value,
            vote.changed_at or vote.voted_at,
        )


def _inert(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (participants' text can start with
    = + - or @): such a cell is prefixed with an apostrophe, as spreadsheets do."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


def statement_rows(
    workshop: Workshop,
    participants: Sequence[Participant],
    statements: Sequence[Statement],
    *,
    folded: Collection[str] = (),
    others: str = "Others",
) -> Iterator[tuple[str, ...]]:
    """statements.csv's rows, after `STATEMENT_COLUMNS`: every statement but the rejected,
    those the caucus did not keep and those merged into another included. Texts as
    everyone read them (identifying details masked); a `folded` category is written as
    `others`, and its authors under their group pseudonym, as in answers.csv."""
    who = {p.id: p for p in participants}
    numbers = {s.id: s.number for s in statements}
    for statement in statements:
        if statement.status == StatementStatus.REJECTED:
            continue
        author = who.get(statement.participant_id or 0)
        merged_into = numbers.get(statement.merged_into or 0)
        small = statement.source_category in folded
        # As on its row in answers.csv: written in phase 2, it speaks for the group.
        named = group_pseudonym if small and statement.question_id else pseudonym
        yield (
            workshop.title,
            str(statement.number),
            named(workshop, author.id) if author else "",
            others if small else statement.source_category,
            statement.kind,
            statement.target_category or "",
            statement.text,
            statement.status,
            "yes" if statement.in_agora_at is not None else "no",
            "" if merged_into is None else str(merged_into),
            minute(statement.created_at),
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
