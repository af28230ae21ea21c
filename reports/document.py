"""The synthesis as a document: one walk over the `Synthesis` that decides what is said,
in words, for every format (`reports.blocks` says what the document is made of).

The facilitators' document holds everything, phase by phase; the one shared with every
participant holds only totals, the resolutions recorded, the consensus statements and the
commitments, built by the same pieces so that both say them alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from flows.decantation import Settling
from flows.journey import Journey, Peers, Prompt
from flows.kinds import Phase, StatementKind
from flows.synthesis import (
    ALL,
    RecordedResolution,
    StatementResult,
    Synthesis,
    TextSummary,
)
from reports import wording
from reports.blocks import (
    Agora,
    Block,
    Choices,
    CountRow,
    Counts,
    Document,
    Figure,
    Heading,
    Note,
    PairCell,
    Pairs,
    Question,
    Questions,
    Resolved,
    Scales,
    Section,
    Summaries,
    Summary,
    Title,
    Voted,
)
from reports.labels import filled, group_name, group_title, kind_name, statement_heading
from reports.text import day, escape, local, ngettext_for, number, translator


def synthesis_document(journey: Journey, synthesis: Synthesis, language: str) -> Document:
    """Everything the facilitators are shown, phase by phase."""
    walk = _Walk(journey, synthesis, language)
    phase1 = Heading((Title(walk.gettext("Phase 1"), 2),))
    moments = (walk.funnel(), walk.moments(), phase1, walk.questions())
    sections = [Section(Phase.MOMENTS, moments)]
    if journey.peers is not None:
        sections.append(Section(Phase.PEERS, tuple(walk.peers(journey.peers))))
    sections.append(Section(Phase.AGORA, (walk.agora(),)))
    title = walk.gettext("Synthesis · {title}").format(title=local(journey.title, language))
    return Document(language, title, walk.threshold_notes(), tuple(sections))


def share_document(journey: Journey, synthesis: Synthesis, language: str) -> Document:
    """What may be passed on to every participant: the totals, the resolutions recorded,
    the consensus statements and the commitments (a renderer shows them without quotes
    or figures per group)."""
    walk = _Walk(journey, synthesis, language)
    sections = [Section(Phase.MOMENTS, (walk.funnel(),)), Section(Phase.AGORA, (walk.agora(),))]
    if journey.peers is not None:
        sections.append(Section(Phase.PEERS, (walk.commitments(),)))
    count = synthesis.min_group
    ngettext = ngettext_for(language)  # named so that babel's extraction finds the string
    note = ngettext(
        "Results are shown only for groups of at least {count} person.",
        "Results are shown only for groups of at least {count} people.",
        count,
    ).format(count=number(count, language))
    title = walk.gettext("What the group said · {title}").format(
        title=local(journey.title, language)
    )
    return Document(language, title, (note,), tuple(sections))


def decantation_document(journey: Journey, settling: Settling, language: str) -> Document:
    """The deferred moments' synthesis for the facilitators: how many were sent them and
    answered them, then each of their questions as phase 1's are shown (same threshold)."""
    walk = _Walk(journey, settling.synthesis, language)
    funnel = settling.synthesis.funnel
    rows = [
        (wording.stage_name(stage, language), funnel.counts.get(stage, {}))
        for stage in funnel.stages
    ]
    counts = walk.counts(Title(walk.gettext("Participation"), 2), walk.gettext("Stage"), rows)
    found: list[Question] = []
    for moment in journey.moments:
        if not moment.deferred:
            continue
        heading = walk.moment_title(moment.number, moment.title)
        for prompt in moment.prompts:
            text = filled(journey, prompt.text, language, own=None, about=None)
            found.append(Question(heading, moment.number, text, walk.figure(prompt)))
            heading = ""
    title = walk.gettext("The last two moments · {title}").format(
        title=local(journey.title, language)
    )
    section = Section(Phase.MOMENTS, (counts, Questions(tuple(found))))
    return Document(language, title, walk.threshold_notes(), (section,))


