"""The synthesis as Telegram messages: the facilitators' whole synthesis or one phase of
it, and the shorter share for every participant, as HTML under Telegram's length limit.

What is said is decided in `reports.document`; this module lays it out as lines, and
escapes and cuts what participants wrote (a quote to 300 characters, a statement to
600), so that every message stays valid HTML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from flows.decantation import Settling
from flows.journey import Journey
from flows.kinds import Phase
from flows.synthesis import UNCERTAIN_SHARE, ScaleSummary, Synthesis, Tally
from reports import blocks
from reports.document import decantation_document, share_document, synthesis_document
from reports.text import excerpt, messages_of, ngettext_for, number, percent, quoted, translator
from reports.wording import labelled, majority_words, ranked, scale_words, votes_words, with_count

QUOTE_LIMIT = 300  # a quoted answer: enough to read it, short enough for three a message
STATEMENT_LIMIT = 600  # a statement is what people voted on: shown longer than a quote
TOP_OPTIONS = 3

Paragraph = list[str]  # lines, joined by a newline; paragraphs by a blank line


def synthesis_messages(
    journey: Journey, synthesis: Synthesis, language: str, *, phase: str | None = None
) -> list[str]:
    """The facilitators' synthesis, all of it or one `phase` ("1", "2" or "agora"), as
    HTML messages under Telegram's limit."""
    shown = _phase(phase)
    document = synthesis_document(journey, synthesis, language)
    return _Messages(document.language).messages(document, shown)


def share_messages(journey: Journey, synthesis: Synthesis, language: str) -> list[str]:
    """What the facilitators may pass on to every participant: totals, the resolutions
    recorded (they are meant to be shared), the consensus statements and the themes of the
    commitments; no quote and no figure about a person."""
    document = share_document(journey, synthesis, language)
    return _Messages(document.language, brief=True).messages(document)


def decantation_messages(journey: Journey, settling: Settling, language: str) -> list[str]:
    """The deferred moments' synthesis for the facilitators, as HTML messages."""
    document = decantation_document(journey, settling, language)
    return _Messages(document.language).messages(document)


def summary_lines(summary: blocks.Summary) -> list[str]:
    """How many, the themes, then the typical answers, each cut short: an answer can be
    thousands of characters long, a message holds 4,096."""
    return [
        summary.count,
        summary.themes,
        *(f"<blockquote>{excerpt(quote, QUOTE_LIMIT)}</blockquote>" for quote in summary.quotes),
    ]


def _phase(phase: str | None) -> Phase | None:
    """A phase as given (a `Phase` or its plain value), refused if unknown."""
    if phase is None:
        return None
    try:
        return Phase(phase)
    except ValueError:
        expected = ", ".join(Phase)
        raise ValueError(f"unknown phase {phase!r}: expected one of {expected}") from None


def _title(title: blocks.Title) -> str:
    if title.quiet:
        return title.text
    line = f"{title.icon}<b>{title.text}</b>"
    return f"{line} · <i>{title.detail}</i>" if title.detail else line


