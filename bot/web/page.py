"""The live screen's page: a workshop's snapshot as HTML, in the link's language.

One walk over the snapshot (`main_html`) gives what `<main>` holds; `page_html` wraps it
into the document the browser first receives, and the event stream carries later ones.
Everything from a person or the journey file is escaped here. The attributes the tests
and the page's script read are part of the shared interface: `data-phase`,
`data-version`, `data-joined`, `data-joined-total`, `data-join-qr`, `data-statement`,
`data-tally` (with `data-agree`, `data-disagree`, `data-pass`) and `data-votes-total`;
under the room's vote, `data-consensus-count`, `data-divisive-count` and
`data-resolutions-count`. Votes are always said in words beside their colours.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import lru_cache

import segno

from bot.views.board import deep_link
from flows.journey import Journey
from flows.kinds import VoteValue
from flows.screen import (
    GroupProgress,
    RoomView,
    ScreenPhase,
    ScreenResult,
    Snapshot,
)
from reports.labels import group_name, group_title, statement_heading
from reports.text import day, escape, ngettext_for, number, percent, plain, translator

STATIC = "/static"


@lru_cache(maxsize=64)
def join_qr(link: str, label: str) -> str:
    """The join link's QR code as inline SVG, dark on white, scaled by the page."""
    svg = segno.make(link, error="m").svg_inline(scale=1, omitsize=True, border=2, light="#fff")
    return svg.replace("<svg ", f'<svg data-join-qr role="img" aria-label="{escape(label)}" ', 1)


def _tag(name: str, text: str, kind: str | None = None) -> str:
    """An element holding a plain text, escaped."""
    attribute = f' class="{kind}"' if kind else ""
    return f"<{name}{attribute}>{escape(text)}</{name}>"


def phase_label(phase: ScreenPhase, language: str) -> str:
    gettext = translator(language)
    labels = {
        ScreenPhase.JOINING: gettext("Joining"),
        ScreenPhase.PHASE1: gettext("Phase 1: the moments"),
        ScreenPhase.PEERS: gettext("Phase 2: between peers"),
        ScreenPhase.CAUCUS: gettext("The groups choose their statements"),
        ScreenPhase.AGORA: gettext("The agora"),
        ScreenPhase.CLOSED: gettext("The agora is closed"),
    }
    return labels[phase]


def main_html(journey: Journey, snapshot: Snapshot, language: str, *, bot: str) -> str:
    """What the page's `<main>` holds for this snapshot: what matters in its phase first
    (`lead`), the headcount and the way to join beside it (`side`; under the resolutions
    when the agora's lists fill the page), so that a projector's 1920×1080 shows all of
    it without scrolling; on a phone they follow each other."""
    phase = snapshot.phase
    parts = [
        '<header class="top">',
        f'<h1>{escape(snapshot.title)}</h1><p class="phase">'
        f"{escape(phase_label(phase, language))}</p>",
        "</header>",
    ]
    joined = _joined(journey, snapshot, language)
    if phase in (ScreenPhase.JOINING, ScreenPhase.PHASE1):
        panels = [_join(snapshot, language, bot, big=True), joined]
        if phase == ScreenPhase.PHASE1:
            panels.append(_moments(journey, snapshot, language))
        return "\n".join([*parts, f'<div class="panels n{len(panels)}">', *panels, "</div>"])
    side = [joined]
    if phase != ScreenPhase.CLOSED:  # people may join late: its code stays shown
        side.append(_join(snapshot, language, bot, big=False))
    if phase in (ScreenPhase.PEERS, ScreenPhase.CAUCUS):
        lead = [_progress(journey, snapshot, language)]
        if phase == ScreenPhase.PEERS:  # who is still on the way
            lead.append(_moments(journey, snapshot, language, brief=True))
    elif snapshot.room is not None:  # the room votes: its statement, the rest in a line
        lead = [_room(journey, snapshot.room, snapshot, language), _counts(snapshot, language)]
    else:  # the agora's lists, the whole width
        aside = "\n".join(['<aside class="side">', *side, "</aside>"])
        return "\n".join([*parts, _summary(journey, snapshot, language, aside=aside)])
    return "\n".join(
        [
            *parts,
            '<div class="stage"><div class="lead">',
            *lead,
            '</div><aside class="side">',
            *side,
            "</aside></div>",
        ]
    )


