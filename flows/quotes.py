"""The quotes a facilitator may put in the report for elected officials, and what the
report is made of.

A quote is an answer as others read it (`Answer.for_others`, then `themes.anonymise`, as
the synthesis quotes), taken only where the synthesis would quote: a reflection of phase 1
answered by `min_group` people or more, a group's answers about itself where that group
has `min_group` of them, the obstacles typed "in their own words" once `min_group` people
typed some. Each of these is a `Topic`, declared once from the journey. None is chosen
until a facilitator chooses it (`/quotes`).

/quotes is read a question at a time: the list of questions comes from one grouped count,
a page from one question's answers (`PER_PAGE` of them anonymised), and a button names a
candidate by its answers row's id, checked alone (its question, its group's threshold)
against the workshop's facilitators and what may be quoted now: a tap costs the same
whether the workshop has ten answers or ten thousand.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from flows.decantation import Settling, synthesise_decantation
from flows.engine import OTHER_SUFFIX
from flows.errors import NotAllowed
from flows.facilitation import FacilitationService, Report
from flows.journey import Journey
from flows.themes import anonymise
from storage import quotes, sessions, workshops
from storage.models import Answer, Participant, QuotedAnswer, Session, Workshop
from storage.quotes import QuoteRow

PER_PAGE = 8  # quotes on one page of /quotes: with their question, well under 4,096


@dataclass(frozen=True)
class Topic:
    """A question whose answers may be quoted: a phase 1 reflection (everyone's answers,
    `category` None), a group's answers about itself (`category`: that group), or the
    obstacles typed in one's own words (`key` the template's id, its typed answers about
    every group)."""

    key: str  # a prompt's id, or the template's id for the answers in one's own words
    category: str | None
    question_ids: tuple[str, ...]

    @property
    def question_id(self) -> str:
        """What it asked (the answers in one's own words all read alike)."""
        return self.question_ids[0]


def quote_topics(journey: Journey) -> tuple[Topic, ...]:
    """Every question the synthesis may quote, in the journey's order."""
    topics = []
    retired = [p for p in journey.retired_prompts() if p.phase == 1]
    for prompt in (*journey.live_prompts(), *retired):
        if prompt.kind == "text":
            topics.append(Topic(prompt.id, None, (prompt.id,)))
    peers = journey.peers
    if peers is None:
        return tuple(topics)
    for prompt in (*peers.own, *(p for p in peers.retired if p.kind == "text")):
        topics += [Topic(prompt.id, c.id, (prompt.id,)) for c in journey.categories]
    for template in peers.about:
        if template.other and template.kind in ("choice", "multi"):
            typed = (f"{template.id}_{t.id}{OTHER_SUFFIX}" for t in journey.categories)
            topics.append(Topic(template.id, None, tuple(typed)))
    return tuple(topics)


@dataclass(frozen=True)
class Quotable:
    """An answer the synthesis could quote: for a group (a category's answers about
    itself) or for everyone (`category` None: not said whose)."""

    participant_id: int
    question_id: str
    category: str | None
    text: str  # masked and anonymised, as the synthesis quotes it


@dataclass(frozen=True)
class Candidate:
    """A quote offered to the facilitators, by the id its button carries."""

    answer_id: int
    question_id: str
    category: str | None
    text: str
    chosen: bool


@dataclass(frozen=True)
class TopicCount:
    """A question of /quotes's list: how many of its answers may be quoted, how many are."""

    topic: Topic
    candidates: int
    chosen: int


@dataclass(frozen=True)
class QuoteIndex:
    """/quotes's list of questions: those with quotes to choose from, in the journey's
    order. `missed`: a page was asked of a question that has none (any more)."""

    workshop: Workshop
    topics: tuple[TopicCount, ...]
    missed: bool = False

    @property
    def chosen(self) -> int:
        return sum(t.chosen for t in self.topics)


@dataclass(frozen=True)
class QuotePage:
    """A page of one question's candidates, numbered across its pages."""

    workshop: Workshop
    topic: Topic
    page: int  # from 0
    total: int  # the question's candidates
    chosen: int  # of them, chosen
    candidates: tuple[Candidate, ...]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))

    @property
    def first(self) -> int:
        """The number of its first quote."""
        return self.page * PER_PAGE + 1


class Pick(Enum):
    CHOSEN = "chosen"
    UNCHOSEN = "unchosen"
    GONE = "gone"  # no such answer now, or no longer one that may be quoted


@dataclass(frozen=True)
class Picked:
    pick: Pick
    changed: bool  # False: it was so already (a double tap)
    # What the pressed message shows now: the answer's page, or the list of questions
    # when its question has nothing left to quote (None: the answer is gone altogether).
    shown: QuotePage | QuoteIndex | None = None
    chosen: int = 0  # the workshop's chosen quotes, after the pick


