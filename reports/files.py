"""The export of a workshop: its answers, statements and resolutions as CSV, its synthesis
as Markdown, its charts as PNG files. The same files go to a facilitator in Telegram
(/export) and to disk (`coopbot export <code> --out DIR`)."""

from __future__ import annotations

from dataclasses import dataclass

from flows.export import (
    RESOLUTION_COLUMNS,
    STATEMENT_COLUMNS,
    answers_csv,
    folded_categories,
    resolution_rows,
    rows,
    statement_rows,
    table_csv,
)
from flows.facilitation import Report
from flows.journey import Journey
from reports import charts
from reports.markdown import markdown_report
from reports.text import translator


@dataclass(frozen=True)
class ExportFile:
    """A file as it is sent or written: its name and its bytes."""

    name: str
    data: bytes


def chart_files(journey: Journey, found: Report, language: str) -> list[ExportFile]:
    """The charts that have something to show, as PNG files."""
    labels = charts.chart_labels(journey, language)
    drawn = {
        "profile.png": charts.profile_chart(journey, found.synthesis, labels),
        "funnel.png": charts.funnel_chart(found.synthesis, labels),
        "relations.png": charts.relation_chart(journey, found.synthesis, labels),
        "agora.png": charts.agora_chart(found.synthesis, labels),
    }
    return [ExportFile(name, data) for name, data in drawn.items() if data is not None]


def export_files(journey: Journey, found: Report, language: str) -> list[ExportFile]:
    """answers.csv, statements.csv, resolutions.csv, synthesis.md, then the charts."""
    workshop, stored = found.workshop, found.rows
    gettext = translator(language)
    table = rows(
        journey,
        workshop,
        stored.participants,
        stored.answers,
        stored.statements,
        stored.votes,
        caucus_votes=stored.caucus_votes,
        language=language,
        # The consent's promise: a category too small to stay anonymous is not named.
        min_group=found.synthesis.min_group,
        others=gettext("Others"),
    )
    folded = folded_categories(
        journey,
        stored.participants,
        stored.answers,
        stored.statements,
        stored.votes,
        caucus_votes=stored.caucus_votes,
        min_group=found.synthesis.min_group,
    )
    statements = statement_rows(
        workshop,
        stored.participants,
        stored.statements,
        folded=folded,
        others=gettext("Others"),
    )
    resolutions = resolution_rows(
        journey, workshop, stored.statements, stored.resolutions, language=language
    )
    markdown = markdown_report(journey, found.synthesis, language)
    return [
        ExportFile("answers.csv", answers_csv(table)),
        ExportFile("statements.csv", table_csv(STATEMENT_COLUMNS, statements)),
        ExportFile("resolutions.csv", table_csv(RESOLUTION_COLUMNS, resolutions)),
        ExportFile("synthesis.md", markdown.encode("utf-8")),
        *chart_files(journey, found, language),
    ]
