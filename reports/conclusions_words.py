"""The words of the report for elected officials (`reports.conclusions`), in one language:
its file's name, groups as they open a line or stand inside a sentence, where a statement
comes from, a scale's answers and the anonymity threshold, said as people count.

French contracts « à les » into « aux » and « de les » into « des »: a group's name
("les élus") placed after a preposition is contracted as French writes it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from html import unescape

from babel.lists import format_list

from flows.engine import OTHER_SUFFIX
from flows.journey import Journey, Prompt
from flows.kinds import StatementKind
from flows.quotes import Candidate
from flows.synthesis import ScaleSummary, Synthesis
from reports import wording
from reports.labels import filled
from reports.text import ngettext_for, number, plain, translator, xml_safe
from storage.models import Statement

# The language tag a word processor checks the spelling in.
DOCUMENT_LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}
SLUG_LIMIT = 40  # the workshop's title in the file name, cut at a word past this
# What Unicode's decomposition does not spell in ASCII.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})

_CONTRACTION = re.compile(r"(?<!\S)(à|À|de|De) (les|le) ")
_CONTRACTED = {
    ("à", "les"): "aux",
    ("à", "le"): "au",
    ("de", "les"): "des",
    ("de", "le"): "du",
}


def contracted(text: str, language: str) -> str:
    """French's compulsory contractions: « à les élus » → « aux élus »."""
    if language != "fr":
        return text

    def contract(match: re.Match[str]) -> str:
        word = _CONTRACTED[(match[1].lower(), match[2])]
        return (word.capitalize() if match[1][0].isupper() else word) + " "

    return _CONTRACTION.sub(contract, text)


def slug(text: str, limit: int = SLUG_LIMIT) -> str:
    """A title as a file name's part: lower-case ASCII words joined by dashes, cut at a
    word past `limit` characters ("Atelier de la vallée" → "atelier-de-la-vallee")."""
    spelt = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    ascii_text = spelt.encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    kept: list[str] = []
    for word in words:
        if kept and len("-".join([*kept, word])) > limit:
            break
        kept.append(word[:limit])
    return "-".join(kept)


def file_name(title: str, first_day: date | None, language: str) -> str:
    """The report's file name: what it is, the workshop's title and its first day
    ("releve-de-conclusions-atelier-de-la-vallee-2026-11-27.docx"). Not its join code:
    the document travels, and the code lets whoever reads it join the workshop."""
    gettext = translator(language)  # named so that babel's extraction finds the string
    parts = [gettext("record-of-conclusions"), slug(title)]
    if first_day is not None:
        parts.append(first_day.isoformat())
    return "-".join(part for part in parts if part) + ".docx"


def group_words(journey: Journey, group: str, language: str) -> str:
    """A group of the synthesis as plain text opening a line ("Élus", "Autres", "Ensemble")."""
    return unescape(wording.group_label(journey, group, language))


def quote_question(journey: Journey, candidate: Candidate, language: str) -> str:
    """What a quote answered, as plain text: the question (for a group's answers about
    itself, as that group read it), or the obstacles typed in one's own words."""
    gettext = translator(language)
    base = candidate.question_id.removesuffix(OTHER_SUFFIX)
    prompt = journey.prompt(base)
    if candidate.question_id.endswith(OTHER_SUFFIX):
        template = journey.prompt(prompt.template_id or "") if prompt else None
        title = (
            plain(template.synthesis_title, language)
            if template and template.synthesis_title
            else ""
        )
        other = gettext("Other answers, in their own words")
        return f"{title} · {other}" if title else other
    if prompt is None:
        return candidate.question_id
    return unescape(filled(journey, prompt.text, language, own=candidate.category, about=None))