def summarised(
    texts: TextSummary,
    language: str,
    *,
    kind: StatementKind | None = None,
    title: Title | None = None,
) -> Summary:
    """A summary of free texts (answers, or the requests or commitments of `kind`)."""
    return Summary(
        title,
        wording.counted(texts.respondents, language, kind),
        wording.themes_line(texts, language),
        bool(texts.themes),
        texts.quotes,
    )


class _Walk:
    """The blocks of one synthesis in one language, each built from the figures once."""

    def __init__(self, journey: Journey, synthesis: Synthesis, language: str) -> None:
        self.journey, self.synthesis, self.language = journey, synthesis, language
        self.gettext = translator(language)
        self.ngettext = ngettext_for(language)

    def group(self, group: str) -> str:
        return wording.group_label(self.journey, group, self.language)

    def too_few(self) -> Note:
        return Note(wording.too_few(self.synthesis.min_group, self.language))

    def threshold_notes(self) -> tuple[str, ...]:
        """What the anonymity threshold hid, said every time, so that a missing group is
        never mistaken for a silent one."""
        gettext, ngettext = self.gettext, self.ngettext
        grouping, min_group = self.synthesis.categories, self.synthesis.min_group
        count = number(min_group, self.language)
        hidden = [
            gettext("{category} (folded into Others)").format(
                category=group_name(self.journey, category, self.language)
            )
            for category in grouping.folded
        ] + [
            gettext("{category} (left out)").format(
                category=group_name(self.journey, category, self.language)
            )
            for category in grouping.left_out
        ]
        if hidden:
            first = ngettext(
                "Groups under {count} respondent are not shown on their own: {groups}.",
                "Groups under {count} respondents are not shown on their own: {groups}.",
                min_group,
            ).format(count=count, groups=", ".join(hidden))
        else:
            first = ngettext(
                "Every group has at least {count} respondent and is shown on its own.",
                "Every group has at least {count} respondents and is shown on its own.",
                min_group,
            ).format(count=count)
        folding = ngettext(
            "In each figure, a group of fewer than {count} respondent is folded into Others "
            "or left out; its answers still count in All.",
            "In each figure, a group of fewer than {count} respondents is folded into Others "
            "or left out; its answers still count in All.",
            min_group,
        ).format(count=count)
        return (first, folding)

    # -- participation ------------------------------------------------------------------

    def counts(
        self, title: Title, column: str, rows: Iterable[tuple[str, Mapping[str, int]]]
    ) -> Counts:
        groups = self.synthesis.categories.groups
        return Counts(
            title,
            column,
            self.group(ALL),
            tuple(self.group(group) for group in groups),
            tuple(
                CountRow(label, counts.get(ALL, 0), tuple(counts.get(g, 0) for g in groups))
                for label, counts in rows
            ),
        )

    def funnel(self) -> Counts:
        funnel = self.synthesis.funnel
        rows = [
            (wording.stage_name(stage, self.language), funnel.counts.get(stage, {}))
            for stage in funnel.stages
        ]
        title = Title(self.gettext("Participation"), 2)
        return self.counts(title, self.gettext("Stage"), rows)

    def moments(self) -> Counts:
        titles = {moment.number: moment.title for moment in self.journey.moments}
        rows = [
            (self.moment_title(number, titles.get(number, {"fr": ""})), counts)
            for number, counts in sorted(self.synthesis.moments.items())
        ]
        title = Title(self.gettext("Past each moment"), 3)
        return self.counts(title, self.gettext("Moment"), rows)

    def moment_title(self, number: int, title: Mapping[str, str]) -> str:
        return self.gettext("Moment {number} · {title}").format(
            number=number, title=local(title, self.language)
        )

    # -- phase 1 ------------------------------------------------------------------------

    def questions(self) -> Questions:
        found: list[Question] = []
        for moment in self.journey.moments:
            # A deferred moment is asked later: the synthesis does not cover it. A retired
            # prompt is shown where a workshop answered it before it was retired.
            asked = [
                prompt
                for prompt in moment.in_file_order
                if (prompt.retired and self.answered(prompt))
                or not (prompt.retired or moment.deferred)
            ]
            heading = self.moment_title(moment.number, moment.title)
            for prompt in asked:
                text = filled(self.journey, prompt.text, self.language, own=None, about=None)
                found.append(Question(heading, moment.number, text, self.figure(prompt)))
                heading = ""  # the moment's title goes with its first question
        return Questions(tuple(found))

    def answered(self, prompt: Prompt) -> bool:
        synthesis = self.synthesis
        found = (synthesis.scales, synthesis.choices, synthesis.texts)
        return any(prompt.id in figures for figures in found)

    def figure(self, prompt: Prompt) -> Figure:
        synthesis = self.synthesis
        if prompt.kind == "scale":
            scales = wording.ordered(self.journey, synthesis.scales.get(prompt.id, {}))
            rows = [(self.group(g), synthesis.scales[prompt.id][g]) for g in scales]
            return Scales(tuple(rows)) if rows else self.too_few()
        if prompt.kind == "choice":
            return self.choices(prompt, synthesis.choices.get(prompt.id, {}))
        if prompt.id in synthesis.texts:
            return summarised(synthesis.texts[prompt.id], self.language)
        return self.too_few()

    def choices(self, prompt: Prompt, choices: Mapping[str, Counter[str]]) -> Figure:
        if not choices:
            return self.too_few()
        ids = wording.option_ids(prompt, (value for c in choices.values() for value in c))
        return Choices(
            tuple(wording.option_name(prompt, option, self.language) for option in ids),
            tuple(
                (self.group(group), tuple(choices[group][option] for option in ids))
                for group in wording.ordered(self.journey, choices)
            ),
        )

    # -- phase 2 ------------------------------------------------------------------------

    def peers(self, peers: Peers) -> list[Block]:
        title = self.gettext("Phase 2 · {title}").format(title=local(peers.title, self.language))
        subtitle = self.gettext("What each group says about itself")
        blocks: list[Block] = [Heading((Title(title, 2), Title(subtitle, 3, quiet=True)))]
        for prompt in (*peers.own, *peers.retired):
            per_category = self.synthesis.own.get(prompt.id, {})
            for category in wording.ordered(self.journey, per_category):
                asked = filled(self.journey, prompt.text, self.language, own=category, about=None)
                name = group_title(self.journey, category, self.language)
                title_of = Title(name, 4, detail=asked)
                blocks.append(summarised(per_category[category], self.language, title=title_of))
        for template in peers.about:
            table = self.synthesis.pairs.get(template.id)
            if table is None:
                continue  # a list question: its requests come below
            blocks.append(self.pairs(template, table))
            other = self.synthesis.others.get(template.id)
            if other is not None:
                heading = Title(self.gettext("Other answers, in their own words"), 4, quiet=True)
                blocks.append(summarised(other, self.language, title=heading))
        blocks += [self.requests(), self.commitments()]
        return blocks

    def pairs(self, template: Prompt, table: Mapping[tuple[str, str], Counter[str]]) -> Pairs:
        journey, language = self.journey, self.language
        ids = wording.option_ids(template, (value for c in table.values() for value in c))
        sources = wording.ordered(journey, {source for source, _ in table})
        targets = wording.ordered(journey, {target for _, target in table})
        cells = tuple(
            PairCell(
                sources.index(source),
                targets.index(target),
                wording.pair_name(journey, source, target, language),
                tuple(table[(source, target)][option] for option in ids),
            )
            for source in sources
            for target in targets
            if (source, target) in table
        )
        return Pairs(
            Title(self.about_title(template), 3),
            single=template.kind == "choice",
            options=tuple(wording.option_name(template, option, language) for option in ids),
            sources=tuple(group_title(journey, source, language) for source in sources),
            targets=tuple(group_title(journey, target, language) for target in targets),
            cells=cells,
            empty=self.too_few().text,
        )

    def about_title(self, template: Prompt) -> str:
        """A question about the others as the journey names it for the synthesis, for a
        reader without the questionnaire; by its id when the journey does not."""
        if template.synthesis_title:
            return local(template.synthesis_title, self.language)
        return f"<code>{escape(template.id)}</code>"

    def requests(self) -> Summaries:
        requests = self.synthesis.requests
        count = self.synthesis.min_group
        return Summaries(
            Title(self.gettext("Requests"), 3, icon="🗣️ "),
            self.ngettext(
                "No group has requests from {count} author or more yet.",
                "No group has requests from {count} authors or more yet.",
                count,
            ).format(count=number(count, self.language)),
            tuple(
                summarised(
                    requests[pair],
                    self.language,
                    kind=StatementKind.REQUEST,
                    title=Title(wording.pair_name(self.journey, *pair, self.language), 4),
                )
                for pair in wording.ordered_pairs(self.journey, requests)
            ),
        )

    def commitments(self) -> Summaries:
        commitments = self.synthesis.commitments
        return Summaries(
            Title(self.gettext("Commitments"), 3, icon="🤝 "),
            self.gettext("No group has enough commitments to show yet."),
            tuple(
                summarised(
                    commitments[category],
                    self.language,
                    kind=StatementKind.COMMITMENT,
                    title=Title(group_title(self.journey, category, self.language), 4),
                )
                for category in wording.ordered(self.journey, commitments)
            ),
        )

    # -- the agora ----------------------------------------------------------------------

    def agora(self) -> Agora:
        synthesis = self.synthesis
        voted = {
            id(result): self.voted(result)
            for result in sorted(synthesis.statements, key=lambda r: r.statement.number)
        }
        groups = {group for result in synthesis.statements for group in result.by_group}

        def views(results: list[StatementResult]) -> tuple[Voted, ...]:
            return tuple(voted[id(result)] for result in results)

        return Agora(
            Title(self.gettext("The agora"), 2, icon="🏛️ "),
            everyone=self.group(ALL),
            min_votes=synthesis.min_group,
            groups=tuple(self.group(group) for group in wording.ordered(self.journey, groups)),
            resolutions=tuple(self.resolved(found) for found in synthesis.resolutions),
            statements=tuple(voted.values()),
            agreed=views(synthesis.agreed),
            divisive=views(synthesis.divisive),
            uncertain=views(synthesis.uncertain),
        )

    def resolved(self, found: RecordedResolution) -> Resolved:
        """A resolution: its carrier a category, as a group ("the elected officials"), or
        the name the facilitator typed, escaped; its due date in the reader's language."""
        resolution = found.resolution
        if resolution.carrier_category:
            carrier = group_name(self.journey, resolution.carrier_category, self.language)
        else:
            carrier = escape(resolution.carrier_name or "")
        due = day(resolution.due_on, self.language) if resolution.due_on else ""
        return Resolved(resolution.number, resolution.text, carrier, due, found.statement_number)

    def voted(self, result: StatementResult) -> Voted:
        journey, language, statement = self.journey, self.language, result.statement
        if statement.target_category:
            between = wording.pair_name(
                journey, statement.source_category, statement.target_category, language
            )
        else:
            between = group_title(journey, statement.source_category, language)
        return Voted(
            number=statement.number,
            heading=statement_heading(journey, statement, language),
            kind=kind_name(statement.kind, language),
            between=between,
            text=statement.text,
            overall=result.overall,
            by_group=tuple(
                (self.group(group), result.by_group[group])
                for group in wording.ordered(journey, result.by_group)
            ),
            consensus=result.consensus,
            divisive=result.divisive,
            uncertain=result.uncertain,
        )