def _join(snapshot: Snapshot, language: str, bot: str, *, big: bool) -> str:
    """The join QR code (a link on a phone), and the command for who cannot scan it."""
    gettext = translator(language)
    link = deep_link(bot, snapshot.code)
    send = escape(gettext("Or send /join {code} to @{bot}")).format(
        code=f"<code>{escape(snapshot.code)}</code>", bot=f"<b>{escape(bot)}</b>"
    )
    label = gettext("QR code to join the workshop")
    return "\n".join(
        [
            f'<section class="join{" big" if big else ""}">',
            f'<a class="qr" href="{escape(link)}">{join_qr(link, label)}</a>',
            _tag("p", gettext("Scan to join"), "scan"),
            f'<p class="send">{send}</p>',
            "</section>",
        ]
    )


def _hidden_note(snapshot: Snapshot, language: str, *, voters: bool = False) -> str:
    gettext = translator(language)
    text = (
        gettext("A group appears once at least {min} of its members have voted.")
        if voters
        else gettext("Groups of fewer than {min} people are not shown.")
    )
    return f'<p class="note">{escape(text.format(min=snapshot.min_group))}</p>'


def _joined(journey: Journey, snapshot: Snapshot, language: str) -> str:
    gettext = translator(language)
    ngettext = ngettext_for(language)
    total = ngettext("{count} person joined", "{count} people joined", snapshot.joined_total)
    before, _, after = total.partition("{count}")
    lines = [
        '<section class="joined">',
        _tag("h2", gettext("Who is here")),
        f'<p class="total">{escape(before)}<span data-joined-total>'
        f"{number(snapshot.joined_total, language)}</span>{escape(after)}</p>",
        '<ul class="groups">',
    ]
    for category in snapshot.categories:
        count = snapshot.joined.get(category)
        shown = "—" if count is None else number(count, language)
        lines.append(
            f'<li><span class="name">{group_title(journey, category, language)}</span>'
            f' <span class="count" data-joined="{escape(category)}">{shown}</span></li>'
        )
    lines.append("</ul>")
    if snapshot.choosing:
        choosing = gettext("Choosing their group: {count}").format(
            count=number(snapshot.choosing, language)
        )
        lines.append(f'<p class="note">{escape(choosing)}</p>')
    if snapshot.hidden:
        lines.append(_hidden_note(snapshot, language))
    lines.append("</section>")
    return "\n".join(lines)


def _moments(journey: Journey, snapshot: Snapshot, language: str, *, brief: bool = False) -> str:
    """How many stand at each moment, then waiting for or in phase 2, then finished;
    `brief` (phase 2 under way): the moments of phase 1 as one row."""
    gettext = translator(language)
    rows = [(gettext("Joining"), snapshot.at.get("joining", 0))]
    for moment in journey.moments:
        if not moment.deferred:
            title = gettext("{number}. {title}").format(
                number=moment.number, title=plain(moment.title, language)
            )
            rows.append((title, snapshot.at.get(str(moment.number), 0)))
    if brief:
        rows = [(gettext("Still in phase 1"), sum(count for _, count in rows))]
    rows += [
        (gettext("Waiting for phase 2"), snapshot.at.get("waiting", 0)),
        (gettext("In phase 2"), snapshot.at.get("peers", 0)),
        (gettext("Finished"), snapshot.at.get("finished", 0)),
    ]
    most = max([count for _, count in rows] + [1])
    kind = "moments brief" if brief else "moments"
    lines = [f'<section class="{kind}">', _tag("h2", gettext("Progress through the workshop"))]
    lines.append('<ol class="bars">')
    for title, count in rows:
        width = round(100 * count / most)
        lines.append(
            f'<li class="{"on" if count else "off"}"><span class="name">{escape(title)}</span>'
            f'<span class="bar"><span style="width:{width}%"></span></span>'
            f'<span class="count">{number(count, language)}</span></li>'
        )
    lines += ["</ol>", "</section>"]
    return "\n".join(lines)


def _progress(journey: Journey, snapshot: Snapshot, language: str) -> str:
    gettext = translator(language)
    caucus = snapshot.phase == ScreenPhase.CAUCUS
    heading = gettext("Choosing statements, by group") if caucus else gettext("Phase 2, by group")
    lines = ['<section class="progress">', f"<h2>{escape(heading)}</h2>", '<ul class="groups">']
    for group in snapshot.progress:
        lines.append(_group_progress(journey, group, language, caucus=caucus))
    lines.append("</ul>")
    if any(group.members is None for group in snapshot.progress):
        lines.append(_hidden_note(snapshot, language))
    lines.append("</section>")
    return "\n".join(lines)


