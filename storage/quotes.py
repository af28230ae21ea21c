"""The quotes a facilitator chose for the report (`chosen_quotes`): each points at the
answer it quotes, by the answers row's own id, so that an answer erased takes its choice
with it (the foreign key cascades).

/quotes reads a question at a time (`counts` for the list of questions, `topic_page` for
one page of one question's answers, `get` and `respondents` for the answer a button names):
a tap never reads the whole workshop. Choosing or taking back is audited in the same
transaction as the change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flows.kinds import AuditAction
from storage import audit
from storage.connection import Row
from storage.db import Database, to_text
from storage.models import QuotedAnswer

# Whose answers the synthesis counts: participants who consented and chose a group.
_COUNTED = "p.consented_at IS NOT NULL AND p.category IS NOT NULL AND p.category <> ''"
# An answer with words in it, as others read it (typed texts are stored stripped).
# Spaces, tabs and line breaks, written into the literal itself (both engines take them).
_WRITTEN = "trim(COALESCE(a.shown, a.value), ' \t\n\r') <> ''"
_CHOSEN_JOIN = (
    " LEFT JOIN chosen_quotes c"
    " ON c.participant_id = a.participant_id AND c.question_id = a.question_id"
)
_SELECT = (
    "SELECT a.rowid AS answer_id, p.workshop_id, a.participant_id, a.question_id,"
    " c.participant_id IS NOT NULL AS chosen"
    f" FROM answers a JOIN participants p ON p.id = a.participant_id{_CHOSEN_JOIN}"
)


@dataclass(frozen=True)
class QuoteRow:
    """An answer as a quote's button needs it: who wrote it (their group, whether they
    count), the words as others read them (not anonymised yet), whether it is chosen."""

    answer_id: int  # the answers row's rowid
    workshop_id: int
    participant_id: int
    question_id: str
    category: str | None
    counted: bool  # consented and in a group: the synthesis counts them
    text: str  # `Answer.for_others`
    chosen: bool


@dataclass(frozen=True)
class AnswerCount:
    """A question's answers from one group (counted participants only)."""

    question_id: str
    category: str
    respondents: int  # every answer, with words or not: the anonymity threshold counts them
    written: int  # those with words in them: what may be quoted
    chosen: int  # of those, how many are chosen


@dataclass(frozen=True)
class TopicRows:
    """One page of a question's quotable answers, with its figures."""

    respondents: int  # distinct participants who answered any of its questions
    written: int
    chosen: int
    page: int  # the page shown (from 0; the last one when asked past it)
    rows: tuple[QuoteRow, ...]


def from_row(row: Row) -> QuotedAnswer:
    return QuotedAnswer(
        answer_id=row["answer_id"],
        workshop_id=row["workshop_id"],
        participant_id=row["participant_id"],
        question_id=row["question_id"],
        chosen=bool(row["chosen"]),
    )


def _quote_row(row: Row) -> QuoteRow:
    return QuoteRow(
        answer_id=row["answer_id"],
        workshop_id=row["workshop_id"],
        participant_id=row["participant_id"],
        question_id=row["question_id"],
        category=row["category"],
        counted=bool(row["counted"]),
        text=row["text"],
        chosen=bool(row["chosen"]),
    )


_ROW = (
    "SELECT a.rowid AS answer_id, p.workshop_id, a.participant_id, a.question_id,"
    f" p.category, ({_COUNTED}) AS counted, COALESCE(a.shown, a.value) AS text,"
    " c.participant_id IS NOT NULL AS chosen"
    f" FROM answers a JOIN participants p ON p.id = a.participant_id{_CHOSEN_JOIN}"
)


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


async def chosen_of(db: Database, *, workshop_id: int) -> list[QuotedAnswer]:
    """The workshop's chosen answers only (what the report may quote)."""
    async with (
        db.reading() as conn,
        conn.execute(
            f"{_SELECT} WHERE p.workshop_id = ? AND c.participant_id IS NOT NULL ORDER BY a.rowid",
            (workshop_id,),
        ) as rows,
    ):
        return [from_row(row) for row in await rows.fetchall()]


async def chosen_questions(db: Database, *, workshop_id: int) -> list[tuple[str, str]]:
    """The question and the author's group of each chosen answer that has words, by a
    counted participant (whether its question still reaches the threshold is the use
    case's to check)."""
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT a.question_id, p.category FROM chosen_quotes c"
            " JOIN answers a ON a.participant_id = c.participant_id"
            " AND a.question_id = c.question_id"
            " JOIN participants p ON p.id = c.participant_id"
            f" WHERE c.workshop_id = ? AND {_COUNTED} AND {_WRITTEN}",
            (workshop_id,),
        ) as rows,
    ):
        return [(row["question_id"], row["category"]) for row in await rows.fetchall()]


async def get(db: Database, *, answer_id: int) -> QuoteRow | None:
    """The answer a button names (None: gone, or never was)."""
    async with (
        db.reading() as conn,
        conn.execute(f"{_ROW} WHERE a.rowid = ?", (answer_id,)) as rows,
    ):
        row = await rows.fetchone()
    return _quote_row(row) if row else None


