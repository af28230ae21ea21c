"""The synthesis as people read it: Telegram messages for the facilitators, a shorter set
for all participants, and a Markdown document with the figures as tables.

`flows.synthesis` computes the figures; this module only words them. Every text a
participant wrote (answers, quotes, themes, statements) is escaped, and quoted texts are
cut short, so that each message stays valid HTML under Telegram's length limit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from html import escape, unescape
from typing import TypeVar

from babel.numbers import format_decimal, format_percent

from bot import rendering
from flows.journey import Journey, Prompt
from flows.synthesis import (
    ALL,
    OTHERS,
    UNCERTAIN_SHARE,
    ScaleSummary,
    StatementResult,
    Synthesis,
    Tally,
    TextSummary,
)
from locales import translations
from reports import labels

PHASES = ("1", "2", "agora")
QUOTE_LIMIT = 300  # a quoted answer: enough to read it, short enough for three a message
STATEMENT_LIMIT = 600  # a statement is what people voted on: shown longer than a quote
THEME_LIMIT = 40  # a theme is one word, but nothing stops a participant typing a long one
TOP_OPTIONS = 3
_TAG = re.compile(r"<[^>]*>")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")

Paragraph = list[str]  # lines, joined by a newline; paragraphs by a blank line
T = TypeVar("T")


# -- Telegram messages ------------------------------------------------------------------


def synthesis_messages(
    journey: Journey, synthesis: Synthesis, language: str, *, phase: str | None = None
) -> list[str]:
    """The facilitators' synthesis, all of it or one `phase` ("1", "2" or "agora"), as
    HTML messages under Telegram's limit."""
    if phase is not None and phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}: expected one of {', '.join(PHASES)}")
    paragraphs = [_heading(journey, synthesis, language)]
    if phase in (None, "1"):
        paragraphs += _participation(journey, synthesis, language)
        paragraphs += _phase1(journey, synthesis, language)
    if phase in (None, "2"):
        paragraphs += _phase2(journey, synthesis, language)
    if phase in (None, "agora"):
        paragraphs += _agora(journey, synthesis, language)
    return _messages(paragraphs)


def share_messages(journey: Journey, synthesis: Synthesis, language: str) -> list[str]:
    """What the facilitators may pass on to every participant: totals, the resolutions and
    the themes of the commitments; no quote and no figure about a person."""
    gettext = rendering.translator(language)
    ngettext = translations(language).ngettext
    paragraphs: list[Paragraph] = [
        [
            "📊 <b>"
            + gettext("What the group said · {title}").format(
                title=rendering.local(journey.title, language)
            )
            + "</b>",
            ngettext(
                "Results are shown only for groups of at least {count} person.",
                "Results are shown only for groups of at least {count} people.",
                synthesis.min_group,
            ).format(count=rendering.number(synthesis.min_group, language)),
        ],
        [
            "<b>" + gettext("Participation") + "</b>",
            *(
                _labelled(
                    _stage(stage, language),
                    rendering.number(synthesis.funnel.counts.get(stage, {}).get(ALL, 0), language),
                    language,
                )
                for stage in synthesis.funnel.stages
            ),
        ],
    ]
    resolutions = synthesis.resolutions
    paragraphs.append(
        [
            "🏛️ <b>" + gettext("Proposed resolutions") + "</b>",
            gettext("The statements every group agreed with, the most broadly agreed first.")
            if resolutions
            else gettext("No statement was agreed by every group."),
        ]
    )
    for result in resolutions:
        paragraphs.append(
            [
                labels.statement_heading(journey, result.statement, language),
                _quoted(result.statement.text, language),
                _tally_line(gettext("All"), result.overall, language),
            ]
        )
    if journey.peers is not None:
        commitments = [
            "🤝 <b>" + gettext("Commitments") + "</b>",
        ]
        for category in _ordered(journey, synthesis.commitments):
            summary = synthesis.commitments[category]
            commitments.append(
                _labelled(
                    f"<b>{labels.category_name(journey, category, language)}</b>",
                    _themes(summary, language)
                    if summary.themes
                    else _count(summary.respondents, "commitment", language),
                    language,
                )
            )
        if len(commitments) == 1:
            commitments.append(gettext("No group has enough commitments to show yet."))
        paragraphs.append(commitments)
    return _messages(paragraphs)