def _group_progress(journey: Journey, group: GroupProgress, language: str, *, caucus: bool) -> str:
    gettext = translator(language)
    name = group_title(journey, group.category, language)
    if group.members is None:
        return (
            f'<li data-progress="{escape(group.category)}" class="hidden">'
            f'<span class="name">{name}</span> <span class="detail">—</span></li>'
        )
    finished = gettext("Finished phase 2: {done} of {count}").format(
        done=number(group.finished or 0, language), count=number(group.members, language)
    )
    details = [escape(finished)]
    if caucus and group.caucus_share is not None:
        share = gettext("Votes cast: {share}").format(share=percent(group.caucus_share, language))
        details.append(escape(share))
    fill = group.caucus_share if caucus and group.caucus_share is not None else None
    if fill is None:
        fill = (group.finished or 0) / group.members if group.members else 0.0
    return (
        f'<li data-progress="{escape(group.category)}"><span class="name">{name}</span>'
        f'<span class="bar"><span style="width:{round(100 * fill)}%"></span></span>'
        f'<span class="detail">{" · ".join(details)}</span></li>'
    )


def _length(text: str) -> str:
    """A statement's size class: the longer, the smaller its letters on the screen."""
    size = len(text)
    return (
        "short" if size <= 140 else "medium" if size <= 300 else "long" if size <= 600 else "huge"
    )


def _room(journey: Journey, room: RoomView, snapshot: Snapshot, language: str) -> str:
    """The statement the room is on, and its tally by group as votes arrive."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    place = gettext("Statement {position} of {total}").format(
        position=number(room.position, language), total=number(room.total, language)
    )
    status = gettext("Vote open") if room.vote_open else gettext("Vote closed")
    shown = dict(room.tally.shown)
    lines = [
        '<section class="room">',
        f'<p class="place">{escape(place)} · <span class="status">{escape(status)}</span></p>',
        f'<p class="kind">{statement_heading(journey, room.statement, language, icons=False)}</p>',
        f'<blockquote data-statement="{room.statement.number}"'
        f' class="{_length(room.statement.text)}">{escape(room.statement.text)}</blockquote>',
        '<ul class="tally">',
    ]
    for category in snapshot.categories:
        name = group_title(journey, category, language)
        counts = shown.get(category)
        if counts is None:
            lines.append(
                f'<li data-tally="{escape(category)}" class="hidden">'
                f'<span class="name">{name}</span> <span class="none">—</span></li>'
            )
            continue
        lines.append(_tally_line(category, name, counts, language))
    lines.append("</ul>")
    votes = ngettext("{count} vote", "{count} votes", room.tally.total)
    before, _, after = votes.partition("{count}")
    lines.append(
        f'<p class="total">{escape(before)}<span data-votes-total>'
        f"{number(room.tally.total, language)}</span>{escape(after)}</p>"
    )
    if room.tally.hidden:
        lines.append(_hidden_note(snapshot, language, voters=True))
    lines.append("</section>")
    return "\n".join(lines)


def _tally_line(category: str, name: str, counts: Counter[str], language: str) -> str:
    """A group's votes as a bar, each part also in words (never by colour alone)."""
    agree = counts[VoteValue.AGREE]
    disagree = counts[VoteValue.DISAGREE]
    passed = counts[VoteValue.PASS]
    total = max(agree + disagree + passed, 1)
    bar = "".join(
        f'<span class="{kind}" style="width:{round(100 * count / total)}%"></span>'
        for kind, count in (("agree", agree), ("disagree", disagree), ("pass", passed))
    )
    figures = "".join(
        f'<span class="{kind}">{escape(text)}</span>'
        for kind, text in _in_words(language, agree=agree, disagree=disagree, passed=passed)
    )
    return (
        f'<li data-tally="{escape(category)}" data-agree="{agree}" data-disagree="{disagree}"'
        f' data-pass="{passed}"><span class="name">{name}</span>'
        f'<span class="split">{bar}</span><span class="figures">{figures}</span></li>'
    )


def _in_words(language: str, *, agree: int, disagree: int, passed: int) -> list[tuple[str, str]]:
    """Votes as figures with their words ("3 agree"): no emoji, which a projector's
    computer may not have the font for."""
    gettext = translator(language)
    return [
        ("agree", gettext("{count} agree").format(count=number(agree, language))),
        ("disagree", gettext("{count} disagree").format(count=number(disagree, language))),
        ("pass", gettext("{count} pass").format(count=number(passed, language))),
    ]


def _counts(snapshot: Snapshot, language: str) -> str:
    """The agora so far in one line, while the room votes on a statement."""
    gettext = translator(language)
    summary = snapshot.summary
    found = (
        ("consensus", gettext("Common ground: {count}"), len(summary.consensus)),
        ("divisive", gettext("Opinions split: {count}"), len(summary.divisive)),
        ("resolutions", gettext("Resolutions: {count}"), len(summary.resolutions)),
    )
    items = []
    for kind, text, count in found:
        before, _, after = text.partition("{count}")
        items.append(
            f'<span class="{kind}">{escape(before)}<b data-{kind}-count>'
            f"{number(count, language)}</b>{escape(after)}</span>"
        )
    return f'<p class="counts">{" · ".join(items)}</p>'


