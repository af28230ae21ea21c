"""Charts of the synthesis as PNG pictures, to show next to its text.

Each chart is drawn on its own `Figure` with the Agg canvas, without pyplot: no display
is needed and nothing is kept between charts. They are sized and lettered to be read on
a phone (1200 px wide, 12 pt text), in Okabe–Ito's colours and a perceptually uniform
colour map, which colour-blind readers tell apart. Texts from users or from the journey
are shown as plain text, never as mathematical notation.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

from flows.journey import Journey, Prompt
from flows.kinds import VoteValue
from flows.synthesis import ALL, OTHERS, StatementResult, Synthesis
from reports.text import number, percent, plain, translator

if TYPE_CHECKING:  # matplotlib (and numpy under it) is loaded with the first chart drawn:
    # about half of the bot's memory at rest, for a feature used a few times a workshop.
    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 8.0, 6.0, 150  # inches: 1200 × 900 px, a phone's width
FONT, TITLE_FONT = 12, 15
# Okabe & Ito's palette, which readers with any common colour blindness tell apart.
BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, YELLOW, BLACK = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
GROUP_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, YELLOW)
# Shapes too, so that groups differ by more than their colour.
GROUP_MARKERS = ("o", "s", "D", "^", "v", "P", "X")
VOTE_COLOURS = {VoteValue.AGREE: GREEN, VoteValue.DISAGREE: VERMILLION, VoteValue.PASS: "#999999"}
HEAT_MAP = "viridis"
GRID, MUTED = "#DDDDDD", "#666666"
NO_DATA = "—"
STATEMENT_CHARS = 40
AGORA_LIMIT = 12


@dataclass(frozen=True)
class ChartLabels:
    """The words the charts show, in one language: the interface's through gettext,
    the categories' from the journey."""

    language: str
    categories: Mapping[str, str]  # category id -> its group's name ("Elected officials")
    everyone: str
    others: str
    too_few: str  # what a dash stands for
    stages: Mapping[str, str]  # funnel stage -> its name
    votes: Mapping[VoteValue, str]  # agree, disagree, pass -> its name
    relations: Mapping[str, str]  # option of the relation gradient -> its short name
    profile_title: str
    profile_axis: str
    funnel_title: str
    funnel_axis: str
    relation_title: str
    relation_axis: str
    sentence: Mapping[str, str]  # category id -> its group's name inside a sentence
    agora_title: str
    agora_axis: str

    def group(self, group_id: str) -> str:
        """A group of the synthesis (a category, "others" or everyone) by its name."""
        if group_id == ALL:
            return self.everyone
        if group_id == OTHERS:
            return self.others
        return self.categories.get(group_id, group_id)


def chart_labels(journey: Journey, language: str) -> ChartLabels:
    """The charts' words in `language` (a supported language code)."""
    gettext = translator(language)
    relation = _relation_prompt(journey)
    return ChartLabels(
        language=language,
        categories={c.id: _capitalised(plain(c.group, language)) for c in journey.categories},
        everyone=gettext("All"),  # as the syntheses' texts name everyone
        others=gettext("Other categories"),
        too_few=gettext("{label}: {value}").format(label=NO_DATA, value=gettext("too few answers")),
        stages={
            "joined": gettext("Joined"),
            "consented": gettext("Consented"),
            "active": gettext("Answered once or more"),
            "phase1": gettext("Through phase 1"),
            "finished": gettext("Finished"),
        },
        votes={
            VoteValue.AGREE: gettext("Agree"),
            VoteValue.DISAGREE: gettext("Disagree"),
            VoteValue.PASS: gettext("Pass"),
        },
        relations={
            # "Distant: little or no contact" → "Distant": the label's head is enough.
            option.id: plain(option.label, language).split(":")[0].strip()
            for option in (relation.options if relation else ())
        },
        profile_title=gettext("Self-assessments: average answer per group"),
        profile_axis=gettext("Average answer, from 1 (low) to 5 (high)"),
        funnel_title=gettext("Participation"),
        funnel_axis=gettext("Participants"),
        relation_title=gettext("How each group sees its relation with the others"),
        relation_axis=gettext("Answers"),
        sentence={c.id: plain(c.group, language) for c in journey.categories},
        agora_title=gettext("Agora: votes per statement"),
        agora_axis=gettext("Share of votes"),
    )


