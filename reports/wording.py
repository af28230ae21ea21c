"""The words every form of the synthesis uses, written once: stages, groups (All and
Others too), kinds, pairs "X → Y", counts, the "too few" line, options by how often they
were chosen, and the order in which groups are shown. Escaped for HTML."""

from __future__ import annotations

from collections.abc import Iterable

from flows.journey import Journey, Prompt
from flows.kinds import StatementKind
from flows.synthesis import ALL, OTHERS, TextSummary
from reports.labels import category_name
from reports.text import escape, excerpt, local, ngettext_for, number, translator

THEME_LIMIT = 40  # a theme is one word, but nothing stops a participant typing a long one


def labelled(label: str, value: str, language: str) -> str:
    """A label and its value, with the language's spacing around the colon."""
    gettext = translator(language)  # named so that babel's extraction finds the string
    return gettext("{label}: {value}").format(label=label, value=value)


def with_count(label: str, count: int, language: str) -> str:
    """An option or a theme followed by how many chose or wrote it: "Trust (4)"."""
    return f"{label} ({number(count, language)})"


def stage_name(stage: str, language: str) -> str:
    """A stage of the participation funnel (`flows.synthesis.STAGES`)."""
    gettext = translator(language)
    names = {
        "joined": gettext("Joined"),
        "consented": gettext("Agreed to take part"),
        "active": gettext("Answered at least once"),
        "phase1": gettext("Through phase 1"),
        "finished": gettext("Finished"),
        "sent": gettext("Sent the settling moment"),
        "settled": gettext("Answered it"),
    }
    return names.get(stage) or escape(stage)


def group_label(journey: Journey, group: str, language: str) -> str:
    """A group of the synthesis: a category's label, or Others, or All."""
    gettext = translator(language)
    if group == ALL:
        return gettext("All")
    if group == OTHERS:
        return gettext("Others")
    return category_name(journey, group, language)


def pair_name(journey: Journey, source: str, target: str | None, language: str) -> str:
    """Who answered or asked, and about or of whom: "Elected official → State officer"."""
    source_name = category_name(journey, source, language)
    return f"{source_name} → {category_name(journey, target, language)}"


def counted(count: int, language: str, kind: StatementKind | None = None) -> str:
    """How many answers (or requests, or commitments) a summary is made of."""
    ngettext = ngettext_for(language)
    shown = number(count, language)
    if kind == StatementKind.REQUEST:
        return ngettext("{count} request", "{count} requests", count).format(count=shown)
    if kind == StatementKind.COMMITMENT:
        return ngettext("{count} commitment", "{count} commitments", count).format(count=shown)
    return ngettext("{count} answer", "{count} answers", count).format(count=shown)


def too_few(min_group: int, language: str) -> str:
    """What stands where the anonymity threshold leaves nothing to show."""
    ngettext = ngettext_for(language)  # named so that babel's extraction finds the string
    return ngettext(
        "Fewer than {count} answer: not shown.",
        "Fewer than {count} answers: not shown.",
        min_group,
    ).format(count=number(min_group, language))


def themes_line(summary: TextSummary, language: str) -> str:
    """The themes of a summary, each with the number of answers it is found in."""
    gettext = translator(language)
    if not summary.themes:
        return gettext("No theme is shared by two answers or more.")
    return gettext("Themes: {themes}").format(
        themes=" · ".join(
            with_count(excerpt(theme.word, THEME_LIMIT), theme.count, language)
            for theme in summary.themes
        )
    )


def option_ids(prompt: Prompt, chosen: Iterable[str]) -> list[str]:
    """The options of `prompt` in the journey's order, then any other value chosen (an
    option since removed from the journey), by id."""
    known = [option.id for option in prompt.options]
    return known + sorted(set(chosen) - set(known))


def option_name(prompt: Prompt, option_id: str, language: str) -> str:
    """An option by its label; by its id if the journey no longer has it."""
    option = prompt.option(option_id)
    return local(option.label, language) if option else escape(option_id)


def ranked(counts: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Options (in the journey's order) by how often they were chosen, the unchosen left
    out; a tie goes to the journey's order."""
    return sorted((item for item in counts if item[1]), key=lambda item: -item[1])


def _rank(journey: Journey) -> dict[str, int]:
    order = [*(category.id for category in journey.categories), OTHERS, ALL]
    return {group: index for index, group in enumerate(order)}


def ordered(journey: Journey, groups: Iterable[str]) -> list[str]:
    """Groups in the journey's order of categories, then Others, then All."""
    rank = _rank(journey)
    return sorted(groups, key=lambda group: (rank.get(group, len(rank)), group))


def ordered_pairs(journey: Journey, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(from, to) pairs in the journey's order of categories, by their first then second."""
    rank = _rank(journey)
    return sorted(
        pairs, key=lambda pair: (rank.get(pair[0], len(rank)), rank.get(pair[1], len(rank)), pair)
    )