def _heading(journey: Journey, synthesis: Synthesis, language: str) -> Paragraph:
    gettext = rendering.translator(language)
    return [
        "📊 <b>"
        + gettext("Synthesis · {title}").format(title=rendering.local(journey.title, language))
        + "</b>",
        *_threshold_lines(journey, synthesis, language),
    ]


def _threshold_lines(journey: Journey, synthesis: Synthesis, language: str) -> list[str]:
    """What the anonymity threshold hid, said every time, so that a missing group is never
    mistaken for a silent one."""
    gettext = rendering.translator(language)
    ngettext = translations(language).ngettext
    grouping = synthesis.categories
    count = rendering.number(synthesis.min_group, language)
    hidden = [
        gettext("{category} (folded into Others)").format(
            category=labels.category_name(journey, category, language)
        )
        for category in grouping.folded
    ] + [
        gettext("{category} (left out)").format(
            category=labels.category_name(journey, category, language)
        )
        for category in grouping.left_out
    ]
    if hidden:
        first = ngettext(
            "Groups under {count} respondent are not shown on their own: {groups}.",
            "Groups under {count} respondents are not shown on their own: {groups}.",
            synthesis.min_group,
        ).format(count=count, groups=", ".join(hidden))
    else:
        first = ngettext(
            "Every group has at least {count} respondent and is shown on its own.",
            "Every group has at least {count} respondents and is shown on its own.",
            synthesis.min_group,
        ).format(count=count)
    return [
        first,
        ngettext(
            "In each figure, a group of fewer than {count} respondent is folded into Others "
            "or left out; its answers still count in All.",
            "In each figure, a group of fewer than {count} respondents is folded into Others "
            "or left out; its answers still count in All.",
            synthesis.min_group,
        ).format(count=count),
    ]


def _participation(journey: Journey, synthesis: Synthesis, language: str) -> list[Paragraph]:
    gettext = rendering.translator(language)
    groups = synthesis.categories.groups
    funnel = ["<b>" + gettext("Participation") + "</b>"]
    for stage in synthesis.funnel.stages:
        funnel.append(
            _with_groups(
                _stage(stage, language),
                synthesis.funnel.counts.get(stage, {}),
                groups,
                journey,
                language,
            )
        )
    moments = ["<b>" + gettext("Past each moment") + "</b>"]
    titles = {moment.number: moment.title for moment in journey.moments}
    for number, counts in sorted(synthesis.moments.items()):
        label = gettext("Moment {number} · {title}").format(
            number=number, title=rendering.local(titles.get(number, {"fr": ""}), language)
        )
        moments.append(_with_groups(label, counts, groups, journey, language))
    return [funnel, moments]


def _with_groups(
    label: str,
    counts: Mapping[str, int],
    groups: Sequence[str],
    journey: Journey,
    language: str,
) -> str:
    """A count in all, in bold, then per group."""
    line = _labelled(label, f"<b>{rendering.number(counts.get(ALL, 0), language)}</b>", language)
    detail = " · ".join(
        f"{_group(journey, group, language)} {rendering.number(counts.get(group, 0), language)}"
        for group in groups
    )
    return f"{line} ({detail})" if detail else line


def _phase1(journey: Journey, synthesis: Synthesis, language: str) -> list[Paragraph]:
    gettext = rendering.translator(language)
    paragraphs: list[Paragraph] = [["<b>" + gettext("Phase 1") + "</b>"]]
    for moment in journey.moments:
        if moment.deferred:
            continue  # asked later: the synthesis does not cover it
        heading = (
            "<b>"
            + gettext("Moment {number} · {title}").format(
                number=moment.number, title=rendering.local(moment.title, language)
            )
            + "</b>"
        )
        for prompt in moment.prompts:
            lines = [f"<i>{rendering.local(prompt.text, language)}</i>"]
            if prompt.kind == "scale":
                lines += _scale_lines(
                    journey, synthesis.scales.get(prompt.id, {}), synthesis.min_group, language
                )
            elif prompt.kind == "choice":
                choices = synthesis.choices.get(prompt.id, {})
                lines += _choice_lines(journey, prompt, choices, synthesis.min_group, language)
            elif prompt.id in synthesis.texts:
                summary = synthesis.texts[prompt.id]
                lines += _summary_lines(
                    summary, _count(summary.respondents, "answer", language), language
                )
            else:
                lines.append(_too_few(synthesis.min_group, language))
            if heading:
                lines.insert(0, heading)
                heading = ""  # the moment's title goes with its first question
            paragraphs.append(lines)
    return paragraphs


