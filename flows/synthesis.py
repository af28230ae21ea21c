"""The group's synthesis: aggregated, anonymised figures from the stored rows.

Pure Python: it takes the rows `storage/` reads (participants, answers, statements,
votes, resolutions) and returns a `Synthesis`; no Telegram, no SQL. Groups are the actor
categories. No figure, theme or quote is given for a group of fewer than `min_group`
respondents: such groups are folded into "others" when together they reach the
threshold, or left out, and the synthesis lists what was folded or left out. The agora
folds nothing: per statement, only the categories with enough voters count.
`docs/SYNTHESIS.md` gives the rules with worked examples.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flows.engine import DONE, ONBOARDING, OTHER_SUFFIX, PEERS_WAIT
from flows.journey import Journey, Prompt
from flows.kinds import StatementKind, StatementStatus
from flows.themes import TextSummary, summarise_texts
from storage.models import Answer, Participant, Resolution, Statement, Vote

OTHERS = "others"  # the group of folded small categories
ALL = "all"  # everyone, for overall figures
# Pol.is: a statement is agreed (or disagreed) in a group when the smoothed probability
# passes 0.5 with a one-sided z-test above 1.2816 (90 %).
Z_90 = 1.2816
UNCERTAIN_SHARE = 0.3  # a statement many pass on: at least this share of passes
# The statements of phase 2 that its synthesis summarises: reviewed and not rejected,
# whether or not the caucus kept them for the agora, merged ones included.
WRITTEN = (StatementStatus.APPROVED, StatementStatus.WITHDRAWN, StatementStatus.MERGED)


# -- groups and the anonymity threshold -------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """Which categories are shown on their own, which are folded into "others", and which
    are left out, for one figure."""

    shown: tuple[str, ...]
    folded: tuple[str, ...] = ()  # in "others"
    left_out: tuple[str, ...] = ()  # too few even together

    @property
    def groups(self) -> tuple[str, ...]:
        return (*self.shown, OTHERS) if self.folded else self.shown

    def group_of(self, category: str | None) -> str | None:
        if category in self.shown:
            return category
        if category in self.folded:
            return OTHERS
        return None


def group_by_threshold(counts: Mapping[str, int], order: Sequence[str], min_group: int) -> Grouping:
    """Categories with at least `min_group` respondents stand alone; the smaller ones are
    folded together into "others" if they reach the threshold together, else left out."""
    shown = tuple(c for c in order if counts.get(c, 0) >= min_group)
    small = tuple(c for c in order if 0 < counts.get(c, 0) < min_group)
    if sum(counts[c] for c in small) >= min_group:
        return Grouping(shown, folded=small)
    return Grouping(shown, left_out=small)


# -- scales -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleSummary:
    """How many answered each value of a 1–5 scale: with a handful of answers, the counts
    say more to a reader than a median or quartiles would."""

    count: int
    distribution: tuple[int, int, int, int, int]  # how many answered 1, 2, 3, 4, 5

    @property
    def high(self) -> int:
        """How many answered 4 or 5."""
        return self.distribution[3] + self.distribution[4]

    @property
    def mean(self) -> float:
        return sum(v * n for v, n in enumerate(self.distribution, start=1)) / self.count


def summarise_scale(values: Sequence[int]) -> ScaleSummary:
    counts = Counter(values)
    return ScaleSummary(len(values), (counts[1], counts[2], counts[3], counts[4], counts[5]))


# -- the agora --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def votes(self) -> int:
        return self.agree + self.disagree + self.passed

    @property
    def p_agree(self) -> float:
        """Pol.is's smoothed probability of agreeing: (agrees + 1) / (votes + 2)."""
        return (self.agree + 1) / (self.votes + 2)

    @property
    def p_disagree(self) -> float:
        return (self.disagree + 1) / (self.votes + 2)

    @property
    def z_agree(self) -> float:
        return proportion_z(self.agree, self.votes)

    @property
    def z_disagree(self) -> float:
        return proportion_z(self.disagree, self.votes)

    @property
    def agrees(self) -> bool:
        return self.p_agree > 0.5 and self.z_agree > Z_90

    @property
    def disagrees(self) -> bool:
        return self.p_disagree > 0.5 and self.z_disagree > Z_90


def _tally(values: Mapping[str, int]) -> Tally:
    return Tally(values.get("agree", 0), values.get("disagree", 0), values.get("pass", 0))


def proportion_z(successes: int, trials: int) -> float:
    """Pol.is's one-sided test that a proportion exceeds one half, with the same +1
    smoothing: 2·√(n+1)·((s+1)/(n+1) − ½)."""
    n = trials + 1
    return 2 * math.sqrt(n) * ((successes + 1) / n - 0.5)