async def counts(
    db: Database, *, workshop_id: int, question_ids: Sequence[str]
) -> list[AnswerCount]:
    """How many counted participants of each group answered each of `question_ids`, with
    words, and chosen: one grouped query, whatever the number of answers."""
    if not question_ids:
        return []
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT a.question_id, p.category, COUNT(*) AS respondents,"
            f" COUNT(*) FILTER (WHERE {_WRITTEN}) AS written,"
            f" COUNT(*) FILTER (WHERE ({_WRITTEN}) AND c.participant_id IS NOT NULL) AS chosen"
            f" FROM participants p JOIN answers a ON a.participant_id = p.id{_CHOSEN_JOIN}"
            f" WHERE p.workshop_id = ? AND {_COUNTED}"
            f" AND a.question_id IN ({_marks(question_ids)})"
            " GROUP BY a.question_id, p.category ORDER BY a.question_id, p.category",
            (workshop_id, *question_ids),
        ) as rows,
    ):
        return [
            AnswerCount(
                question_id=row["question_id"],
                category=row["category"],
                respondents=int(row["respondents"]),
                written=int(row["written"] or 0),
                chosen=int(row["chosen"] or 0),
            )
            for row in await rows.fetchall()
        ]


def _scope(question_ids: Sequence[str], category: str | None) -> tuple[str, tuple[object, ...]]:
    """The WHERE clause of a question's counted answers (of one group, when given)."""
    where = f"p.workshop_id = ? AND {_COUNTED} AND a.question_id IN ({_marks(question_ids)})"
    if category is None:
        return where, tuple(question_ids)
    return f"{where} AND p.category = ?", (*question_ids, category)


async def respondents(
    db: Database, *, workshop_id: int, question_ids: Sequence[str], category: str | None = None
) -> int:
    """How many counted participants (of `category`, when given) answered any of
    `question_ids`: what the anonymity threshold is checked against."""
    where, values = _scope(question_ids, category)
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT COUNT(DISTINCT a.participant_id) FROM participants p"
            f" JOIN answers a ON a.participant_id = p.id WHERE {where}",
            (workshop_id, *values),
        ) as rows,
    ):
        row = await rows.fetchone()
    return int(row[0]) if row else 0


async def topic_page(
    db: Database,
    *,
    workshop_id: int,
    question_ids: Sequence[str],
    category: str | None,
    page: int,
    per_page: int,
) -> TopicRows:
    """One page of the answers with words to `question_ids` (of `category`, when given),
    by participant, with the figures of them all, in one consistent read."""
    where, values = _scope(question_ids, category)
    async with db.reading(snapshot=True) as conn:
        async with conn.execute(
            "SELECT COUNT(DISTINCT a.participant_id) AS respondents,"
            f" COUNT(*) FILTER (WHERE {_WRITTEN}) AS written,"
            f" COUNT(*) FILTER (WHERE ({_WRITTEN}) AND c.participant_id IS NOT NULL) AS chosen"
            f" FROM participants p JOIN answers a ON a.participant_id = p.id{_CHOSEN_JOIN}"
            f" WHERE {where}",
            (workshop_id, *values),
        ) as rows:
            figures = await rows.fetchone()
        assert figures is not None
        written = int(figures["written"])
        page = max(0, min(page, (written - 1) // per_page)) if written else 0
        async with conn.execute(
            f"{_ROW} WHERE {where} AND {_WRITTEN}"
            " ORDER BY a.participant_id, a.question_id LIMIT ? OFFSET ?",
            (workshop_id, *values, per_page, page * per_page),
        ) as rows:
            found = tuple(_quote_row(row) for row in await rows.fetchall())
    return TopicRows(int(figures["respondents"]), written, int(figures["chosen"]), page, found)


async def choose(
    db: Database,
    *,
    answer: QuotedAnswer | QuoteRow,
    chosen: bool,
    by: int,
    now: datetime,
    update_id: int | None = None,
) -> bool:
    """Choose an answer for the report, or take it back; whether that changed anything (a
    double tap, or another facilitator's same choice, changes nothing). A change is
    audited in the same transaction, naming the answer by its id."""
    async with db.transaction() as conn:
        if chosen:
            cursor = await conn.execute(
                "INSERT INTO chosen_quotes"
                " (workshop_id, participant_id, question_id, chosen_by, chosen_at)"
                " SELECT ?, participant_id, question_id, ?, ? FROM answers WHERE rowid = ?"
                " ON CONFLICT (participant_id, question_id) DO NOTHING",
                (answer.workshop_id, by, to_text(now), answer.answer_id),
            )
        else:
            cursor = await conn.execute(
                "DELETE FROM chosen_quotes WHERE participant_id = ? AND question_id = ?",
                (answer.participant_id, answer.question_id),
            )
        changed = cursor.rowcount > 0
        if changed:
            await audit.insert(
                conn,
                workshop_id=answer.workshop_id,
                actor_id=by,
                action=AuditAction.QUOTE_CHOSEN if chosen else AuditAction.QUOTE_DROPPED,
                now=now,
                detail=str(answer.answer_id),
                update_id=update_id,
            )
        return changed