def _scale_lines(
    journey: Journey, scales: Mapping[str, ScaleSummary], min_group: int, language: str
) -> list[str]:
    gettext = rendering.translator(language)
    if not scales:
        return [_too_few(min_group, language)]
    return [
        gettext(
            "{group} ({count}): median {median}, quartiles {q1}–{q3}, from 1 to 5: {distribution}"
        ).format(
            group=_group(journey, group, language),
            count=rendering.number(summary.count, language),
            median=_decimal(summary.median, language),
            q1=_decimal(summary.q1, language),
            q3=_decimal(summary.q3, language),
            distribution="·".join(rendering.number(n, language) for n in summary.distribution),
        )
        for group, summary in _groups_then_all(journey, scales)
    ]


def _choice_lines(
    journey: Journey,
    prompt: Prompt,
    choices: Mapping[str, Counter[str]],
    min_group: int,
    language: str,
) -> list[str]:
    if not choices:
        return [_too_few(min_group, language)]
    return [
        _labelled(
            f"{_group(journey, group, language)} ({rendering.number(counter.total(), language)})",
            _options(prompt, counter, language, top=len(counter)),
            language,
        )
        for group, counter in _groups_then_all(journey, choices)
    ]


def _phase2(journey: Journey, synthesis: Synthesis, language: str) -> list[Paragraph]:
    gettext = rendering.translator(language)
    ngettext = translations(language).ngettext
    peers = journey.peers
    if peers is None:
        return []
    paragraphs: list[Paragraph] = [
        [
            "<b>"
            + gettext("Phase 2 · {title}").format(title=rendering.local(peers.title, language))
            + "</b>",
            gettext("What each group says about itself"),
        ]
    ]
    for prompt in peers.own:
        per_category = synthesis.own.get(prompt.id, {})
        for category in _ordered(journey, per_category):
            summary = per_category[category]
            text = labels.filled(journey, prompt.text, language, own=category, about=None)
            paragraphs.append(
                [
                    f"<b>{labels.category_name(journey, category, language)}</b> · <i>{text}</i>",
                    *_summary_lines(
                        summary, _count(summary.respondents, "answer", language), language
                    ),
                ]
            )
    for template in peers.about:
        table = synthesis.pairs.get(template.id)
        if table is None:
            continue  # a list question: its requests come below
        lines = [f"<b>{_about_title(template, language)}</b>"]
        for source, target in _ordered_pairs(journey, table):
            counter = table[(source, target)]
            pair = _pair(journey, source, target, language)
            if template.kind == "choice":
                option, count = _ranked(template, counter)[0]
                lines.append(
                    gettext("{pair}: mostly {option} ({count} of {total})").format(
                        pair=pair,
                        option=_option(template, option, language),
                        count=rendering.number(count, language),
                        total=rendering.number(counter.total(), language),
                    )
                )
            else:
                lines.append(
                    _labelled(
                        pair, _options(template, counter, language, top=TOP_OPTIONS), language
                    )
                )
        if not table:
            lines.append(_too_few(synthesis.min_group, language))
        paragraphs.append(lines)
        other = synthesis.others.get(template.id)
        if other is not None:
            paragraphs.append(
                [
                    gettext("Other answers, in their own words"),
                    *_summary_lines(other, _count(other.respondents, "answer", language), language),
                ]
            )
    paragraphs.append(
        [
            "🗣️ <b>" + gettext("Requests") + "</b>",
            *(
                []
                if synthesis.requests
                else [
                    ngettext(
                        "No group has requests from {count} author or more yet.",
                        "No group has requests from {count} authors or more yet.",
                        synthesis.min_group,
                    ).format(count=rendering.number(synthesis.min_group, language))
                ]
            ),
        ]
    )
    for source, target in _ordered_pairs(journey, synthesis.requests):
        summary = synthesis.requests[(source, target)]
        paragraphs.append(
            [
                f"<b>{_pair(journey, source, target, language)}</b>",
                *_summary_lines(
                    summary, _count(summary.respondents, "request", language), language
                ),
            ]
        )
    paragraphs.append(
        [
            "🤝 <b>" + gettext("Commitments") + "</b>",
            *(
                []
                if synthesis.commitments
                else [gettext("No group has enough commitments to show yet.")]
            ),
        ]
    )
    for category in _ordered(journey, synthesis.commitments):
        summary = synthesis.commitments[category]
        paragraphs.append(
            [
                f"<b>{labels.category_name(journey, category, language)}</b>",
                *_summary_lines(
                    summary, _count(summary.respondents, "commitment", language), language
                ),
            ]
        )
    return paragraphs


