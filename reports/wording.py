"""The words every form of the synthesis uses, written once: stages, groups (All and
Others too), kinds, pairs "X → Y", counts, the "too few" line, options by how often they
were chosen, and the order in which groups are shown. Escaped for HTML.

Figures are said as a person counts them ("3 of 3 agree", "2 of 3 answered 4 or 5"),
never as a probability, a median or a score: a group is a handful of people."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flows.journey import Journey, Prompt
from flows.kinds import StatementKind, VoteValue
from flows.synthesis import ALL, OTHERS, ScaleSummary, Tally, TextSummary
from reports.labels import group_name, group_title
from reports.text import escape, excerpt, local, ngettext_for, number, translator

THEME_LIMIT = 40  # a theme is one word, but nothing stops a participant typing a long one


def labelled(label: str, value: str, language: str) -> str:
    """A label and its value, with the language's spacing around the colon."""
    gettext = translator(language)  # named so that babel's extraction finds the string
    return gettext("{label}: {value}").format(label=label, value=value)


def with_count(label: str, count: int, language: str) -> str:
    """An option or a theme followed by how many chose or wrote it: "Trust (4)"."""
    return f"{label} ({number(count, language)})"


def out_of(count: int, total: int, language: str) -> str:
    """A part of a whole, in words: "2 of 3"."""
    gettext = translator(language)
    return gettext("{count} of {total}").format(
        count=number(count, language), total=number(total, language)
    )


def scale_words(summary: ScaleSummary, language: str) -> str:
    """A scale's answers in words: how many answered 4 or 5, then each answer given with
    how many gave it ("2 of 3 answered 4 or 5; answers given: 2 (1) · 4 (1) · 5 (1)"):
    a "1: 0" would read like a score."""
    gettext, ngettext = translator(language), ngettext_for(language)
    high = ngettext(
        "{count} of {total} answered 4 or 5",
        "{count} of {total} answered 4 or 5",
        summary.high,
    ).format(count=number(summary.high, language), total=number(summary.count, language))
    values = " · ".join(
        with_count(number(value, language), count, language)
        for value, count in enumerate(summary.distribution, start=1)
        if count
    )
    return gettext("{high}; answers given: {values}").format(high=high, values=values)


def votes_words(tally: Tally, language: str) -> str:
    """A statement's votes in words: "3 of 4 agree, 1 disagree, 0 pass"."""
    gettext = translator(language)
    return gettext("{agree} agree, {disagree} disagree, {passed} pass").format(
        agree=out_of(tally.agree, tally.votes, language),
        disagree=number(tally.disagree, language),
        passed=number(tally.passed, language),
    )


def group_votes(group: str, counts: Mapping[str, int], language: str) -> str:
    """A group's votes on a statement as the room's control shows them: "Elected
    officials: 2 of 3 agree, 1 disagree, 0 pass"."""
    tally = Tally(*(counts.get(value, 0) for value in VoteValue))
    return labelled(group, votes_words(tally, language), language)


def majority_words(counts: Iterable[tuple[str, int]], language: str) -> str:
    """One answer each: "mostly X (3 of 4)" when more than half chose X, else every
    choice with its count, "views divided": "mostly" is never said of a minority."""
    gettext = translator(language)
    chosen = ranked(counts)
    total = sum(count for _, count in chosen)
    if not chosen:
        return ""
    option, count = chosen[0]
    if 2 * count > total:
        return gettext("mostly {option} ({count})").format(
            option=option, count=out_of(count, total, language)
        )
    each = " · ".join(f"{name} ({out_of(n, total, language)})" for name, n in chosen)
    return gettext("views divided between {options}").format(options=each)


def stage_name(stage: str, language: str) -> str:
    """A stage of the participation funnel (`flows.synthesis.STAGES`)."""
    gettext = translator(language)
    names = {
        "joined": gettext("Joined"),
        "consented": gettext("Agreed to take part"),
        "active": gettext("Answered at least once"),
        "phase1": gettext("Through phase 1"),
        "finished": gettext("Finished"),
        "sent": gettext("Sent the last two moments"),
        "settled": gettext("Answered them"),
    }
    return names.get(stage) or escape(stage)


def group_label(journey: Journey, group: str, language: str) -> str:
    """A group of the synthesis as it opens a line: a category as a group ("Les élus"), or
    Others, or All."""
    gettext = translator(language)
    if group == ALL:
        return gettext("All")
    if group == OTHERS:
        return gettext("Others")
    return group_title(journey, group, language)


def pair_name(journey: Journey, source: str, target: str | None, language: str) -> str:
    """Who answered or asked, and about or of whom, as groups: "Elected officials → State
    officers"."""
    source_name = group_title(journey, source, language)
    return f"{source_name} → {group_name(journey, target, language)}"


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
