"""The report for elected officials (« relevé de conclusions »): an editable `.docx` a
facilitator can hand over as it is.

Conclusions first: the header (date, place, territory, how many took part), the
resolutions with who carries them and by when, the points of consensus and of
disagreement, what each group asks and commits to with how each group voted, the quotes a
facilitator chose (none by default), then who took part, group by group, and in appendix
the moments in a few sentences with the self-assessments' chart.

Built from the same `Synthesis` as every other form of the synthesis, so that its figures
are the synthesis's (and its order of statements the agora chart's); the deferred moments,
asked days later, from their own synthesis (`flows.decantation.Settling`), as
`/synthesis decantation` gives them. Figures are said as people count them, never as
quartiles or probabilities; a group under the anonymity threshold is not shown on its
own, and a statement from such a group is not said to come from it. The document says
which language it is in, so that a word processor checks its spelling in that language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from io import BytesIO
from typing import TYPE_CHECKING

from flows.journey import Journey, Moment
from flows.kinds import StatementKind
from flows.quotes import Conclusions
from flows.synthesis import ALL, OTHERS, ScaleSummary, StatementResult, Synthesis
from reports import charts, wording
from reports.conclusions_words import (
    DOCUMENT_LANGUAGES,
    Words,
    file_name,
    group_words,
    quote_question,
)
from reports.text import day, plain, xml_safe

if TYPE_CHECKING:  # python-docx (and lxml) is loaded with the first report written: the
    # bot's memory at rest stays small for a document asked for once or twice a workshop.
    from docx.document import Document

QUOTE_LIMIT = 600  # a quote stays a quote: what the facilitator chose, cut past this
CHART_WIDTH_INCHES = 6.0

__all__ = ["ReportFile", "group_words", "quote_question", "report_docx", "report_file"]


@dataclass(frozen=True)
class ReportFile:
    """The document as it is sent or written: its file name and its bytes."""

    name: str
    data: bytes


def report_file(
    journey: Journey, conclusions: Conclusions, language: str, zone: tzinfo
) -> ReportFile:
    """The report as a `.docx` file, in `language`, its dates in `zone`; its name says what
    it is, of which workshop and of when, so that two reports kept side by side differ."""
    days = workshop_days(conclusions, zone)
    name = file_name(conclusions.report.workshop.title, days[0] if days else None, language)
    return ReportFile(name, report_docx(journey, conclusions, language, zone))


def report_docx(journey: Journey, conclusions: Conclusions, language: str, zone: tzinfo) -> bytes:
    """The report's bytes (drawing its chart takes a moment: call it off the event loop)."""
    from docx import Document as new_document

    document = new_document()
    _Writer(journey, conclusions, language, zone, document).write()
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def workshop_days(conclusions: Conclusions, zone: tzinfo) -> list[date]:
    """The days the workshop was held (its sessions); without a session, the first and
    last days answers were given."""
    held = {s.starts_at.astimezone(zone).date() for s in conclusions.sessions}
    if held:
        return sorted(held)
    answered = [a.answered_at.astimezone(zone).date() for a in conclusions.report.rows.answers]
    return sorted({min(answered), max(answered)}) if answered else []