def _about_title(template: Prompt, language: str) -> str:
    """The default journey's closed questions about the others, named for a reader who
    does not have the questionnaire in mind; another journey's by their id."""
    gettext = rendering.translator(language)
    titles = {
        "rel": gettext("Relations: how each group sees its relation with each other group"),
        "obs": gettext("Obstacles: what gets in the way, the three most chosen"),
        "lev": gettext("Levers: what would help, the three most chosen"),
    }
    return titles.get(template.id) or f"<code>{escape(template.id)}</code>"


def _agora(journey: Journey, synthesis: Synthesis, language: str) -> list[Paragraph]:
    gettext = rendering.translator(language)
    ngettext = translations(language).ngettext
    paragraphs: list[Paragraph] = [
        [
            "🏛️ <b>" + gettext("The agora") + "</b>",
            ngettext(
                "{count} statement has {votes} votes or more: {consensus} consensus, "
                "{divisive} divisive, {uncertain} uncertain.",
                "{count} statements have {votes} votes or more: {consensus} consensus, "
                "{divisive} divisive, {uncertain} uncertain.",
                len(synthesis.statements),
            ).format(
                count=rendering.number(len(synthesis.statements), language),
                votes=rendering.number(synthesis.min_group, language),
                consensus=rendering.number(len(synthesis.consensus), language),
                divisive=rendering.number(len(synthesis.divisive), language),
                uncertain=rendering.number(len(synthesis.uncertain), language),
            ),
        ]
    ]
    sections = [
        (
            gettext("Proposed resolutions"),
            gettext(
                "The consensus statements (agreed in every group shown), the most broadly "
                "agreed first."
            ),
            synthesis.resolutions,
        ),
        (
            gettext("Divisive statements"),
            gettext("Agreed in one group, disagreed in another."),
            synthesis.divisive,
        ),
        (
            gettext("Uncertain statements"),
            gettext("{share} of the reactions or more were passes.").format(
                share=format_percent(UNCERTAIN_SHARE, locale=language)
            ),
            synthesis.uncertain,
        ),
    ]
    for title, explanation, results in sections:
        paragraphs.append([f"<b>{title}</b>", explanation if results else gettext("None.")])
        for result in results:
            paragraphs.append(_statement_lines(journey, result, language))
    return paragraphs


def _statement_lines(journey: Journey, result: StatementResult, language: str) -> Paragraph:
    gettext = rendering.translator(language)
    statement = result.statement
    lines = [
        f"<b>{statement.number}.</b> " + labels.statement_heading(journey, statement, language),
        _quoted(statement.text, language),
        _tally_line(gettext("All"), result.overall, language),
    ]
    lines += [
        _tally_line(_group(journey, group, language), tally, language)
        for group, tally in _groups_then_all(journey, result.by_group)
    ]
    if result.consensus:
        lines.append(
            gettext("Group-aware consensus: {score}").format(
                score=_probability(result.group_consensus, language)
            )
        )
    return lines


# -- the Markdown document --------------------------------------------------------------