# -- the charts -------------------------------------------------------------------------


def profile_chart(journey: Journey, synthesis: Synthesis, labels: ChartLabels) -> bytes:
    """Every self-assessment of phase 1 in one picture, a row each: the average answer of
    each group as a dot, and a line from the lowest to the highest, to show where groups
    differ. Rows with too few answers show a dash, which the legend explains."""
    prompts = [p for p in journey.live_prompts() if p.kind == "scale"]
    groups = _profile_groups(synthesis, prompts)
    figure, axes = _figure(max(HEIGHT, 2.5 + 0.45 * len(prompts)))
    spread = 0.5  # the groups' dots share a row, one above the other
    for index, group in enumerate(groups):
        offset = spread * (index / (len(groups) - 1) - 0.5) if len(groups) > 1 else 0.0
        rows = [
            (row, summary.mean)
            for row, prompt in enumerate(prompts)
            if (summary := synthesis.scales.get(prompt.id, {}).get(group)) is not None
        ]
        axes.scatter(
            [mean for _, mean in rows],
            [row + offset for row, _ in rows],
            s=80,
            color=BLACK if group == ALL else GROUP_COLOURS[index % len(GROUP_COLOURS)],
            marker=GROUP_MARKERS[index % len(GROUP_MARKERS)],
            edgecolors="white",
            linewidths=0.8,
            label=_literal(labels.group(group)),
            zorder=3,
        )
    dashed = False
    for row, prompt in enumerate(prompts):
        means = [
            summary.mean
            for group, summary in synthesis.scales.get(prompt.id, {}).items()
            if group in groups
        ]
        if means:
            axes.hlines(row, min(means), max(means), color=GRID, linewidth=3, zorder=1)
        else:
            axes.text(3, row, NO_DATA, ha="center", va="center", fontsize=FONT, color=MUTED)
            dashed = True
    axes.set_yticks(
        range(len(prompts)), [_literal(n) for n in _scale_names(journey, prompts, labels)]
    )
    axes.set_ylim(len(prompts) - 0.5, -0.5)  # the first moment at the top
    axes.set_xlim(0.7, 5.3)
    axes.set_xticks(range(1, 6), [str(value) for value in range(1, 6)])
    axes.grid(axis="x", color=GRID)
    axes.set_axisbelow(True)
    axes.set_xlabel(_literal(labels.profile_axis), fontsize=FONT)
    axes.set_title(_literal(labels.profile_title), fontsize=TITLE_FONT)
    _unframe(axes)
    if dashed:  # an entry with no mark: its text says what the dash means
        axes.plot([], [], " ", label=_literal(labels.too_few))
    if groups or dashed:
        figure.legend(loc="outside lower center", ncols=2, fontsize=FONT, frameon=False)
    return _png(figure)


def funnel_chart(synthesis: Synthesis, labels: ChartLabels) -> bytes:
    """How many took each step, from joining to finishing, with the share of those who
    joined."""
    stages = synthesis.funnel.stages
    counts = [synthesis.funnel.counts.get(stage, {}).get(ALL, 0) for stage in stages]
    joined = counts[0] if counts else 0
    figure, axes = _figure()
    axes.barh(range(len(stages)), counts, height=0.6, color=BLUE)
    for row, count in enumerate(counts):
        text = number(count, labels.language)
        if joined and row:
            text += f"  ({percent(count / joined, labels.language)})"
        axes.text(count, row, "  " + text, va="center", fontsize=FONT)
    axes.set_yticks(range(len(stages)), [_literal(labels.stages.get(s, s)) for s in stages])
    axes.set_ylim(len(stages) - 0.5, -0.5)
    axes.set_xlim(0, max(1, max(counts, default=0)) * 1.3)  # room for the figures
    _integer_ticks(axes)
    axes.set_xlabel(_literal(labels.funnel_axis), fontsize=FONT)
    axes.set_title(_literal(labels.funnel_title), fontsize=TITLE_FONT)
    _unframe(axes)
    return _png(figure)