def set_language(document: Document, language: str) -> None:
    """Mark the whole document as written in `language` (fr-FR, en-GB): the default of
    every style, the theme's fonts and the file's properties."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tag = DOCUMENT_LANGUAGES.get(language, language)
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    properties = run_defaults.find(qn("w:rPr")) if run_defaults is not None else None
    if properties is not None:
        found = properties.find(qn("w:lang"))
        if found is None:
            found = OxmlElement("w:lang")
            properties.append(found)
        found.set(qn("w:val"), tag)
        found.set(qn("w:eastAsia"), tag)
    theme = document.settings.element.find(qn("w:themeFontLang"))
    if theme is not None:
        theme.set(qn("w:val"), tag)
    document.core_properties.language = tag


class _Writer:
    """One walk over the conclusions, writing the document's sections in order."""

    def __init__(
        self,
        journey: Journey,
        conclusions: Conclusions,
        language: str,
        zone: tzinfo,
        document: Document,
    ) -> None:
        self.journey, self.conclusions, self.language = journey, conclusions, language
        self.zone, self.document = zone, document
        self.synthesis: Synthesis = conclusions.report.synthesis
        self.words = Words(journey, language, self.synthesis)
        self.gettext, self.ngettext = self.words.gettext, self.words.ngettext

    def write(self) -> None:
        set_language(self.document, self.language)
        self.title()
        self.resolutions()
        self.agreed()
        self.divided()
        self.statements()
        if self.conclusions.quotes:
            self.quotes()
        self.participation()
        self.moments()

    # -- helpers ------------------------------------------------------------------------

    def line(self, label: str, value: str, *, style: str | None = None) -> None:
        """A label in bold and its value, with the language's colon."""
        text = wording.labelled(label, xml_safe(value), self.language)
        paragraph = self.document.add_paragraph(style=style)
        paragraph.add_run(text[: len(label)]).bold = True
        paragraph.add_run(text[len(label) :])

    def dates(self) -> str:
        days = workshop_days(self.conclusions, self.zone)
        if len(days) != 2 or self.conclusions.sessions:
            return ", ".join(day(d, self.language) for d in days)
        return self.gettext("from {start} to {end}").format(
            start=day(days[0], self.language), end=day(days[1], self.language)
        )

    # -- the sections -------------------------------------------------------------------

    def title(self) -> None:
        """The title, then when, where, on which territory and how many took part."""
        gettext = self.gettext
        workshop = self.conclusions.report.workshop
        title = gettext("Record of conclusions · {title}").format(title=xml_safe(workshop.title))
        properties = self.document.core_properties
        properties.title, properties.author, properties.comments = title, "coopbot", ""
        properties.created = properties.modified = datetime.now(UTC)
        self.document.add_heading(title, level=0)
        if when := self.dates():
            self.line(gettext("Date"), when)
        places = [s.place for s in self.conclusions.sessions if s.place]
        if places:
            self.line(gettext("Place"), "; ".join(dict.fromkeys(places)))
        if workshop.territory:
            self.line(gettext("Territory"), workshop.territory)
        counts = self.synthesis.funnel.counts
        joined, active = counts.get("joined", {}).get(ALL, 0), counts.get("active", {}).get(ALL, 0)
        self.line(gettext("Participation"), self.words.took_part(active, joined))

    def resolutions(self) -> None:
        gettext = self.gettext
        self.document.add_heading(gettext("Resolutions"), level=1)
        if not self.synthesis.resolutions:
            self.document.add_paragraph(gettext("No resolution was recorded."))
            return
        undecided = gettext("not decided yet")
        for found in self.synthesis.resolutions:
            resolution = found.resolution
            paragraph = self.document.add_paragraph(style="List Number")
            paragraph.add_run(xml_safe(resolution.text)).bold = True
            if resolution.carrier_category:
                carrier = self.words.group_name(resolution.carrier_category)
            else:
                carrier = xml_safe(resolution.carrier_name or "") or undecided
            due = day(resolution.due_on, self.language) if resolution.due_on else undecided
            details = [
                gettext("Carried by: {carrier}").format(carrier=carrier),
                gettext("Due: {date}").format(date=due),
            ]
            paragraph.add_run("\n" + " · ".join(details))

    def agreed(self) -> None:
        """The consensus statements, the most broadly agreed first, each with where it
        comes from and its votes in all."""
        gettext = self.gettext
        self.document.add_heading(gettext("Common ground"), level=1)
        found = self.synthesis.agreed
        if not found:
            self.document.add_paragraph(gettext("No statement was agreed by every group."))
            return
        self.document.add_paragraph(
            gettext(
                "The statements at least two groups voted on, each of them mostly "
                "agreeing, the most broadly agreed first."
            )
        )
        for result in found:
            votes = wording.votes_words(result.overall, self.language)
            self.summarised(result, [wording.labelled(self.origin(result), votes, self.language)])

    def divided(self) -> None:
        """The divisive statements, the most evenly split first (as the agora chart),
        each with the groups on either side."""
        gettext = self.gettext
        self.document.add_heading(gettext("Where opinions split"), level=1)
        found = [r for r in charts.agora_order(self.synthesis) if r.divisive]
        if not found:
            self.document.add_paragraph(gettext("No statement split the groups."))
            return
        self.document.add_paragraph(
            gettext(
                "The statements one group mostly agrees with and another mostly disagrees "
                "with, the closest votes first."
            )
        )
        for result in found:
            groups = wording.ordered(self.journey, result.by_group)
            agree = [g for g in groups if result.by_group[g].agrees]
            disagree = [g for g in groups if result.by_group[g].disagrees]
            lines = [
                self.origin(result),
                wording.labelled(gettext("Mostly agree"), self.words.names(agree), self.language),
                wording.labelled(
                    gettext("Mostly disagree"), self.words.names(disagree), self.language
                ),
            ]
            self.summarised(result, lines)

    def origin(self, result: StatementResult) -> str:
        shown = result.statement.source_category in self.synthesis.categories.shown
        return self.words.origin(result.statement, shown=shown)

    def summarised(self, result: StatementResult, lines: list[str]) -> None:
        """A statement as a bullet, and under it, in italics, what is said of it."""
        paragraph = self.document.add_paragraph(style="List Bullet")
        paragraph.add_run(self.words.quoted(result.statement.text, QUOTE_LIMIT))
        paragraph.add_run("\n" + "\n".join(lines)).italic = True

    def statements(self) -> None:
        """Per group, the requests and commitments put to the vote, each with how each
        group voted; those of groups not shown on their own come under Others."""
        gettext = self.gettext
        self.document.add_heading(gettext("What each group asks and commits to"), level=1)
        minimum = self.synthesis.min_group
        self.document.add_paragraph(
            self.ngettext(
                "The requests and commitments put to everyone's vote, and how each group "
                "voted. A group is shown only where at least {count} of its members voted; "
                "“All” adds up the groups shown.",
                "The requests and commitments put to everyone's vote, and how each group "
                "voted. A group is shown only where at least {count} of its members voted; "
                "“All” adds up the groups shown.",
                minimum,
            ).format(count=self.words.number(minimum))
        )
        shown = self.synthesis.categories.shown
        by_source: dict[str, list[StatementResult]] = {}
        for result in sorted(self.synthesis.statements, key=lambda r: r.statement.number):
            if result.statement.kind not in (StatementKind.REQUEST, StatementKind.COMMITMENT):
                continue
            source = result.statement.source_category
            by_source.setdefault(source if source in shown else OTHERS, []).append(result)
        if not by_source:
            self.document.add_paragraph(gettext("No request or commitment was put to the vote."))
            return
        for source in wording.ordered(self.journey, by_source):
            self.document.add_heading(self.words.group(source), level=2)
            results = by_source[source]
            for kind, title in (
                (StatementKind.REQUEST, gettext("Requests")),
                (StatementKind.COMMITMENT, gettext("Commitments")),
            ):
                of_kind = [r for r in results if r.statement.kind == kind]
                if of_kind:
                    self.document.add_heading(title, level=3)
                    for result in of_kind:
                        self.voted(result)

    def voted(self, result: StatementResult) -> None:
        statement = result.statement
        text = self.words.quoted(statement.text, QUOTE_LIMIT)
        if statement.target_category:
            self.line(self.words.addressed(statement.target_category), text, style="List Bullet")
        else:
            self.document.add_paragraph(text, style="List Bullet")
        for group in wording.ordered(self.journey, result.by_group):
            tally = result.by_group[group]
            votes = wording.votes_words(tally, self.language)
            self.line(self.words.group(group), votes, style="List Bullet 2")
        if len(result.by_group) > 1:
            overall = wording.votes_words(result.overall, self.language)
            self.line(self.words.group(ALL), overall, style="List Bullet 2")
        verdict = ""
        if result.consensus:
            verdict = self.gettext("Common ground: every group mostly agrees.")
        elif result.divisive:
            verdict = self.gettext(
                "Opinions split: one group mostly agrees, another mostly disagrees."
            )
        if verdict:
            self.document.add_paragraph(verdict, style="List Bullet 2").runs[0].italic = True

    def quotes(self) -> None:
        gettext = self.gettext
        self.document.add_heading(gettext("Quotes"), level=1)
        self.document.add_paragraph(
            gettext(
                "Chosen by the facilitators among the participants' answers; what could "
                "identify someone is masked."
            )
        )
        asked = ""
        for candidate in self.conclusions.quotes:
            question = quote_question(self.journey, candidate, self.language)
            if question != asked:
                self.document.add_paragraph().add_run(question).italic = True
                asked = question
            text = self.words.quoted(candidate.text, QUOTE_LIMIT)
            self.document.add_paragraph(text, style="Quote")

    def participation(self) -> None:
        """Per group shown (then all): how many answered out of how many joined, and how
        many went to the end, from the synthesis's funnel; then the deferred moments."""
        self.document.add_heading(self.gettext("Who took part"), level=1)
        counts = self.synthesis.funnel.counts
        for group in (*self.synthesis.categories.groups, ALL):
            joined = counts.get("joined", {}).get(group, 0)
            if not joined:
                continue
            active = counts.get("active", {}).get(group, 0)
            finished = counts.get("finished", {}).get(group, 0)
            said = self.words.answered(active, joined, finished)
            self.line(self.words.group(group), said, style="List Bullet")
        settling = self.conclusions.settling
        if settling.sent:
            later = self.words.later_answered(settling.settled, settling.sent)
            self.line(self.gettext("Moments asked after the workshop"), later, style="List Bullet")
        for note in self.words.threshold_notes():
            self.document.add_paragraph(note)

    def moments(self) -> None:
        """In appendix: each moment in a sentence or two, then the self-assessments'
        chart."""
        gettext = self.gettext
        title = gettext("Appendix · {title}").format(title=plain(self.journey.title, self.language))
        self.document.add_heading(title, level=1)
        self.document.add_paragraph(
            gettext(
                "How far the participants went, moment by moment, and how they assessed "
                "themselves, from 1 (low) to 5 (high)."
            )
        )
        for moment in self.journey.moments:
            paragraph = self.document.add_paragraph()
            heading = gettext("Moment {number} · {title}").format(
                number=moment.number, title=plain(moment.title, self.language)
            )
            paragraph.add_run(heading).bold = True
            paragraph.add_run("\n" + " ".join(self.moment_sentences(moment)))
        labels = charts.chart_labels(self.journey, self.language)
        picture = charts.profile_chart(self.journey, self.synthesis, labels)
        from docx.shared import Inches

        self.document.add_picture(BytesIO(picture), width=Inches(CHART_WIDTH_INCHES))
        self.document.add_paragraph(gettext("Self-assessments"), style="Caption")

    def moment_sentences(self, moment: Moment) -> list[str]:
        """How many went through a moment and its scales' answers in words; a deferred
        moment's from its own synthesis once it was sent to someone."""
        scales = [p for p in moment.prompts if p.kind == "scale"]
        if moment.deferred:
            sentences = [self.gettext("Questions asked a few days after the workshop.")]
            settling = self.conclusions.settling
            if not settling.sent:
                return sentences
            found = settling.synthesis.scales
        else:
            past = self.synthesis.moments.get(moment.number, {}).get(ALL, 0)
            sentences = [self.words.went_through(past)]
            found = self.synthesis.scales
        summaries = [overall_scale(found.get(p.id, {})) for p in scales]
        if scales and all(s is None for s in summaries):
            return [*sentences, self.words.too_few()]
        for prompt, summary in zip(scales, summaries, strict=True):
            sentences.append(self.words.scale(prompt, summary))
        return sentences


def overall_scale(found: dict[str, ScaleSummary]) -> ScaleSummary | None:
    """A scale's answers in all: the "all" figure, or the one group that is everyone."""
    if ALL in found:
        return found[ALL]
    return next(iter(found.values())) if len(found) == 1 else None
