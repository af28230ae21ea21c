"""/audit for organisers: who did what to a workshop; and the answer to a command on a
workshop whose data was erased after its retention period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from bot.views.chat import Chat
from flows.audit import Actor, AuditLog, Line
from flows.kinds import AgoraMode, AuditAction
from reports.text import (
    MESSAGE_LIMIT,
    day,
    escape,
    excerpt,
    ngettext_for,
    number,
    translator,
    units,
    when_text,
)
from storage.models import Workshop
from storage.retention import Figures


def erased_text(workshop: Workshop, erased_at: datetime, zone: tzinfo, language: str) -> str:
    """A command on a workshop whose participants' data is gone: when, and why."""
    _ = translator(language)
    return _(
        "The data of «{title}» was erased on {date}, once its retention period after closing "
        "was over: only its overall figures remain."
    ).format(
        title=escape(excerpt(workshop.title, 100)),
        date=day(erased_at.astimezone(zone).date(), language),
    )


def _actor(line: Line, _: Callable[[str], str]) -> str:
    who = line.entry.actor_id
    if line.actor is Actor.YOU:
        return _("you")
    if line.actor is Actor.ORGANISER:
        return _("an organiser ({id})").format(id=who)
    if line.actor is Actor.FACILITATOR:
        return _("a facilitator ({id})").format(id=who)
    if line.actor is Actor.BOT:
        return _("the bot")
    if who is not None:
        return _("someone no longer in the team ({id})").format(id=who)
    return _("an erased account")


def _what(line: Line, language: str) -> str:
    _ = translator(language)
    detail = line.entry.detail
    statement: dict[str, str] = {
        AuditAction.APPROVED: _("approved statement {number}"),
        AuditAction.REJECTED: _("rejected statement {number}"),
        AuditAction.WITHDRAWN: _("withdrew statement {number}"),
    }
    if line.entry.action in statement:
        return statement[line.entry.action].format(number=escape(detail))
    if line.entry.action == AuditAction.MERGED:
        merged, _sep, kept = detail.partition(">")
        return _("merged statement {number} into {kept}").format(
            number=escape(merged), kept=escape(kept)
        )
    quote: dict[str, str] = {
        AuditAction.QUOTE_CHOSEN: _("chose answer {id} as a quote for the report"),
        AuditAction.QUOTE_DROPPED: _("took answer {id} out of the report's quotes"),
    }
    if line.entry.action in quote:
        return quote[line.entry.action].format(id=escape(detail))
    if line.entry.action == AuditAction.BROADCAST:
        count = int(detail) if detail.isdigit() else 0
        ngettext = ngettext_for(language)  # the name babel's extraction looks for
        return ngettext(
            "sent a broadcast to {count} participant",
            "sent a broadcast to {count} participants",
            count,
        ).format(count=number(count, language))
    if line.entry.action == AuditAction.AGORA_OPENED and detail == AgoraMode.ROOM:
        return _("opened the agora, paced by the room")
    said: dict[str, str] = {
        AuditAction.CREATED: _("created the workshop"),
        AuditAction.PEERS_OPENED: _("opened phase 2"),
        AuditAction.PEERS_WAIT: _("made phase 2 wait for /open peers"),
        AuditAction.AGORA_OPENED: _("opened the agora"),
        AuditAction.AGORA_CLOSED: _("closed the agora"),
        AuditAction.EXPORTED: _("exported the answers and the synthesis"),
        AuditAction.REVOKED: _("issued a new facilitator link"),
        AuditAction.CLOSED: _("closed the workshop"),
        AuditAction.ERASED: _("erased the participants' data (retention period over)"),
        AuditAction.SCREEN_LINK: _("issued a live screen link"),
        AuditAction.SCREEN_REVOKED: _("revoked the live screen link"),
    }
    return said.get(line.entry.action, escape(line.entry.action))


def audit_text(found: AuditLog, language: str) -> str:
    """The audit as one message: a header, then one line per entry, newest first (the
    oldest dropped if it would pass Telegram's length)."""
    _ = translator(language)
    title = escape(excerpt(found.workshop.title, 100))
    head = ["<b>" + _("Audit · {title}").format(title=title) + "</b>"]
    if found.erased is not None:
        head.append(_erased_figures(found.erased, found.zone, language))
    if not found.lines:
        return "\n".join([*head, _("Nothing recorded yet.")])
    head.append(
        _("The {shown} latest of {total} actions, newest first:").format(
            shown=number(len(found.lines), language), total=number(found.total, language)
        )
    )
    lines = [
        f"• {when_text(line.entry.at, found.zone, language)} · {_actor(line, _)}: "
        + _what(line, language)
        for line in found.lines
    ]
    text = "\n".join([*head, "", *lines])
    while units(text) > MESSAGE_LIMIT and len(lines) > 1:
        lines.pop()
        text = "\n".join([*head, "", *lines])
    return text


def _erased_figures(figures: Figures, zone: tzinfo, language: str) -> str:
    _ = translator(language)
    return _(
        "Its participants' data was erased on {date} (retention period over). What remains: "
        "{participants} participants, {answers} answers, {statements} statements, {votes} "
        "votes, {resolutions} resolutions."
    ).format(
        date=day(figures.erased_at.astimezone(zone).date(), language),
        participants=number(figures.participants, language),
        answers=number(figures.answers, language),
        statements=number(figures.statements, language),
        votes=number(figures.votes + figures.caucus_votes, language),
        resolutions=number(figures.resolutions, language),
    )


async def show_audit(chat: Chat, found: AuditLog) -> None:
    await chat.send(audit_text(found, chat.language))
