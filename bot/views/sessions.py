"""A workshop's sessions: the invitation with its calendar file, and the automatic
reminders of the eve and the hour before; dates as each reader reads them (babel, in
their language and time zone)."""

from __future__ import annotations

from datetime import timedelta, tzinfo

from bot.views.chat import Chat
from flows.organising import SessionNotice
from flows.outbox import SessionRule
from reports.calendar import session_ics
from reports.text import excerpt, time_text, translator, when_text
from storage.models import Session
from storage.outbox import Claimed

CAPTION_LIMIT = 1024  # Telegram's, for a document's caption
CALENDAR_DOMAIN = "coopbot"  # the calendar events' UIDs end with it


def session_line(session: Session, zone: tzinfo, language: str) -> str:
    """One session in a list: its number, when, and where."""
    _ = translator(language)
    line = _("Session {number}: {when}").format(
        number=session.number, when=when_text(session.starts_at, zone, language, with_zone=True)
    )
    if session.place:
        line += " · " + excerpt(session.place, 80)
    return line


def invitation_caption(notice: SessionNotice, language: str) -> str:
    """The invitation's caption: title, when, where, territory (kept under 1024)."""
    _ = translator(language)
    session, workshop = notice.session, notice.workshop
    lines = [
        "📅 "
        + _("You are invited to session {number} of «{title}».").format(
            number=session.number, title=f"<b>{excerpt(workshop.title, 200)}</b>"
        ),
        _("When: {when}").format(
            when=when_text(session.starts_at, notice.zone, language, with_zone=True)
        ),
    ]
    if session.place:
        lines.append(_("Where: {place}").format(place=excerpt(session.place, 250)))
    if workshop.territory:
        lines.append(_("Territory: {territory}").format(territory=excerpt(workshop.territory, 250)))
    lines.append(_("Open the attached file to add it to your calendar."))
    return "\n".join(lines)


def calendar_summary(notice: SessionNotice, language: str) -> str:
    _ = translator(language)
    return _("{title} (session {number})").format(
        title=notice.workshop.title, number=notice.session.number
    )


async def _notice(chat: Chat, item: Claimed) -> SessionNotice | None:
    if item.mailing.session_id is None:
        return None
    return await chat.runtime.organising.notice(
        session_id=item.mailing.session_id, user_id=chat.user_id
    )


async def send_invitation(chat: Chat, item: Claimed) -> int | None:
    """A session's invitation to one participant: one message, the `.ics` file with its
    caption. Nothing for a cancelled session or a closed workshop."""
    notice = await _notice(chat, item)
    if notice is None:
        return None
    data = session_ics(
        notice.session,
        notice.workshop,
        zone=notice.workshop_zone,
        summary=calendar_summary(notice, chat.language),
        domain=CALENDAR_DOMAIN,
        now=chat.runtime.clock(),
    )
    sent = await chat.send_document(
        data, f"session-{notice.session.number}.ics", invitation_caption(notice, chat.language)
    )
    return sent.message_id if sent is not None else None


async def send_session_reminder(chat: Chat, item: Claimed) -> int | None:
    """A session's reminder (the eve, or the hour before) to one participant."""
    notice = await _notice(chat, item)
    if notice is None:
        return None
    _ = chat.gettext
    session = notice.session
    time = time_text(session.starts_at, notice.zone, chat.language)
    title = f"<b>{excerpt(notice.workshop.title, 200)}</b>"
    # Worded from the moment it goes: one sent late (after a restart) still says the truth.
    now = chat.runtime.clock().astimezone(notice.zone)
    left = session.starts_at - now
    if item.mailing.offset_rule == SessionRule.HOUR_BEFORE and left >= timedelta(minutes=50):
        text = _("⏰ In one hour, at {time}: session {number} of «{title}».")
    elif item.mailing.offset_rule == SessionRule.HOUR_BEFORE or (
        session.starts_at.astimezone(notice.zone).date() == now.date()
    ):
        text = _("📅 Today at {time}: session {number} of «{title}».")
    else:
        text = _("📅 Tomorrow at {time}: session {number} of «{title}».")
    text = text.format(time=time, number=session.number, title=title)
    if session.place:
        text += "\n" + _("Where: {place}").format(place=excerpt(session.place, 250))
    sent = await chat.send(text)
    return sent.message_id if sent is not None else None