def relation_counts(journey: Journey, synthesis: Synthesis) -> dict[tuple[str, str], list[int]]:
    """Per (from, to) pair shown, how many chose each relation of the gradient, in its
    order (the most distant first): counts, as a person reads them, never a mean."""
    prompt = _relation_prompt(journey)
    if prompt is None:
        return {}
    counts = {
        pair: [counter.get(option.id, 0) for option in prompt.options]
        for pair, counter in synthesis.pairs.get(prompt.id, {}).items()
    }
    return {pair: row for pair, row in counts.items() if any(row)}


def relation_chart(journey: Journey, synthesis: Synthesis, labels: ChartLabels) -> bytes | None:
    """How each group sees its relation with each other group (a bar per pair, « Les
    élus → les agents de collectivité »): how many chose each relation, from the most
    distant to the closest, with its count. Pairs not shown (too few answers) have no
    bar. None when no pair is shown."""
    prompt = _relation_prompt(journey)
    counts = relation_counts(journey, synthesis)
    if prompt is None or not counts:
        return None
    order = [c.id for c in journey.categories]
    rank = {category: index for index, category in enumerate(order)}
    pairs = sorted(counts, key=lambda pair: (rank.get(pair[0], 99), rank.get(pair[1], 99)))
    figure, axes = _figure(max(HEIGHT, 2.5 + 0.55 * len(pairs)))
    from matplotlib import colormaps

    palette = colormaps[HEAT_MAP]
    levels = max(1, len(prompt.options) - 1)
    rows = range(len(pairs))
    starts = [0] * len(pairs)
    for index, option in enumerate(prompt.options):
        widths = [counts[pair][index] for pair in pairs]
        if not any(widths):
            continue  # a relation nobody chose takes no room in the legend either
        bars = axes.barh(
            rows,
            widths,
            left=starts,
            height=0.7,
            color=palette(index / levels),
            label=_literal(labels.relations.get(option.id, option.id)),
        )
        _inside(
            axes,
            bars,
            [number(width, labels.language) if width else "" for width in widths],
            # Viridis is dark at its low end: white figures there, black above.
            "white" if index / levels < 0.5 else BLACK,
        )
        starts = [start + width for start, width in zip(starts, widths, strict=True)]
    names = [
        f"{labels.group(source)} → {labels.sentence.get(target, target)}"
        for source, target in pairs
    ]
    axes.set_yticks(rows, [_literal(_wrap(name, 30)) for name in names])
    axes.set_ylim(len(pairs) - 0.5, -0.5)
    _integer_ticks(axes)
    axes.set_xlabel(_literal(labels.relation_axis), fontsize=FONT)
    # Over the whole figure: the pairs' names take the left, the axes alone are too narrow.
    figure.suptitle(_literal(labels.relation_title), fontsize=TITLE_FONT)
    _unframe(axes)
    figure.legend(loc="outside lower center", ncols=3, fontsize=FONT, frameon=False)
    return _png(figure)


def agora_order(synthesis: Synthesis) -> list[StatementResult]:
    """The statements as the agora chart lists them, those that matter first: the
    consensus statements (the most broadly agreed first), then the divisive ones (the
    most evenly split first), then the others by number."""
    agreed = synthesis.agreed
    chosen = {id(result) for result in agreed}
    divisive = sorted(
        (result for result in synthesis.divisive if id(result) not in chosen),
        key=lambda result: (-_split(result), result.statement.number),
    )
    chosen |= {id(result) for result in divisive}
    rest = sorted(
        (result for result in synthesis.statements if id(result) not in chosen),
        key=lambda result: result.statement.number,
    )
    return [*agreed, *divisive, *rest]


def _split(result: StatementResult) -> float:
    """How evenly a statement split those who took a side: 1 for as many agreeing as
    disagreeing, 0 for one side only."""
    tally = result.overall
    sides = tally.agree + tally.disagree
    return 2 * min(tally.agree, tally.disagree) / sides if sides else 0.0