@dataclass(frozen=True)
class Conclusions:
    """What the report for elected officials is made of: the synthesis (the same object
    whose figures the report gives), the deferred moments' own synthesis (the same as
    `/synthesis decantation`: they are asked days later, the workshop's does not cover
    them), the workshop's sessions and the chosen quotes."""

    report: Report
    settling: Settling
    sessions: tuple[Session, ...]
    quotes: tuple[Candidate, ...]  # the chosen ones only

    @property
    def answered(self) -> bool:
        """Whether anyone answered anything yet: before, there is nothing to report."""
        return bool(self.report.rows.answers)


def _quotable(
    journey: Journey,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    min_group: int,
) -> Iterator[tuple[Topic, Answer]]:
    """The answers the synthesis could quote, with their topic, in the journey's order;
    not anonymised yet (anonymising never empties a text that has words)."""
    who = {p.id: p for p in participants if p.consented_at is not None and p.category}
    by_question: defaultdict[str, list[tuple[Participant, Answer]]] = defaultdict(list)
    for answer in answers:
        if (participant := who.get(answer.participant_id)) is not None:
            by_question[answer.question_id].append((participant, answer))
    for topic in quote_topics(journey):
        given = [
            (participant, answer)
            for question_id in topic.question_ids
            for participant, answer in by_question.get(question_id, [])
            if topic.category is None or participant.category == topic.category
        ]
        if len({participant.id for participant, _ in given}) >= min_group:
            yield from ((topic, answer) for _, answer in given if answer.for_others.strip())


def quotable(
    journey: Journey,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    min_group: int,
) -> list[Quotable]:
    """The answers the synthesis could quote, under its threshold, in the journey's order."""
    return [
        Quotable(a.participant_id, a.question_id, topic.category, anonymise(a.for_others).strip())
        for topic, a in _quotable(journey, participants, answers, min_group)
    ]


def candidates_of(
    journey: Journey,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    stored: Sequence[QuotedAnswer],
    min_group: int,
) -> tuple[Candidate, ...]:
    """The quotable answers among `stored`, with the id their button carries and whether
    they are chosen (only those are anonymised: pass the chosen ones for the report)."""
    known = {(a.participant_id, a.question_id): a for a in stored}
    return tuple(
        Candidate(
            row.answer_id,
            a.question_id,
            topic.category,
            anonymise(a.for_others).strip(),
            row.chosen,
        )
        for topic, a in _quotable(journey, participants, answers, min_group)
        if (row := known.get((a.participant_id, a.question_id))) is not None
    )


