"""The export of a workshop: its answers as CSV, its synthesis as Markdown, its charts as
PNG files. The same files go to a facilitator in Telegram (/export) and to disk
(`coopbot export <code> --out DIR`)."""

from __future__ import annotations

from dataclasses import dataclass

from flows.export import answers_csv, rows
from flows.facilitation import Report
from flows.journey import Journey
from reports import charts
from reports.markdown import markdown_report


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
    """answers.csv, synthesis.md, then the charts."""
    table = rows(
        journey,
        found.workshop,
        found.rows.participants,
        found.rows.answers,
        found.rows.statements,
        found.rows.votes,
        language=language,
    )
    markdown = markdown_report(journey, found.synthesis, language)
    return [
        ExportFile("answers.csv", answers_csv(table)),
        ExportFile("synthesis.md", markdown.encode("utf-8")),
        *chart_files(journey, found, language),
    ]