@dataclass(frozen=True)
class StatementResult:
    statement: Statement
    overall: Tally  # the categories counted, summed: the others' votes are left out
    by_group: Mapping[str, Tally]  # the categories counted: min_group voters or more on it
    consensus: bool  # two categories counted or more, each agreeing
    divisive: bool  # agreed in one category counted, disagreed in another
    uncertain: bool  # many passes
    group_consensus: float  # product of the counted categories' smoothed agreement


@dataclass(frozen=True)
class RecordedResolution:
    """What the room converged on (`storage.models.Resolution`: its text, who carries it,
    by when), with the number of the statement it came from (None once that is gone)."""

    resolution: Resolution
    statement_number: int | None


# -- the synthesis ----------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """How many participants reached each stage, in all and per group."""

    stages: tuple[str, ...]
    counts: Mapping[str, Mapping[str, int]]  # stage -> group (or ALL) -> count


@dataclass
class Synthesis:
    min_group: int
    categories: Grouping  # by the number of consented participants per category
    funnel: Funnel
    moments: Mapping[int, Mapping[str, int]]  # moment number -> group -> participants past it
    scales: dict[str, dict[str, ScaleSummary]] = field(default_factory=dict)  # prompt -> group
    choices: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)  # prompt -> group
    texts: dict[str, TextSummary] = field(default_factory=dict)  # phase 1 prompt -> summary
    own: dict[str, dict[str, TextSummary]] = field(default_factory=dict)  # prompt -> category
    # Phase 2's closed questions about the other categories, by the "about" prompt's id
    # (the relation gradient, obstacles, levers): (from, to) -> how often each option.
    pairs: dict[str, dict[tuple[str, str], Counter[str]]] = field(default_factory=dict)
    others: dict[str, TextSummary] = field(default_factory=dict)  # typed "other" answers
    requests: dict[tuple[str, str], TextSummary] = field(default_factory=dict)  # (from, to)
    commitments: dict[str, TextSummary] = field(default_factory=dict)  # category
    statements: list[StatementResult] = field(default_factory=list)
    resolutions: list[RecordedResolution] = field(default_factory=list)  # by number
    notes: list[str] = field(default_factory=list)  # what was folded or left out, and why

    @property
    def consensus(self) -> list[StatementResult]:
        return [s for s in self.statements if s.consensus]

    @property
    def divisive(self) -> list[StatementResult]:
        return [s for s in self.statements if s.divisive]

    @property
    def uncertain(self) -> list[StatementResult]:
        return [s for s in self.statements if s.uncertain]

    @property
    def agreed(self) -> list[StatementResult]:
        """The consensus statements, the most broadly agreed first (what a room may turn
        into resolutions; the resolutions it recorded are `resolutions`)."""
        return sorted(self.consensus, key=lambda s: (-s.group_consensus, s.statement.number))


STAGES = ("joined", "consented", "active", "phase1", "finished")


def synthesise(
    journey: Journey,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    statements: Sequence[Statement],
    votes: Sequence[Vote],
    *,
    resolutions: Sequence[Resolution] = (),
    min_group: int = 3,
) -> Synthesis:
    """The whole synthesis of one workshop from its stored rows."""
    order = [c.id for c in journey.categories]
    consented = [p for p in participants if p.consented_at is not None and p.category]
    grouping = group_by_threshold(Counter(p.category or "" for p in consented), order, min_group)
    synthesis = Synthesis(
        min_group=min_group,
        categories=grouping,
        funnel=_funnel(journey, participants, answers, grouping),
        moments=_moments(journey, consented, grouping),
    )
    if grouping.folded:
        synthesis.notes.append(
            f"folded into {OTHERS}: {', '.join(grouping.folded)} (fewer than {min_group} each)"
        )
    if grouping.left_out:
        synthesis.notes.append(
            f"left out: {', '.join(grouping.left_out)} (fewer than {min_group}, even together)"
        )
    who = {p.id: p for p in consented}
    by_prompt: defaultdict[str, list[tuple[Participant, str]]] = defaultdict(list)
    for answer in answers:
        participant = who.get(answer.participant_id)
        if participant is not None:
            by_prompt[answer.question_id].append((participant, answer.for_others))
    # A workshop answered before a prompt was retired keeps its answers in the synthesis.
    retired = [p for p in journey.retired_prompts() if p.phase == 1 and p.id in by_prompt]
    scales_and_texts(journey, [*journey.live_prompts(), *retired], synthesis, by_prompt, min_group)
    _peers(journey, synthesis, by_prompt, statements, who, min_group)
    _agora(synthesis, statements, votes, who, min_group)
    numbers = {statement.id: statement.number for statement in statements}
    synthesis.resolutions = [
        RecordedResolution(resolution, numbers.get(resolution.statement_id or 0))
        for resolution in sorted(resolutions, key=lambda r: r.number)
    ]
    return synthesis