class QuoteService:
    """/quotes and its buttons, and the report's data, for a workshop's facilitators."""

    def __init__(self, facilitation: FacilitationService) -> None:
        self.facilitation = facilitation
        self.db = facilitation.db
        self.journey = facilitation.engine.journey
        self.topics = quote_topics(self.journey)
        self._by_key = {(t.key, t.category): t for t in self.topics}
        self._by_question = {(q, t.category): t for t in self.topics for q in t.question_ids}
        self._asked = tuple(dict.fromkeys(q for t in self.topics for q in t.question_ids))

    @property
    def min_group(self) -> int:
        return self.facilitation.min_group

    async def index(self, *, user_id: int, code: str | None) -> QuoteIndex:
        """The questions with quotes to choose from, for a facilitator of the workshop
        (`NotAllowed`, `Ambiguous` otherwise)."""
        workshop = await self.facilitation.workshop_for(user_id=user_id, code=code)
        return await self._index(workshop)

    async def browse(
        self, *, user_id: int, workshop_id: int, key: str | None, category: str | None, page: int
    ) -> QuotePage | QuoteIndex:
        """A page of a question's quotes (`key` None: the list of questions, or that list
        when the question has none any more, or never was one). `NotAllowed` unless the
        user facilitates the workshop."""
        workshop = await self._facilitated(user_id=user_id, workshop_id=workshop_id)
        if key is None:
            return await self._index(workshop)
        topic = self._by_key.get((key, category))
        shown = await self._page(workshop, topic, page) if topic is not None else None
        return shown or await self._index(workshop, missed=True)

    async def pick(
        self,
        *,
        user_id: int,
        answer_id: int,
        chosen: bool,
        page: int = 0,
        update_id: int | None = None,
    ) -> Picked:
        """Choose a quote for the report, or take it back (audited); `page` is the page
        of its question the button was on. `NotAllowed` unless the user facilitates the
        workshop the answer belongs to; GONE when it cannot be quoted."""
        answer = await quotes.get(self.db, answer_id=answer_id)
        if answer is None:
            # Whether an answer exists is no one's business but its workshop's facilitators'.
            if not await workshops.facilitated_by(self.db, user_id=user_id):
                raise NotAllowed
            return Picked(Pick.GONE, False)
        workshop = await self._facilitated(user_id=user_id, workshop_id=answer.workshop_id)
        topic = self._topic_of(answer.question_id, answer.category)
        changed = False
        if topic is not None and await self._may_quote(answer, topic):
            changed = await quotes.choose(
                self.db,
                answer=answer,
                chosen=chosen,
                by=user_id,
                now=self.facilitation.clock(),
                update_id=update_id,
            )
            pick = Pick.CHOSEN if chosen else Pick.UNCHOSEN
        else:
            pick = Pick.GONE
        shown = await self._page(workshop, topic, page) if topic is not None else None
        if shown is None:
            index = await self._index(workshop, missed=True)
            return Picked(pick, changed, index, index.chosen)
        return Picked(pick, changed, shown, await self._chosen(workshop))

    def _topic_of(self, question_id: str, category: str | None) -> Topic | None:
        """The question an answer (by someone of `category`) is quoted under (None: not
        one the synthesis quotes)."""
        found = self._by_question.get((question_id, None))
        return found or self._by_question.get((question_id, category))

    async def _may_quote(self, answer: QuoteRow, topic: Topic) -> bool:
        """Whether the synthesis would quote this answer now: its author counts, it has
        words, and its question (its group's, for a group's answers) reached the threshold."""
        if not answer.counted or not answer.text.strip():
            return False
        answered = await quotes.respondents(
            self.db,
            workshop_id=answer.workshop_id,
            question_ids=topic.question_ids,
            category=topic.category,
        )
        return answered >= self.min_group

    async def _chosen(self, workshop: Workshop) -> int:
        """How many quotes the report holds now: the chosen answers whose question still
        reaches the threshold (checked once per question, not over the whole workshop)."""
        reached: dict[Topic, bool] = {}
        count = 0
        for question_id, category in await quotes.chosen_questions(
            self.db, workshop_id=workshop.id
        ):
            topic = self._topic_of(question_id, category)
            if topic is None:
                continue
            if topic not in reached:
                answered = await quotes.respondents(
                    self.db,
                    workshop_id=workshop.id,
                    question_ids=topic.question_ids,
                    category=topic.category,
                )
                reached[topic] = answered >= self.min_group
            count += reached[topic]
        return count

    async def _facilitated(self, *, user_id: int, workshop_id: int) -> Workshop:
        if not await workshops.is_facilitator(self.db, workshop_id=workshop_id, user_id=user_id):
            raise NotAllowed
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        if workshop is None:
            raise NotAllowed
        return workshop

    async def _index(self, workshop: Workshop, *, missed: bool = False) -> QuoteIndex:
        counted = await quotes.counts(self.db, workshop_id=workshop.id, question_ids=self._asked)
        found = []
        for topic in self.topics:
            mine = [
                c
                for c in counted
                if c.question_id in topic.question_ids
                and (topic.category is None or c.category == topic.category)
            ]
            written = sum(c.written for c in mine)
            answered = sum(c.respondents for c in mine)
            if not written or answered < self.min_group:
                continue
            if len(topic.question_ids) > 1:  # one person may answer several of them
                answered = await quotes.respondents(
                    self.db, workshop_id=workshop.id, question_ids=topic.question_ids
                )
            if answered >= self.min_group:
                found.append(TopicCount(topic, written, sum(c.chosen for c in mine)))
        return QuoteIndex(workshop, tuple(found), missed)

    async def _page(self, workshop: Workshop, topic: Topic, page: int) -> QuotePage | None:
        """A page of the question's quotes (None: it has none that may be quoted now)."""
        found = await quotes.topic_page(
            self.db,
            workshop_id=workshop.id,
            question_ids=topic.question_ids,
            category=topic.category,
            page=page,
            per_page=PER_PAGE,
        )
        if found.respondents < self.min_group or not found.written:
            return None
        shown = tuple(
            Candidate(
                r.answer_id, r.question_id, topic.category, anonymise(r.text).strip(), r.chosen
            )
            for r in found.rows
        )
        return QuotePage(workshop, topic, found.page, found.written, found.chosen, shown)

    async def conclusions(self, *, user_id: int, code: str | None) -> Conclusions:
        """What the report of a workshop the user facilitates is made of."""
        workshop = await self.facilitation.workshop_for(user_id=user_id, code=code)
        return await self.conclusions_of(workshop)

    async def conclusions_of(self, workshop: Workshop) -> Conclusions:
        """The same, for whoever may already see it (the command line)."""
        report = await self.facilitation.report_of(workshop)
        stored = await quotes.chosen_of(self.db, workshop_id=workshop.id)
        journey, min_group = self.journey, self.min_group
        rows = report.rows
        # Every answer of the workshop, grouped by question: off the event loop.
        chosen = await asyncio.to_thread(
            candidates_of, journey, rows.participants, rows.answers, stored, min_group
        )
        settling = await asyncio.to_thread(
            synthesise_decantation, journey, rows.participants, rows.answers, min_group=min_group
        )
        held = await sessions.of_workshop(self.db, workshop_id=workshop.id)
        return Conclusions(report, settling, tuple(held), chosen)