def markdown_report(journey: Journey, synthesis: Synthesis, language: str) -> str:
    """The whole synthesis as a document to keep or print, the charts' figures as tables
    (nothing is cut: a file has no length limit)."""
    gettext = rendering.translator(language)
    out: list[str] = [
        "# "
        + _md(
            gettext("Synthesis · {title}").format(title=rendering.plain(journey.title, language))
        ),
        "",
        *(_md_of_html(line) + "  " for line in _threshold_lines(journey, synthesis, language)),
        "",
    ]
    out += _md_participation(journey, synthesis, language)
    out += _md_phase1(journey, synthesis, language)
    out += _md_phase2(journey, synthesis, language)
    out += _md_agora(journey, synthesis, language)
    return "\n".join(out).rstrip() + "\n"


def _md_participation(journey: Journey, synthesis: Synthesis, language: str) -> list[str]:
    gettext = rendering.translator(language)
    groups = (ALL, *synthesis.categories.groups)
    out = ["## " + _md(gettext("Participation")), ""]
    out += _table(
        [_md(gettext("Stage")), *(_md_group(journey, g, language) for g in groups)],
        [
            [
                _md_of_html(_stage(stage, language)),
                *(
                    rendering.number(synthesis.funnel.counts.get(stage, {}).get(g, 0), language)
                    for g in groups
                ),
            ]
            for stage in synthesis.funnel.stages
        ],
        numeric_from=1,
    )
    titles = {moment.number: moment.title for moment in journey.moments}
    out += ["### " + _md(gettext("Past each moment")), ""]
    out += _table(
        [_md(gettext("Moment")), *(_md_group(journey, g, language) for g in groups)],
        [
            [
                _md_of_html(
                    gettext("Moment {number} · {title}").format(
                        number=number,
                        title=rendering.local(titles.get(number, {"fr": ""}), language),
                    )
                ),
                *(rendering.number(counts.get(g, 0), language) for g in groups),
            ]
            for number, counts in sorted(synthesis.moments.items())
        ],
        numeric_from=1,
    )
    return out


def _md_phase1(journey: Journey, synthesis: Synthesis, language: str) -> list[str]:
    gettext = rendering.translator(language)
    prompts = journey.live_prompts()
    out = ["## " + _md(gettext("Phase 1")), ""]
    out += ["### " + _md(gettext("Self-assessments (1 to 5)")), ""]
    rows = []
    for prompt in prompts:
        scales = _groups_then_all(journey, synthesis.scales.get(prompt.id, {}))
        for index, (group, scale) in enumerate(scales):
            rows.append(
                [
                    _md_prompt(journey, prompt, language) if index == 0 else "",
                    _md_group(journey, group, language),
                    rendering.number(scale.count, language),
                    _decimal(scale.median, language),
                    f"{_decimal(scale.q1, language)} – {_decimal(scale.q3, language)}",
                    *(rendering.number(n, language) for n in scale.distribution),
                ]
            )
    out += _table(
        [
            _md(gettext("Question")),
            _md(gettext("Group")),
            _md(gettext("Count")),
            _md(gettext("Median")),
            _md(gettext("Quartiles")),
            "1",
            "2",
            "3",
            "4",
            "5",
        ],
        rows,
        numeric_from=2,
    )
    for prompt in prompts:
        choices = synthesis.choices.get(prompt.id)
        if prompt.kind != "choice" or not choices:
            continue
        groups = [group for group, _ in _groups_then_all(journey, choices)]
        out += ["### " + _md_prompt(journey, prompt, language), ""]
        ids = [option.id for option in prompt.options] + sorted(
            {value for counter in choices.values() for value in counter}
            - {option.id for option in prompt.options}
        )
        out += _table(
            [_md(gettext("Answer")), *(_md_group(journey, g, language) for g in groups)],
            [
                [
                    _md_of_html(_option(prompt, option, language)),
                    *(rendering.number(choices[g][option], language) for g in groups),
                ]
                for option in ids
            ],
            numeric_from=1,
        )
    for prompt in prompts:
        summary = synthesis.texts.get(prompt.id)
        if summary is not None:
            out += ["### " + _md_prompt(journey, prompt, language), ""]
            out += _md_summary(summary, _count(summary.respondents, "answer", language), language)
    return out


