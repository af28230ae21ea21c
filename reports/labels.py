"""Names in one language, shared by the bot's views and the reports: categories and
groups, statements, votes and languages. Escaped for HTML."""

from __future__ import annotations

from collections.abc import Mapping

from flows.journey import GROUP, OWN, Journey
from flows.kinds import StatementKind, VoteValue
from reports.text import escape, local, translator
from storage.models import Statement

VOTE_ICONS: Mapping[str, str] = {
    VoteValue.AGREE: "👍",
    VoteValue.DISAGREE: "👎",
    VoteValue.PASS: "🤷",
}
LANGUAGE_NAMES: Mapping[str, str] = {"fr": "Français", "en": "English"}


def language_name(code: str) -> str:
    """A language by its own name (never translated: it is how its speakers find it)."""
    return LANGUAGE_NAMES.get(code, code)


def group_name(journey: Journey, category_id: str | None, language: str) -> str:
    """A category as a group ("les élus"), escaped; its id if the journey lacks it."""
    category = journey.category(category_id or "")
    return local(category.group, language) if category else escape(category_id or "")


def category_name(journey: Journey, category_id: str | None, language: str) -> str:
    """A category's label ("Élu ou élue"), escaped; its id if the journey lacks it."""
    category = journey.category(category_id or "")
    return local(category.label, language) if category else escape(category_id or "")


def filled(
    journey: Journey, texts: Mapping[str, str], language: str, *, own: str | None, about: str | None
) -> str:
    """A phase 2 text, escaped, with its {own} and {group} placeholders filled in."""
    return local(texts, language).format(
        **{OWN: group_name(journey, own, language), GROUP: group_name(journey, about, language)}
    )


def vote_label(value: str, language: str) -> str:
    """A vote as its button reads: its icon and its name."""
    gettext = translator(language)
    labels = {
        VoteValue.AGREE: gettext("Agree"),
        VoteValue.DISAGREE: gettext("Disagree"),
        VoteValue.PASS: gettext("Pass"),
    }
    return f"{VOTE_ICONS[value]} {labels[VoteValue(value)]}"


def kind_name(kind: str, language: str) -> str:
    """A statement's kind, as a word."""
    gettext = translator(language)
    names: dict[str, str] = {
        StatementKind.REQUEST: gettext("Request"),
        StatementKind.COMMITMENT: gettext("Commitment"),
        StatementKind.PROPOSAL: gettext("Proposal"),
    }
    return names.get(kind) or escape(kind)


def statement_heading(journey: Journey, statement: Statement, language: str) -> str:
    """What a statement is and whom it comes from (a category, never a person)."""
    source = category_name(journey, statement.source_category, language)
    kind = kind_name(statement.kind, language)
    if statement.kind == StatementKind.REQUEST:
        target = category_name(journey, statement.target_category, language)
        return f"🗣️ <b>{kind}</b> · {source} → {target}"
    if statement.kind == StatementKind.COMMITMENT:
        return f"🤝 <b>{kind}</b> · {source}"
    return f"💡 <b>{kind}</b> · {source}"