def _funnel(
    journey: Journey,
    participants: Sequence[Participant],
    answers: Sequence[Answer],
    grouping: Grouping,
) -> Funnel:
    """Joined, consented, active (one answer or more), through phase 1, finished."""
    answered = {a.participant_id for a in answers}
    # Answering the décantation, days after the end, is still having finished.
    finished = {DONE, *(p.id for p in journey.deferred_prompts())}
    beyond_phase1 = {PEERS_WAIT, *finished, *(p.id for p in journey.all_peer_prompts())}
    counts: dict[str, Counter[str]] = {stage: Counter() for stage in STAGES}
    for p in participants:
        group = grouping.group_of(p.category)
        reached = {
            "joined": True,
            "consented": p.consented_at is not None,
            "active": p.id in answered,
            "phase1": p.state in beyond_phase1,
            "finished": p.state in finished,
        }
        for stage, yes in reached.items():
            if yes:
                counts[stage][ALL] += 1
                if group is not None:
                    counts[stage][group] += 1
    return Funnel(STAGES, {stage: dict(counter) for stage, counter in counts.items()})


def _moments(
    journey: Journey, consented: Sequence[Participant], grouping: Grouping
) -> dict[int, dict[str, int]]:
    """Per moment, how many participants are past it."""
    order = [p.id for p in journey.live_prompts()]
    last_of = {m.number: order.index(m.prompts[-1].id) for m in journey.moments if not m.deferred}
    reached: dict[int, Counter[str]] = {number: Counter() for number in last_of}
    for p in consented:
        if p.state in ONBOARDING:
            continue
        position = order.index(p.state) if p.state in order else len(order)
        group = grouping.group_of(p.category)
        for number, last in last_of.items():
            if position > last:
                reached[number][ALL] += 1
                if group is not None:
                    reached[number][group] += 1
    return {number: dict(counter) for number, counter in reached.items()}


def _regroup(
    values: Mapping[str, list[object]], order: Sequence[str], min_group: int
) -> dict[str, list[object]]:
    """Values per category → per group shown under the threshold rule, plus ALL."""
    grouping = group_by_threshold({c: len(v) for c, v in values.items()}, order, min_group)
    grouped: defaultdict[str, list[object]] = defaultdict(list)
    everyone: list[object] = []
    for category, items in values.items():
        group = grouping.group_of(category)
        if group is not None:  # a group left out is out of the total too: else the total
            grouped[group] += items  # minus the groups shown would give it away
            everyone += items
    if len(everyone) >= min_group:
        grouped[ALL] = everyone
        shown = [group for group in grouped if group != ALL]
        if len(shown) == 1:  # one group is everyone: said once, by its name or as all
            del grouped[ALL if shown != [OTHERS] else OTHERS]
    return dict(grouped)


def scales_and_texts(
    journey: Journey,
    prompts: Sequence[Prompt],
    synthesis: Synthesis,
    by_prompt: Mapping[str, list[tuple[Participant, str]]],
    min_group: int,
) -> None:
    """Phase 1 (or the décantation): each scale per group; each reflection's themes and
    quotes."""
    order = [c.id for c in journey.categories]
    for prompt in prompts:
        given = by_prompt.get(prompt.id, [])
        if prompt.kind == "scale":
            per_category: defaultdict[str, list[object]] = defaultdict(list)
            for participant, value in given:
                if value.isdecimal():
                    per_category[participant.category or ""].append(int(value))
            grouped = _regroup(per_category, order, min_group)
            synthesis.scales[prompt.id] = {
                group: summarise_scale([int(str(v)) for v in values])
                for group, values in grouped.items()
            }
        elif prompt.kind == "choice":
            per_category = defaultdict(list)
            for participant, value in given:
                per_category[participant.category or ""].append(value)
            synthesis.choices[prompt.id] = {
                group: Counter(str(v) for v in values)
                for group, values in _regroup(per_category, order, min_group).items()
            }
        elif prompt.kind == "text" and len(given) >= min_group:
            given_texts = [(v, p.language) for p, v in given]
            synthesis.texts[prompt.id] = summarise_texts(given_texts, every=prompt.listed)