def _summary(journey: Journey, snapshot: Snapshot, language: str, *, aside: str) -> str:
    """The consensus, the divisive statements and the resolutions so far, in three
    columns; `aside` goes under the resolutions, usually the shortest."""
    gettext = translator(language)
    ngettext = ngettext_for(language)
    summary = snapshot.summary
    votes = ngettext("{count} vote", "{count} votes", summary.votes)
    before, _, after = votes.partition("{count}")
    statements = gettext("Statements in the agora: {count}").format(
        count=number(summary.statements, language)
    )
    lines = [
        '<section class="summary">',
        f'<p class="total">{escape(statements)} · {escape(before)}<span data-votes-total>'
        f"{number(summary.votes, language)}</span>{escape(after)}</p>",
    ]
    for title, results, kind in (
        (gettext("Common ground"), summary.consensus, "consensus"),
        (gettext("Where opinions split"), summary.divisive, "divisive"),
    ):
        lines.append(f'<div class="{kind}"><h2>{escape(title)}</h2>')
        if not results:
            lines.append(_tag("p", gettext("None yet."), "note"))
        else:
            lines.append("<ol>")
            lines += [_result(journey, result, language) for result in results]
            lines.append("</ol>")
        lines.append("</div>")
    lines += ['<div class="resolutions">', _tag("h2", gettext("Resolutions"))]
    if not summary.resolutions:
        lines.append(_tag("p", gettext("None yet."), "note"))
    else:
        lines.append("<ol>")
        for resolution in summary.resolutions:
            details = []
            if resolution.carrier_category:
                details.append(
                    escape(gettext("carried by {group}")).format(
                        group=group_name(journey, resolution.carrier_category, language)
                    )
                )
            if resolution.due_on:
                due = day(date.fromisoformat(resolution.due_on), language)
                details.append(escape(gettext("by {date}").format(date=due)))
            tail = f'<span class="detail">{" · ".join(details)}</span>' if details else ""
            lines.append(f'<li><span class="text">{escape(resolution.text)}</span>{tail}</li>')
        lines.append("</ol>")
    lines += [aside, "</div>", "</section>"]
    return "\n".join(lines)


def _result(journey: Journey, result: ScreenResult, language: str) -> str:
    """A statement of the summary: its number and text, then its votes in words, overall
    and by group ("Les élus : 4 d'accord, 0 pas d'accord")."""
    gettext = translator(language)
    overall = result.overall
    share = percent(overall.agree / overall.votes, language) if overall.votes else "—"
    agreeing = gettext("{share} agree").format(share=share)
    details = [f"<b>{escape(agreeing)}</b>"]
    for category, tally in result.by_group.items():
        details.append(
            escape(gettext("{group}: {agree} agree, {disagree} disagree")).format(
                group=group_title(journey, category, language),
                agree=f'<span class="agree">{number(tally.agree, language)}</span>',
                disagree=f'<span class="disagree">{number(tally.disagree, language)}</span>',
            )
        )
    label = gettext("No. {number}").format(number=number(result.statement.number, language))
    return (
        f'<li><span class="text"><span class="num">{escape(label)}</span> '
        f"{escape(result.statement.text)}</span>"
        f'<span class="detail">{" · ".join(details)}</span></li>'
    )


def page_html(
    *,
    inner: str,
    version: int,
    phase: str,
    language: str,
    title: str,
    events: str | None = None,
    app_events: str | None = None,
) -> str:
    """The whole document: `<main>` with its first content, the page's own CSS and JS
    (no other asset: rooms often have poor internet). `events` is the event stream's
    address; a Mini App's (`app_events`) takes Telegram's init data first."""
    source = (
        f' data-events="{escape(events)}"'
        if events
        else f' data-app-events="{escape(app_events or "")}"'
    )
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{STATIC}/screen.css">'
        f'<script src="{STATIC}/screen.js" defer></script>'
        f'</head><body><main id="screen" data-version="{version}" data-phase="{escape(phase)}"'
        f"{source}>\n{inner}\n</main></body></html>\n"
    )


def waiting_html(language: str) -> str:
    """A Mini App's `<main>` before its init data was checked: nothing of the workshop."""
    gettext = translator(language)
    return _tag("p", gettext("Open this screen from Telegram."), "note")