def _md_phase2(journey: Journey, synthesis: Synthesis, language: str) -> list[str]:
    gettext = rendering.translator(language)
    peers = journey.peers
    if peers is None:
        return []
    out = [
        "## "
        + _md(gettext("Phase 2 · {title}").format(title=rendering.plain(peers.title, language))),
        "",
        "### " + _md(gettext("What each group says about itself")),
        "",
    ]
    for prompt in peers.own:
        per_category = synthesis.own.get(prompt.id, {})
        for category in _ordered(journey, per_category):
            text = labels.filled(journey, prompt.text, language, own=category, about=None)
            summary = per_category[category]
            out += [f"#### {_md_group(journey, category, language)} · {_md_of_html(text)}", ""]
            out += _md_summary(summary, _count(summary.respondents, "answer", language), language)
    for template in peers.about:
        table = synthesis.pairs.get(template.id)
        if table is None:
            continue
        out += ["### " + _md_of_html(_about_title(template, language)), ""]
        if template.kind == "choice":
            sources = _ordered(journey, {source for source, _ in table})
            targets = _ordered(journey, {target for _, target in table})
            rows = []
            for source in sources:
                row = [_md_group(journey, source, language)]
                for target in targets:
                    counter = table.get((source, target))
                    if counter:
                        option, count = _ranked(template, counter)[0]
                        row.append(
                            f"{_md_of_html(_option(template, option, language))} "
                            f"({rendering.number(count, language)})"
                        )
                    else:
                        row.append("—")
                rows.append(row)
            out += _table(
                [_md(gettext("From → to")), *(_md_group(journey, t, language) for t in targets)],
                rows,
            )
        else:
            pairs = _ordered_pairs(journey, table)
            options = [option.id for option in template.options]
            out += _table(
                [
                    _md(gettext("From → to")),
                    *(_md_of_html(_option(template, o, language)) for o in options),
                ],
                [
                    [
                        _md_of_html(_pair(journey, source, target, language)),
                        *(rendering.number(table[(source, target)][o], language) for o in options),
                    ]
                    for source, target in pairs
                ],
                numeric_from=1,
            )
        other = synthesis.others.get(template.id)
        if other is not None:
            out += ["#### " + _md(gettext("Other answers, in their own words")), ""]
            out += _md_summary(other, _count(other.respondents, "answer", language), language)
    out += ["### " + _md(gettext("Requests")), ""]
    for source, target in _ordered_pairs(journey, synthesis.requests):
        summary = synthesis.requests[(source, target)]
        out += ["#### " + _md_of_html(_pair(journey, source, target, language)), ""]
        out += _md_summary(summary, _count(summary.respondents, "request", language), language)
    out += ["### " + _md(gettext("Commitments")), ""]
    for category in _ordered(journey, synthesis.commitments):
        summary = synthesis.commitments[category]
        out += ["#### " + _md_group(journey, category, language), ""]
        out += _md_summary(summary, _count(summary.respondents, "commitment", language), language)
    return out


def _md_agora(journey: Journey, synthesis: Synthesis, language: str) -> list[str]:
    gettext = rendering.translator(language)
    results = sorted(synthesis.statements, key=lambda r: r.statement.number)
    groups = [
        group
        for group, _ in _groups_then_all(
            journey, {g: None for result in results for g in result.by_group}
        )
    ]
    yes = "✓"
    out = ["## " + _md(gettext("The agora")), ""]
    out += _table(
        [
            _md(gettext("No.")),
            _md(gettext("Kind")),
            _md(gettext("From → to")),
            _md(gettext("Statement")),
            _md(gettext("Agree")),
            _md(gettext("Disagree")),
            _md(gettext("Pass")),
            *(
                _md(
                    gettext("p(agree) {group}").format(
                        group=_md_of_html(_group(journey, g, language))
                    )
                )
                for g in groups
            ),
            _md(gettext("Consensus")),
            _md(gettext("Divisive")),
            _md(gettext("Uncertain")),
        ],
        [
            [
                str(result.statement.number),
                _md(_kind(result.statement.kind, language)),
                _md_of_html(
                    _pair(
                        journey,
                        result.statement.source_category,
                        result.statement.target_category,
                        language,
                    )
                    if result.statement.target_category
                    else labels.category_name(journey, result.statement.source_category, language)
                ),
                _md(result.statement.text),
                rendering.number(result.overall.agree, language),
                rendering.number(result.overall.disagree, language),
                rendering.number(result.overall.passed, language),
                *(
                    _probability(result.by_group[g].p_agree, language)
                    if g in result.by_group
                    else "—"
                    for g in groups
                ),
                yes if result.consensus else "",
                yes if result.divisive else "",
                yes if result.uncertain else "",
            ]
            for result in results
        ],
    )
    out += ["### " + _md(gettext("Proposed resolutions")), ""]
    if not synthesis.resolutions:
        out += [_md(gettext("No statement was agreed by every group.")), ""]
    for rank, result in enumerate(synthesis.resolutions, start=1):
        out.append(
            f"{rank}. "
            + _md(
                gettext("Statement {number}: {text} (group-aware consensus {score})").format(
                    number=result.statement.number,
                    text=result.statement.text,
                    score=_probability(result.group_consensus, language),
                )
            )
        )
    out.append("")
    return out


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric_from: int = 99
) -> list[str]:
    """A Markdown table; its cells are already escaped. Columns from `numeric_from` on hold
    numbers and are right-aligned."""
    if not rows:
        return []
    rule = ["---:" if index >= numeric_from else "---" for index in range(len(header))]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(rule) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _md_summary(summary: TextSummary, count: str, language: str) -> list[str]:
    out = [_md_of_html(count) + "  ", _md_of_html(_themes(summary, language)), ""]
    for quote in summary.quotes:
        out += [f"> {_md(quote)}", ""]
    return out