class Words:
    """The report's sentences in one language, from the journey and the synthesis."""

    def __init__(self, journey: Journey, language: str, synthesis: Synthesis) -> None:
        self.journey, self.language, self.synthesis = journey, language, synthesis
        self.gettext: Callable[[str], str] = translator(language)
        self.ngettext: Callable[[str, str, int], str] = ngettext_for(language)

    def number(self, value: int) -> str:
        return number(value, self.language)

    def group(self, group: str) -> str:
        """A group opening a line: "Les élus", "Autres", "Ensemble"."""
        return group_words(self.journey, group, self.language)

    def group_name(self, category: str) -> str:
        """A category inside a sentence: "les élus"."""
        return unescape(wording.group_name(self.journey, category, self.language))

    def names(self, categories: Iterable[str]) -> str:
        """Categories inside a sentence: "les élus et les agents de collectivité"."""
        return format_list([self.group_name(c) for c in categories], locale=self.language)

    def quoted(self, text: str, limit: int | None = None) -> str:
        """Between the language's quotation marks (French's with narrow no-break spaces),
        cut past `limit` characters if given."""
        text = xml_safe(text)
        short = text if limit is None or len(text) <= limit else text[: limit - 1].rstrip() + "…"
        return f"«\u202f{short}\u202f»" if self.language == "fr" else f"“{short}”"

    def took_part(self, active: int, joined: int) -> str:
        return self.ngettext(
            "{count} of the {total} people who joined answered",
            "{count} of the {total} people who joined answered",
            active,
        ).format(count=self.number(active), total=self.number(joined))

    def answered(self, active: int, joined: int, finished: int) -> str:
        """A group's participation: "3 of 4 answered, 2 went through to the end"."""
        answered = self.ngettext(
            "{count} of {total} answered", "{count} of {total} answered", active
        ).format(count=self.number(active), total=self.number(joined))
        through = self.ngettext(
            "{count} went through to the end", "{count} went through to the end", finished
        ).format(count=self.number(finished))
        return f"{answered}, {through}"

    def later_answered(self, settled: int, sent: int) -> str:
        """The deferred moments: how many answered them of those they were sent to."""
        return self.ngettext(
            "{count} of the {total} people they were sent to answered",
            "{count} of the {total} people they were sent to answered",
            settled,
        ).format(count=self.number(settled), total=self.number(sent))

    def went_through(self, count: int) -> str:
        return self.ngettext(
            "{count} person went through this moment.",
            "{count} people went through this moment.",
            count,
        ).format(count=self.number(count))

    def too_few(self) -> str:
        minimum = self.synthesis.min_group
        return self.ngettext(
            "Too few answers to show (fewer than {count}).",
            "Too few answers to show (fewer than {count}).",
            minimum,
        ).format(count=self.number(minimum))

    def scale(self, prompt: Prompt, summary: ScaleSummary | None) -> str:
        """A scale's answers in a sentence, after what its ends mean: "From 1 ("Very
        fragile") to 5 ("Solid and lasting"): 19 of 38 people answered 4 or 5, 12
        answered 1 or 2." A moment's title says what it is about; its question would
        take a paragraph."""
        if summary is None:
            said = self.too_few()
        else:
            low = summary.distribution[0] + summary.distribution[1]
            said = self.ngettext(
                "{count} of {total} people answered 4 or 5",
                "{count} of {total} people answered 4 or 5",
                summary.high,
            ).format(count=self.number(summary.high), total=self.number(summary.count))
            if low:
                said += ", " + self.ngettext(
                    "{count} answered 1 or 2", "{count} answered 1 or 2", low
                ).format(count=self.number(low))
            said += "."
        if not (prompt.low and prompt.high):
            return said[:1].upper() + said[1:]
        ends = self.gettext("From 1 ({low}) to 5 ({high})").format(
            low=self.quoted(plain(prompt.low, self.language)),
            high=self.quoted(plain(prompt.high, self.language)),
        )
        if summary is None:
            said = said[:1].lower() + said[1:]
        return wording.labelled(ends, said, self.language)

    def origin(self, statement: Statement, *, shown: bool) -> str:
        """Where a statement comes from, as groups: "Request from elected officials to
        local-authority officers"; its source unsaid when its group is not shown."""
        gettext = self.gettext
        source = self.group_name(statement.source_category) if shown else ""
        target = self.group_name(statement.target_category or "")
        if statement.kind == StatementKind.REQUEST and statement.target_category:
            if source:
                text = gettext("Request from {source} to {target}")
            else:
                text = gettext("Request to {target}")
        elif statement.kind == StatementKind.COMMITMENT:
            text = gettext("Commitment by {source}") if source else gettext("Commitment")
        else:
            text = gettext("Proposal from {source}") if source else gettext("Proposal")
        return contracted(text.format(source=source, target=target), self.language)

    def addressed(self, category: str) -> str:
        """Whom a request is addressed to, opening its line: "To local-authority officers"."""
        text = self.gettext("To {group}").format(group=self.group_name(category))
        return contracted(text, self.language)

    def threshold_notes(self) -> list[str]:
        """What the participation leaves out or puts together, and why: a missing group
        is never taken for a silent one."""
        grouping, minimum = self.synthesis.categories, self.synthesis.min_group
        notes = []
        if grouping.left_out:
            notes.append(
                self.ngettext(
                    "So that nobody can be recognised, groups where fewer than {count} "
                    "person agreed to take part are not shown separately: {groups}. Their "
                    "participation is counted under “All”.",
                    "So that nobody can be recognised, groups where fewer than {count} "
                    "people agreed to take part are not shown separately: {groups}. Their "
                    "participation is counted under “All”.",
                    minimum,
                ).format(count=self.number(minimum), groups=self.names(grouping.left_out))
            )
        if grouping.folded:
            notes.append(
                self.ngettext(
                    "So that nobody can be recognised, groups where fewer than {count} "
                    "person agreed to take part are shown together under “Others”: {groups}.",
                    "So that nobody can be recognised, groups where fewer than {count} "
                    "people agreed to take part are shown together under “Others”: {groups}.",
                    minimum,
                ).format(count=self.number(minimum), groups=self.names(grouping.folded))
            )
        return notes