def _peers(
    journey: Journey,
    synthesis: Synthesis,
    by_prompt: Mapping[str, list[tuple[Participant, str]]],
    statements: Sequence[Statement],
    who: Mapping[int, Participant],
    min_group: int,
) -> None:
    """Phase 2. Per category: the themes of its own questions and its commitments. Per
    (from, to) pair: the answers to each closed question of the "about" block, and the
    requests. A category, or a pair, is shown only if its authors reach the threshold."""
    peers = journey.peers
    if peers is None:
        return
    retired = [p for p in peers.retired if p.kind == "text" and p.id in by_prompt]
    for prompt in (*peers.own, *retired):
        per_category: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
        for participant, value in by_prompt.get(prompt.id, []):
            per_category[participant.category or ""].append((value, participant.language))
        synthesis.own[prompt.id] = {
            category: summarise_texts(texts)
            for category, texts in per_category.items()
            if len(texts) >= min_group
        }
    for template in peers.about:
        if template.kind not in ("choice", "multi"):
            continue
        table: dict[tuple[str, str], Counter[str]] = {}
        for target in journey.categories:
            per_source: defaultdict[str, list[str]] = defaultdict(list)
            respondents: Counter[str] = Counter()
            for participant, value in by_prompt.get(f"{template.id}_{target.id}", []):
                source = participant.category or ""
                respondents[source] += 1
                per_source[source] += [v for v in value.split(",") if v]
            for source, values in per_source.items():
                if respondents[source] >= min_group:
                    table[(source, target.id)] = Counter(values)
        synthesis.pairs[template.id] = table
        if template.other:
            given = [
                (participant, value)
                for target in journey.categories
                for participant, value in by_prompt.get(
                    f"{template.id}_{target.id}{OTHER_SUFFIX}", []
                )
            ]
            typed = [(value, participant.language) for participant, value in given]
            if len({participant.id for participant, _ in given}) >= min_group:
                synthesis.others[template.id] = summarise_texts(typed)
    requests: defaultdict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    commitments: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    authors: defaultdict[tuple[str, str] | str, set[int]] = defaultdict(set)
    for statement in statements:
        # Everything reviewed and not rejected: what the caucus did not keep for the agora
        # and what was merged into another statement are still what the groups wrote.
        author = who.get(statement.participant_id or 0)
        if author is None or statement.status not in WRITTEN:
            continue
        if statement.kind == StatementKind.REQUEST and statement.target_category:
            pair = (statement.source_category, statement.target_category)
            requests[pair].append((statement.text, author.language))
            authors[pair].add(author.id)
        elif statement.kind == StatementKind.COMMITMENT:
            commitments[statement.source_category].append((statement.text, author.language))
            authors[statement.source_category].add(author.id)
    synthesis.requests = {
        pair: summarise_texts(texts)
        for pair, texts in requests.items()
        if len(authors[pair]) >= min_group
    }
    synthesis.commitments = {
        category: summarise_texts(texts)
        for category, texts in commitments.items()
        if len(authors[category]) >= min_group
    }


def in_agora(statement: Statement) -> bool:
    """Whether a statement was put to everyone: in the agora now, or withdrawn from it."""
    if statement.status == StatementStatus.WITHDRAWN:
        return statement.in_agora_at is not None
    return statement.in_agora


def _agora(
    synthesis: Synthesis,
    statements: Sequence[Statement],
    votes: Sequence[Vote],
    who: Mapping[int, Participant],
    min_group: int,
) -> None:
    """Per statement put to the agora: agree / disagree / pass per category and in all,
    and Pol.is's consensus, divisiveness, uncertainty and group-informed ranking.

    Only the categories with at least `min_group` voters on the statement count: in the
    marks, in the ranking and in the total shown (otherwise the total minus the categories
    shown would give a small one away). Nothing is folded into "others": a consensus is
    agreed by each of two actor categories or more. The authors' agreement is among the
    votes (storage stores it as the statement enters the agora): writing counts as agreeing."""
    counted: defaultdict[int, defaultdict[str, Counter[str]]] = defaultdict(
        lambda: defaultdict(Counter)
    )
    for vote in votes:
        voter = who.get(vote.participant_id)
        if voter is not None and voter.category:
            counted[vote.statement_id][voter.category][vote.value] += 1
    for statement in statements:
        if not in_agora(statement):
            continue
        per_category: Mapping[str, Counter[str]] = counted.get(statement.id, {})
        kept = {c: values for c, values in per_category.items() if values.total() >= min_group}
        if not kept:
            continue  # no category with enough voters: no figure at all
        shown = {category: _tally(values) for category, values in kept.items()}
        overall = _tally(sum(kept.values(), Counter()))
        synthesis.statements.append(
            StatementResult(
                statement=statement,
                overall=overall,
                by_group=shown,
                consensus=len(shown) >= 2 and all(t.agrees for t in shown.values()),
                divisive=any(t.agrees for t in shown.values())
                and any(t.disagrees for t in shown.values()),
                uncertain=overall.passed >= UNCERTAIN_SHARE * overall.votes,
                group_consensus=math.prod(t.p_agree for t in shown.values()),
            )
        )