def _md(text: str) -> str:
    """User or journey text made inert in Markdown: no emphasis, link, HTML or table
    separator, and on one line (a newline would end a table row)."""
    return _NEWLINES.sub(" ", _MARKDOWN_SPECIAL.sub(r"\\\1", text)).strip()


def _md_of_html(text: str) -> str:
    """A label built for Telegram (escaped, maybe in tags) as Markdown text."""
    return _md(unescape(_TAG.sub("", text)))


def _md_group(journey: Journey, group: str, language: str) -> str:
    return _md_of_html(_group(journey, group, language))


def _md_prompt(journey: Journey, prompt: Prompt, language: str) -> str:
    text = _md(rendering.plain(prompt.text, language))
    return f"M{prompt.moment_number} · {text}" if prompt.moment_number else text


# -- shared pieces ----------------------------------------------------------------------


def _messages(paragraphs: Iterable[Paragraph]) -> list[str]:
    """Paragraphs as messages: each cut between its lines when it does not fit in one."""
    blocks: list[str] = []
    for lines in paragraphs:
        current: list[str] = []
        size = 0
        for line in map(_fit, lines):
            length = _units(line)
            if current and size + 1 + length > rendering.MESSAGE_LIMIT:
                blocks.append("\n".join(current))
                current, size = [], 0
            size += length + (1 if current else 0)
            current.append(line)
        if current:
            blocks.append("\n".join(current))
    return rendering.split_message(blocks)


def _fit(line: str) -> str:
    """A line longer than a message (never expected: user texts are cut short) loses its
    tags and is cut, rather than be cut in the middle of a tag."""
    if _units(line) <= rendering.MESSAGE_LIMIT:
        return line
    return rendering.excerpt(unescape(_TAG.sub("", line)), 600)


def _units(text: str) -> int:
    """Telegram counts a message's length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _labelled(label: str, value: str, language: str) -> str:
    gettext = rendering.translator(language)
    return gettext("{label}: {value}").format(label=label, value=value)


def _stage(stage: str, language: str) -> str:
    gettext = rendering.translator(language)
    labels = {
        "joined": gettext("Joined"),
        "consented": gettext("Agreed to take part"),
        "active": gettext("Answered at least once"),
        "phase1": gettext("Through phase 1"),
        "finished": gettext("Finished"),
    }
    return labels.get(stage) or escape(stage)


def _group(journey: Journey, group: str, language: str) -> str:
    """A group's name, escaped: a category's label, or Others, or All."""
    gettext = rendering.translator(language)
    if group == ALL:
        return gettext("All")
    if group == OTHERS:
        return gettext("Others")
    return labels.category_name(journey, group, language)


def _pair(journey: Journey, source: str, target: str | None, language: str) -> str:
    source_name = labels.category_name(journey, source, language)
    return f"{source_name} → {labels.category_name(journey, target, language)}"


def _kind(kind: str, language: str) -> str:
    gettext = rendering.translator(language)
    kinds = {
        "request": gettext("Request"),
        "commitment": gettext("Commitment"),
        "proposal": gettext("Proposal"),
    }
    return kinds.get(kind, kind)


def _order_key(journey: Journey) -> dict[str, int]:
    return {
        group: index
        for index, group in enumerate([*(c.id for c in journey.categories), OTHERS, ALL])
    }


def _ordered(journey: Journey, groups: Iterable[str]) -> list[str]:
    """Groups in the journey's order of categories, then Others, then All."""
    rank = _order_key(journey)
    return sorted(groups, key=lambda group: (rank.get(group, len(rank)), group))