class _Messages:
    """A document's blocks as paragraphs of lines; `brief` for the share, which leaves out
    quotes, figures per group and the statements that are no consensus."""

    def __init__(self, language: str, *, brief: bool = False) -> None:
        self.language, self.brief = language, brief
        self.gettext = translator(language)
        self.ngettext = ngettext_for(language)

    def messages(self, document: blocks.Document, phase: Phase | None = None) -> list[str]:
        paragraphs: list[Paragraph] = [[f"📊 <b>{document.title}</b>", *document.notes]]
        for section in document.sections:
            if phase in (None, section.phase):
                for block in section.blocks:
                    paragraphs += self.block(block)
        return messages_of(paragraphs)

    def block(self, block: blocks.Block) -> list[Paragraph]:
        match block:
            case blocks.Heading():
                return [[_title(title) for title in block.titles]]
            case blocks.Counts():
                return [self.counts(block)]
            case blocks.Questions():
                return [self.question(question) for question in block.questions]
            case blocks.Summary():
                return [self.summary(block)]
            case blocks.Pairs():
                return [self.pairs(block)]
            case blocks.Summaries():
                return self.summaries(block)
            case blocks.Agora():
                return self.shared(block) if self.brief else self.agora(block)

    def number(self, value: int) -> str:
        return number(value, self.language)

    def counts(self, block: blocks.Counts) -> Paragraph:
        """A count in all, in bold, then per group; in all only, for the share."""
        lines = [_title(block.title)]
        for row in block.rows:
            if self.brief:
                lines.append(labelled(row.label, self.number(row.total), self.language))
                continue
            line = labelled(row.label, f"<b>{self.number(row.total)}</b>", self.language)
            detail = " · ".join(
                f"{group} {self.number(count)}"
                for group, count in zip(block.groups, row.by_group, strict=True)
            )
            lines.append(f"{line} ({detail})" if detail else line)
        return lines

    def question(self, question: blocks.Question) -> Paragraph:
        lines = [f"<b>{question.moment}</b>"] if question.moment else []
        return [*lines, f"<i>{question.text}</i>", *self.figure(question.figure)]

    def figure(self, figure: blocks.Figure) -> list[str]:
        match figure:
            case blocks.Scales():
                return [self.scale(group, summary) for group, summary in figure.rows]
            case blocks.Choices():
                return [
                    labelled(
                        f"{group} ({self.number(sum(counts))})",
                        self.options(zip(figure.options, counts, strict=True)),
                        self.language,
                    )
                    for group, counts in figure.groups
                ]
            case blocks.Summary():
                return summary_lines(figure)
            case blocks.Note():
                return [figure.text]

    def scale(self, group: str, summary: ScaleSummary) -> str:
        return labelled(group, scale_words(summary, self.language), self.language)

    def options(self, counts: Iterable[tuple[str, int]], top: int | None = None) -> str:
        """The options chosen, the most chosen first, each with how often."""
        return " · ".join(
            with_count(option, count, self.language) for option, count in ranked(counts)[:top]
        )

    def summary(self, summary: blocks.Summary) -> Paragraph:
        title = [_title(summary.title)] if summary.title else []
        return [*title, *summary_lines(summary)]

    def pairs(self, block: blocks.Pairs) -> Paragraph:
        lines = [_title(block.title)]
        for cell in block.cells:
            counts = list(zip(block.options, cell.counts, strict=True))
            if not block.single:
                shown = self.options(counts, TOP_OPTIONS)
                lines.append(labelled(cell.name, shown, self.language))
            elif words := majority_words(counts, self.language):
                lines.append(labelled(cell.name, words, self.language))
        if not block.cells:
            lines.append(block.empty)
        return lines

    def summaries(self, block: blocks.Summaries) -> list[Paragraph]:
        """A heading, then one summary a paragraph; for the share, one line each."""
        heading = [_title(block.title)]
        if self.brief:
            glances = [
                labelled(f"<b>{item.title.text}</b>", item.glance, self.language)
                for item in block.items
                if item.title
            ]
            return [heading + (glances or [block.empty])]
        return [heading + ([] if block.items else [block.empty])] + [
            self.summary(item) for item in block.items
        ]

    def agora(self, block: blocks.Agora) -> list[Paragraph]:
        """The resolutions recorded first, then the statements voted on and the three
        lists drawn from them."""
        gettext = self.gettext
        summary = self.ngettext(
            "{count} statement has a group of {votes} voters or more: {consensus} consensus, "
            "{divisive} divisive, {uncertain} uncertain.",
            "{count} statements have a group of {votes} voters or more: {consensus} "
            "consensus, {divisive} divisive, {uncertain} uncertain.",
            len(block.statements),
        ).format(
            count=self.number(len(block.statements)),
            votes=self.number(block.min_votes),
            consensus=self.number(len(block.agreed)),
            divisive=self.number(len(block.divisive)),
            uncertain=self.number(len(block.uncertain)),
        )
        rule = self.ngettext(
            "On each statement, only the groups of at least {count} voter count, in the "
            "total too. Writing a statement counts as agreeing with it.",
            "On each statement, only the groups of at least {count} voters count, in the "
            "total too. Writing a statement counts as agreeing with it.",
            block.min_votes,
        ).format(count=self.number(block.min_votes))
        paragraphs = [[_title(block.title)], *self.recorded(block), [summary, rule]]
        lists = [
            (
                gettext("Consensus statements"),
                gettext(
                    "Agreed in each group counted (two or more), the most broadly agreed first."
                ),
                block.agreed,
            ),
            (
                gettext("Divisive statements"),
                gettext("Agreed in one group, disagreed in another."),
                block.divisive,
            ),
            (
                gettext("Uncertain statements"),
                gettext("{share} of the reactions or more were passes.").format(
                    share=percent(UNCERTAIN_SHARE, self.language)
                ),
                block.uncertain,
            ),
        ]
        for title, explanation, results in lists:
            paragraphs.append([f"<b>{title}</b>", explanation if results else gettext("None.")])
            paragraphs += [self.voted(block, voted) for voted in results]
        return paragraphs

    def recorded(self, block: blocks.Agora) -> list[Paragraph]:
        """The resolutions the room recorded: each its text, who carries it, by when, and
        the statement it came from."""
        gettext = self.gettext
        explanation = (
            gettext("What the room converged on, who carries it, and by when.")
            if block.resolutions
            else gettext("No resolution was recorded.")
        )
        paragraphs = [[f"📌 <b>{gettext('Resolutions')}</b>", explanation]]
        for resolved in block.resolutions:
            text = quoted(resolved.text, self.language, limit=STATEMENT_LIMIT)
            details = []
            if resolved.carrier:
                details.append(gettext("Carried by: {carrier}").format(carrier=resolved.carrier))
            if resolved.due:
                details.append(gettext("Due: {date}").format(date=resolved.due))
            if resolved.statement is not None:
                details.append(
                    gettext("From statement {number}").format(
                        number=self.number(resolved.statement)
                    )
                )
            lines = [f"<b>{self.number(resolved.number)}.</b> {text}"]
            paragraphs.append(lines + ([" · ".join(details)] if details else []))
        return paragraphs

    def shared(self, block: blocks.Agora) -> list[Paragraph]:
        """The share's part of the agora: the resolutions recorded, then the consensus
        statements with their votes in all."""
        gettext = self.gettext
        explanation = (
            gettext(
                "The statements every group counted agreed with, the most broadly agreed first."
            )
            if block.agreed
            else gettext("No statement was agreed by two groups or more.")
        )
        heading = _title(replace(block.title, text=gettext("Consensus statements"), icon=""))
        return [
            [_title(block.title)],
            *self.recorded(block),
            [heading, explanation],
            *(self.voted(block, v) for v in block.agreed),
        ]

    def voted(self, block: blocks.Agora, voted: blocks.Voted) -> Paragraph:
        """A statement, its votes in all and, for the facilitators, per group."""
        statement = quoted(voted.text, self.language, limit=STATEMENT_LIMIT)
        overall = self.tally(block.everyone, voted.overall)
        if self.brief:
            return [voted.heading, statement, overall]
        lines = [f"<b>{voted.number}.</b> {voted.heading}", statement, overall]
        lines += [self.tally(group, tally) for group, tally in voted.by_group]
        return lines

    def tally(self, label: str, tally: Tally) -> str:
        """A group's votes in words: "Elected officials: 3 of 3 agree, 0 disagree, 0 pass"."""
        return labelled(label, votes_words(tally, self.language), self.language)