def agora_chart(
    synthesis: Synthesis, labels: ChartLabels, *, limit: int = AGORA_LIMIT
) -> bytes | None:
    """Per statement, the shares of agree, disagree and pass in one bar, the first
    listed at the top. None when no statement had enough votes."""
    results = agora_order(synthesis)[:limit]
    if not results:
        return None
    figure, axes = _figure(max(HEIGHT, 2.5 + 0.5 * len(results)))
    rows = range(len(results))
    starts = [0.0] * len(results)
    for vote in VoteValue:
        shares = [_share(result, vote) for result in results]
        bars = axes.barh(
            rows,
            shares,
            left=starts,
            height=0.7,
            color=VOTE_COLOURS[vote],
            label=_literal(labels.votes[vote]),
        )
        _inside(
            axes,
            bars,
            # A narrower segment has no room for its figure.
            [percent(share, labels.language) if share >= 0.1 else "" for share in shares],
            BLACK if vote == VoteValue.PASS else "white",
        )
        starts = [start + share for start, share in zip(starts, shares, strict=True)]
    axes.set_yticks(
        rows,
        [
            _literal(f"#{r.statement.number} {shorten(r.statement.text, STATEMENT_CHARS)}")
            for r in results
        ],
    )
    axes.set_ylim(len(results) - 0.5, -0.5)
    axes.set_xlim(0, 1)
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    axes.set_xticks(ticks, [percent(t, labels.language) for t in ticks])
    axes.set_xlabel(_literal(labels.agora_axis), fontsize=FONT)
    axes.set_title(_literal(labels.agora_title), fontsize=TITLE_FONT)
    _unframe(axes)
    figure.legend(loc="outside lower center", ncols=3, fontsize=FONT, frameon=False)
    return _png(figure)


# -- helpers ----------------------------------------------------------------------------


def _inside(axes: Axes, bars: BarContainer, texts: Sequence[str], colour: str) -> None:
    """Each segment's figure written in its middle (an empty text writes nothing)."""
    axes.bar_label(
        bars,
        labels=[_literal(text) for text in texts],
        label_type="center",
        fontsize=FONT,
        fontweight="bold",
        color=colour,
    )


def shorten(text: str, limit: int) -> str:
    """A user's text on one line, cut to `limit` characters with "…"."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _figure(height: float = HEIGHT) -> tuple[Figure, Axes]:
    """A figure of its own, on the Agg canvas: no pyplot, no global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.tick_params(labelsize=FONT)
    return figure, axes


def _integer_ticks(axes: Axes) -> None:
    """Counts on the axis: whole numbers only."""
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))


def _png(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    figure.clear()  # drop the artists now rather than at the next collection
    return buffer.getvalue()


def _unframe(axes: Axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _profile_groups(synthesis: Synthesis, prompts: Sequence[Prompt]) -> list[str]:
    """The groups with an answer somewhere: the categories shown, "others" if any scale
    has it, then everyone."""
    present = {group for p in prompts for group in synthesis.scales.get(p.id, {})}
    order = [*synthesis.categories.groups]
    if OTHERS not in order:
        order.append(OTHERS)
    return [group for group in (*order, ALL) if group in present]


def _scale_names(journey: Journey, prompts: Sequence[Prompt], labels: ChartLabels) -> list[str]:
    """Each scale by its moment: "1 · Disponibilité", or "7a", "7b" when a moment has
    several scales."""
    per_moment = Counter(p.moment_number for p in prompts)
    seen: Counter[int] = Counter()
    names = []
    for prompt in prompts:
        moment = prompt.moment_number
        seen[moment] += 1
        letter = chr(ord("a") + seen[moment] - 1) if per_moment[moment] > 1 else ""
        title = plain(journey.moment(moment).title, labels.language)
        names.append(f"{moment}{letter} · {title}")
    return names


def _relation_prompt(journey: Journey) -> Prompt | None:
    """The "about" prompt the journey marks as the relation gradient (`gradient = true`):
    its options run from the most distant relation to the closest."""
    if journey.peers is None:
        return None
    return next((p for p in journey.peers.about if p.gradient), None)


def _share(result: StatementResult, vote: VoteValue) -> float:
    tally = result.overall
    count = {
        VoteValue.AGREE: tally.agree,
        VoteValue.DISAGREE: tally.disagree,
        VoteValue.PASS: tally.passed,
    }[vote]
    return count / tally.votes if tally.votes else 0.0


def _capitalised(text: str) -> str:
    """A group's name where it stands alone, as a legend or an axis label: "Les élus"."""
    return text[:1].upper() + text[1:]


def _literal(text: str) -> str:
    """Text shown as written: matplotlib would read "$…$" as mathematics."""
    return text.replace("$", r"\$")


def _wrap(text: str, width: int) -> str:
    """A label on a few lines, broken between words only."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text
