"""Names in one language, shared by the bot's views and the reports: categories and
groups, statements, votes and languages. Escaped for HTML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from babel.lists import format_list

from flows.journey import GROUP, OTHERS, OWN, Journey
from flows.kinds import StatementKind, VoteValue
from reports.text import escape, local, translator

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


def group_title(journey: Journey, category_id: str | None, language: str) -> str:
    """A category as a group where it opens a line or names a column ("Les élus")."""
    name = group_name(journey, category_id, language)
    return name[:1].upper() + name[1:]


def category_name(journey: Journey, category_id: str | None, language: str) -> str:
    """A category's label ("Élu ou élue"), escaped; its id if the journey lacks it."""
    category = journey.category(category_id or "")
    return local(category.label, language) if category else escape(category_id or "")


def filled(
    journey: Journey, texts: Mapping[str, str], language: str, *, own: str | None, about: str | None
) -> str:
    """A journey text, escaped, with its placeholders filled in: {own} and {group} in
    phase 2, {others} (the groups other than `own`, "A, B or C") in phase 1; with no
    `own` (a synthesis, for everyone), {others} says what it stands for."""
    gettext = translator(language)
    others = [group_name(journey, c.id, language) for c in journey.categories if c.id != own]
    return local(texts, language).format(
        **{
            OWN: group_name(journey, own, language),
            GROUP: group_name(journey, about, language),
            OTHERS: format_list(others, style="or", locale=language)
            if own is not None
            else gettext("[the other groups]"),
        }
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


class Headed(Protocol):
    """What a statement's heading is made of (a stored statement, or the live screen's)."""

    @property
    def kind(self) -> str: ...
    @property
    def source_category(self) -> str: ...
    @property
    def target_category(self) -> str | None: ...


ICONS = {StatementKind.REQUEST: "🗣️ ", StatementKind.COMMITMENT: "🤝 "}


def statement_heading(
    journey: Journey, statement: Headed, language: str, *, icons: bool = True
) -> str:
    """What a statement is and which group it comes from (never a person): "Request ·
    Elected officials → local-authority officers"; `icons`: after its icon (a chat), else
    without (a projected page, whose fonts may have none)."""
    source = group_title(journey, statement.source_category, language)
    kind = kind_name(statement.kind, language)
    icon = ICONS.get(StatementKind(statement.kind), "💡 ") if icons else ""
    if statement.kind == StatementKind.REQUEST:
        target = group_name(journey, statement.target_category, language)
        return f"{icon}<b>{kind}</b> · {source} → {target}"
    return f"{icon}<b>{kind}</b> · {source}"
