"""/health, as an organiser reads it: uptime, the database's size, the queues, the faults
met since the start and the last one (its kind, where and when; never anyone's text)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_timedelta

from bot.faults import Fault, Faults, Kind
from bot.views.chat import Chat
from flows.health import Health
from reports.text import decimal, escape, number, translator, when_text
from storage.db import utc_now


async def show_not_allowed(chat: Chat) -> None:
    _ = chat.gettext
    await chat.send(
        _(
            "Only organisers can read the bot's health. An administrator can add your "
            "Telegram id ({id}) to the organisers."
        ).format(id=chat.user_id)
    )


async def show_health(chat: Chat, found: Health, faults: Faults, *, waiting: int) -> None:
    """`waiting`: updates fetched from Telegram and not yet handled."""
    await chat.send(health_text(found, faults, chat.language, now=utc_now(), waiting=waiting))


def health_text(
    found: Health, faults: Faults, language: str, *, now: datetime, waiting: int
) -> str:
    """The whole report, one message (a few hundred characters)."""
    _ = translator(language)
    figures = found.figures
    lines = [
        "🩺 <b>" + _("Bot health") + "</b>",
        _("Up for {duration}, since {moment}.").format(
            duration=format_timedelta(now - faults.started_at, locale=language),
            moment=when_text(faults.started_at, found.zone, language),
        ),
        _("Database: {size} (schema version {version}).").format(
            size=size_text(figures.database_bytes, language),
            version=number(figures.schema_version, language),
        ),
        _(
            "Outbox: waiting {pending} (due now {due}), being sent {sending}; mailings due "
            "to start {mailings}."
        ).format(
            pending=number(figures.deliveries_pending, language),
            due=number(figures.deliveries_due, language),
            sending=number(figures.deliveries_sending, language),
            mailings=number(figures.mailings_due, language),
        ),
        _("Updates waiting to be handled: {count}.").format(count=number(waiting, language)),
    ]
    if faults.last is None:
        lines.append(_("No fault since the start."))
    else:
        counts = ", ".join(
            f"{kind_text(kind, language)} ({number(count, language)})"
            for kind, count in sorted(faults.counts.items(), key=lambda item: -item[1])
        )
        lines.append(
            _("Faults since the start: {count}: {kinds}.").format(
                count=number(faults.total, language), kinds=counts
            )
        )
        lines.append(last_text(faults.last, found, language))
    return "\n".join(lines)


def last_text(fault: Fault, found: Health, language: str) -> str:
    _ = translator(language)
    return _("Last fault: {kind}, in {where}, {moment}.").format(
        kind=kind_text(fault.kind, language),
        where=f"<code>{escape(fault.where)}</code>",
        moment=when_text(fault.at, found.zone, language),
    )


def kind_text(kind: Kind, language: str) -> str:
    _ = translator(language)
    return {
        Kind.API_TIMEOUT: _("Telegram did not answer in time"),
        Kind.API_ERROR: _("Telegram failed (5xx) or the network did"),
        Kind.API_FLOOD: _("Telegram's flood control"),
        Kind.DB_LOCKED: _("database locked"),
        Kind.DB_FULL: _("disk full"),
        Kind.DB_IO: _("disk or database file error"),
        Kind.UNEXPECTED: _("unexpected error (see the log)"),
    }[kind]


def size_text(size: int, language: str) -> str:
    """A size in kB under a megabyte, else in MB (decimal units, as disks are sold)."""
    _ = translator(language)
    if size < 1_000_000:
        return _("{size} kB").format(size=number(round(size / 1000), language))
    return _("{size} MB").format(size=decimal(size / 1_000_000, language, places=1))