def _groups_then_all(journey: Journey, values: Mapping[str, T]) -> list[tuple[str, T]]:
    return [(group, values[group]) for group in _ordered(journey, values)]


def _ordered_pairs(journey: Journey, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    rank = _order_key(journey)
    return sorted(
        pairs, key=lambda pair: (rank.get(pair[0], len(rank)), rank.get(pair[1], len(rank)), pair)
    )


def _ranked(prompt: Prompt, counter: Counter[str]) -> list[tuple[str, int]]:
    """Options by how often they were chosen; a tie goes to the journey's order."""
    order = {option.id: index for index, option in enumerate(prompt.options)}
    return sorted(
        ((option, count) for option, count in counter.items() if count),
        key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]),
    )


def _option(prompt: Prompt, option_id: str, language: str) -> str:
    option = prompt.option(option_id)
    return rendering.local(option.label, language) if option else escape(option_id)


def _options(prompt: Prompt, counter: Counter[str], language: str, *, top: int) -> str:
    return " · ".join(
        f"{_option(prompt, option, language)} ({rendering.number(count, language)})"
        for option, count in _ranked(prompt, counter)[:top]
    )


def _count(count: int, what: str, language: str) -> str:
    ngettext = translations(language).ngettext
    shown = rendering.number(count, language)
    if what == "request":
        return ngettext("{count} request", "{count} requests", count).format(count=shown)
    if what == "commitment":
        return ngettext("{count} commitment", "{count} commitments", count).format(count=shown)
    return ngettext("{count} answer", "{count} answers", count).format(count=shown)


def _too_few(min_group: int, language: str) -> str:
    ngettext = translations(language).ngettext
    return ngettext(
        "Fewer than {count} answer: not shown.",
        "Fewer than {count} answers: not shown.",
        min_group,
    ).format(count=rendering.number(min_group, language))


def _themes(summary: TextSummary, language: str) -> str:
    gettext = rendering.translator(language)
    if not summary.themes:
        return gettext("No theme is shared by two answers or more.")
    return gettext("Themes: {themes}").format(
        themes=" · ".join(
            f"{rendering.excerpt(theme.word, THEME_LIMIT)} "
            f"({rendering.number(theme.count, language)})"
            for theme in summary.themes
        )
    )


def _summary_lines(summary: TextSummary, count: str, language: str) -> list[str]:
    """How many, the themes, then the typical answers, each cut short: an answer can be
    thousands of characters long, a message holds 4,096."""
    return [
        count,
        _themes(summary, language),
        *(
            f"<blockquote>{rendering.excerpt(quote, QUOTE_LIMIT)}</blockquote>"
            for quote in summary.quotes
        ),
    ]


def _quoted(text: str, language: str) -> str:
    """A statement between the language's quotation marks, as the agora shows it."""
    short = rendering.excerpt(text, STATEMENT_LIMIT)
    return f"« {short} »" if language == "fr" else f"“{short}”"


def _tally_line(label: str, tally: Tally, language: str) -> str:
    icons = labels.VOTE_ICONS
    counts = " · ".join(
        f"{icons[value]} {rendering.number(count, language)}"
        for value, count in (
            ("agree", tally.agree),
            ("disagree", tally.disagree),
            ("pass", tally.passed),
        )
    )
    return _labelled(label, counts, language)


def _decimal(value: float, language: str) -> str:
    return format_decimal(value, locale=language)


def _probability(value: float, language: str) -> str:
    return format_decimal(value, format="0.00", locale=language)
