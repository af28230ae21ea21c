"""The synthesis as a Markdown document to keep or print: the same document as the
messages (`reports.document`), its figures as tables, and nothing cut, since a file has
no length limit.

Every text is made inert here: nothing a participant or the journey wrote can become
emphasis, a link, HTML or a table separator.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flows.journey import Journey
from flows.synthesis import ScaleSummary, Synthesis
from reports import blocks
from reports.document import synthesis_document
from reports.text import number, strip_tags, translator
from reports.wording import majority_words, out_of

YES, NO_DATA = "✓", "—"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")


def markdown_report(journey: Journey, synthesis: Synthesis, language: str) -> str:
    """The whole synthesis as a document to keep or print, the charts' figures as tables
    (nothing is cut: a file has no length limit)."""
    document = synthesis_document(journey, synthesis, language)
    return _Markdown(document.language).write(document)


def _md(text: str) -> str:
    """User or journey text made inert in Markdown: no emphasis, link, HTML or table
    separator, and on one line (a newline would end a table row)."""
    return _NEWLINES.sub(" ", _MARKDOWN_SPECIAL.sub(r"\\\1", text)).strip()


def _md_of_html(text: str) -> str:
    """A text of the document (escaped for HTML, maybe in tags) as Markdown text."""
    return _md(strip_tags(text))


def _heading(title: blocks.Title) -> list[str]:
    text = f"{title.text} · {title.detail}" if title.detail else title.text
    return ["#" * title.level + " " + _md_of_html(text), ""]


def _cells(*texts: str) -> list[str]:
    """Texts of the document as cells of a table."""
    return [_md_of_html(text) for text in texts]


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric_from: int | None = None
) -> list[str]:
    """A Markdown table; its cells are already escaped. Columns from `numeric_from` on hold
    numbers and are right-aligned."""
    if not rows:
        return []
    first = len(header) if numeric_from is None else numeric_from
    rule = ["---:" if index >= first else "---" for index in range(len(header))]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(rule) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


class _Markdown:
    """A document's blocks as Markdown lines."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.gettext = translator(language)

    def write(self, document: blocks.Document) -> str:
        out = [
            "# " + _md_of_html(document.title),
            "",
            *(_md_of_html(note) + "  " for note in document.notes),
            "",
        ]
        for section in document.sections:
            for block in section.blocks:
                out += self.block(block)
        return "\n".join(out).rstrip() + "\n"

    def block(self, block: blocks.Block) -> list[str]:
        match block:
            case blocks.Heading():
                return [line for title in block.titles for line in _heading(title)]
            case blocks.Counts():
                return self.counts(block)
            case blocks.Questions():
                return self.questions(block.questions)
            case blocks.Summary():
                return self.summary(block)
            case blocks.Pairs():
                return _heading(block.title) + self.pairs(block)
            case blocks.Summaries():
                items = [line for item in block.items for line in self.summary(item)]
                return _heading(block.title) + items
            case blocks.Agora():
                return self.agora(block)

    def number(self, value: int) -> str:
        return number(value, self.language)

    def counts(self, block: blocks.Counts) -> list[str]:
        rows = [
            [_md_of_html(row.label), *map(self.number, (row.total, *row.by_group))]
            for row in block.rows
        ]
        header = _cells(block.column, block.everyone, *block.groups)
        return _heading(block.title) + _table(header, rows, numeric_from=1)

    def questions(self, questions: Sequence[blocks.Question]) -> list[str]:
        """The scales of every question in one table, to compare them; then each question
        with one answer each as a table of its options; then the free answers."""
        out = ["### " + _md(self.gettext("Self-assessments (1 to 5)")), ""]
        rows = [
            self.scale_row(question if index == 0 else None, group, summary)
            for question in questions
            if isinstance(question.figure, blocks.Scales)
            for index, (group, summary) in enumerate(question.figure.rows)
        ]
        gettext = self.gettext
        header = [gettext("Question"), gettext("Group"), gettext("Answers")]
        header += [gettext("Answered 4 or 5"), "1", "2", "3", "4", "5"]
        out += _table(_cells(*header), rows, numeric_from=2)
        for question in questions:
            if isinstance(question.figure, blocks.Choices):
                out += ["### " + self.label(question), "", *self.choices(question.figure)]
        for question in questions:
            if isinstance(question.figure, blocks.Summary):
                out += ["### " + self.label(question), "", *self.summary(question.figure)]
        return out

    def label(self, question: blocks.Question) -> str:
        return f"M{question.moment_number} · {_md_of_html(question.text)}"

    def scale_row(
        self, question: blocks.Question | None, group: str, summary: ScaleSummary
    ) -> list[str]:
        """One group's answers to a scale, how many answered each value; the question on its
        first row only."""
        return [
            self.label(question) if question else "",
            _md_of_html(group),
            self.number(summary.count),
            out_of(summary.high, summary.count, self.language),
            *map(self.number, summary.distribution),
        ]

    def choices(self, figure: blocks.Choices) -> list[str]:
        rows = [
            [_md_of_html(option), *(self.number(counts[index]) for _, counts in figure.groups)]
            for index, option in enumerate(figure.options)
        ]
        header = _cells(self.gettext("Answer"), *(group for group, _ in figure.groups))
        return _table(header, rows, numeric_from=1)

    def summary(self, summary: blocks.Summary) -> list[str]:
        out = _heading(summary.title) if summary.title else []
        out += [_md_of_html(summary.count) + "  ", _md_of_html(summary.themes), ""]
        for quote in summary.quotes:
            out += [f"> {_md(quote)}", ""]
        return out

    def pairs(self, block: blocks.Pairs) -> list[str]:
        """One answer each: who answered (rows) about whom (columns), the option most chose,
        or every choice when no option has a majority; several: per pair, how often each
        option was chosen."""
        if not block.single:
            rows = [
                [_md_of_html(cell.name), *map(self.number, cell.counts)] for cell in block.cells
            ]
            header = _cells(self.gettext("From → to"), *block.options)
            return _table(header, rows, numeric_from=1)
        top = {
            (cell.source, cell.target): _md_of_html(words)
            for cell in block.cells
            if (
                words := majority_words(zip(block.options, cell.counts, strict=True), self.language)
            )
        }
        rows = [
            [_md_of_html(source)]
            + [top.get((row, column), NO_DATA) for column in range(len(block.targets))]
            for row, source in enumerate(block.sources)
        ]
        return _table(_cells(self.gettext("From → to"), *block.targets), rows)

    def agora(self, block: blocks.Agora) -> list[str]:
        """The resolutions recorded; every statement in one table, by number; then the
        consensus statements, ranked."""
        gettext = self.gettext
        header = [gettext("No."), gettext("Kind"), gettext("From → to"), gettext("Statement")]
        header += [gettext("Agree"), gettext("Disagree"), gettext("Pass")]
        header += [gettext("{group} agree").format(group=group) for group in block.groups]
        header += [gettext("Consensus"), gettext("Divisive"), gettext("Uncertain")]
        rows = [self.statement_row(block.groups, voted) for voted in block.statements]
        out = _heading(block.title) + self.resolutions(block.resolutions)
        out += ["### " + _md(gettext("Statements")), ""]
        out += _table(_cells(*header), rows) or [_md(gettext("None.")), ""]
        out += ["### " + _md(gettext("Consensus statements")), ""]
        if not block.agreed:
            out += [_md(gettext("No statement was agreed by two groups or more.")), ""]
        for rank, voted in enumerate(block.agreed, start=1):
            overall = voted.overall
            line = gettext("Statement {number}: {text} ({agree} agree)").format(
                number=voted.number,
                text=voted.text,
                agree=out_of(overall.agree, overall.votes, self.language),
            )
            out.append(f"{rank}. {_md(line)}")
        out.append("")
        return out

    def resolutions(self, resolutions: Sequence[blocks.Resolved]) -> list[str]:
        """The resolutions the room recorded, as a table: what, who carries it, by when,
        and from which statement."""
        gettext = self.gettext
        out = ["### " + _md(gettext("Resolutions")), ""]
        if not resolutions:
            return [*out, _md(gettext("No resolution was recorded.")), ""]
        header = [gettext("No."), gettext("Resolution"), gettext("Carried by")]
        header += [gettext("Due"), gettext("Statement")]
        rows = [
            [
                self.number(resolved.number),
                _md(resolved.text),
                _md_of_html(resolved.carrier) or NO_DATA,
                _md(resolved.due) or NO_DATA,
                NO_DATA if resolved.statement is None else self.number(resolved.statement),
            ]
            for resolved in resolutions
        ]
        return out + _table(_cells(*header), rows)

    def statement_row(self, groups: Sequence[str], voted: blocks.Voted) -> list[str]:
        """A statement, its votes, how many agreed in each group ("3 of 4"), and its marks."""
        tallies, overall = dict(voted.by_group), voted.overall
        return [
            str(voted.number),
            *_cells(voted.kind, voted.between),
            _md(voted.text),
            *map(self.number, (overall.agree, overall.disagree, overall.passed)),
            *(
                out_of(tallies[group].agree, tallies[group].votes, self.language)
                if group in tallies
                else NO_DATA
                for group in groups
            ),
            *(YES if flag else "" for flag in (voted.consensus, voted.divisive, voted.uncertain)),
        ]
