"""The report for elected officials: /quotes and /report (the `.docx`).

/quotes is one message, edited in place: the questions with quotes to choose from (each
with its count of quotes and of chosen ones), and, a question's button pressed, a page of
its quotes with a button per quote to choose it or take it back; a press re-renders that
page only. The count of chosen quotes is also in the pressed button's answer.
"""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardMarkup, Message

from bot.menus import spoken
from bot.quote_keyboards import BrowseButton, IndexEntry, quote_index_keyboard, quote_page_keyboard
from bot.views.chat import Chat
from flows.outbox import zone_named
from flows.quotes import Candidate, Conclusions, Pick, Picked, QuoteIndex, QuotePage, Topic
from reports.conclusions import quote_question, report_file
from reports.text import MESSAGE_LIMIT, escape, excerpt, number, strip_tags, units

QUOTE_LIMIT = 300  # a quote on a page: enough to judge it (8 of them stay under 4,096)
QUESTION_LIMIT = 300  # the question above a page's quotes
TITLE_LIMIT = 100
INDEX_LIMIT = 110  # a question in the list (shortened further if the list is too long)


def _asked(chat: Chat, topic: Topic) -> str:
    """A question's words, as plain text (a group's answers about itself: as it read it)."""
    probe = Candidate(0, topic.question_id, topic.category, "", False)
    return quote_question(chat.runtime.journey, probe, chat.language)


def _index_text(chat: Chat, index: QuoteIndex, limit: int = INDEX_LIMIT) -> str:
    _, ngettext = chat.gettext, chat.ngettext
    head = _(
        "Quotes for the report of «{title}»: participants' answers, with the names, "
        "addresses and numbers found in them masked; read them before choosing. Choose a "
        "question to see its quotes, then tap a quote's number to add it to the report (✅); "
        "tap it again to remove it."
    ).format(title=excerpt(index.workshop.title, TITLE_LIMIT))
    chosen = _("Quotes chosen: {count}.").format(count=number(index.chosen, chat.language))
    lines = [head, "", f"<b>{chosen}</b>", ""]
    for position, entry in enumerate(index.topics, start=1):
        quotes = ngettext("{count} quote", "{count} quotes", entry.candidates).format(
            count=number(entry.candidates, chat.language)
        )
        picked = ngettext("{count} chosen", "{count} chosen", entry.chosen).format(
            count=number(entry.chosen, chat.language)
        )
        question = excerpt(_asked(chat, entry.topic), limit)
        lines.append(
            f"<b>{number(position, chat.language)}.</b> <i>{question}</i> · {quotes}, {picked}"
        )
    text = "\n".join(lines)
    if units(text) > MESSAGE_LIMIT and limit > 20:  # a journey with many questions
        return _index_text(chat, index, limit // 2)
    return text


def _index_keyboard(chat: Chat, index: QuoteIndex) -> InlineKeyboardMarkup | None:
    entries = [
        IndexEntry(t.topic.key, t.topic.category, _asked(chat, t.topic), t.candidates, t.chosen)
        for t in index.topics
    ]
    return quote_index_keyboard(index.workshop.id, entries)


def _none_text(chat: Chat, index: QuoteIndex) -> str:
    min_group = chat.runtime.settings.min_group
    return chat.ngettext(
        "«{title}» has no answer to quote yet: quotes come only from questions "
        "answered by at least {count} person, as in the synthesis.",
        "«{title}» has no answer to quote yet: quotes come only from questions "
        "answered by at least {count} people, as in the synthesis.",
        min_group,
    ).format(title=escape(index.workshop.title), count=number(min_group, chat.language))


def _page_text(chat: Chat, page: QuotePage, limit: int = QUOTE_LIMIT) -> str:
    """The question, where this page stands, then each quote by its number (cut shorter
    when they would not fit: emoji count twice in Telegram's length)."""
    _, ngettext = chat.gettext, chat.ngettext
    language = chat.language
    title = _("Quotes for the report of «{title}»").format(
        title=excerpt(page.workshop.title, TITLE_LIMIT)
    )
    where = _("Page {page} of {pages}").format(
        page=number(page.page + 1, language), pages=number(page.pages, language)
    )
    quotes = ngettext("{count} quote", "{count} quotes", page.total).format(
        count=number(page.total, language)
    )
    picked = ngettext("{count} chosen", "{count} chosen", page.chosen).format(
        count=number(page.chosen, language)
    )
    lines = [
        f"<b>{title}</b>",
        f"<i>{excerpt(_asked(chat, page.topic), QUESTION_LIMIT)}</i>",
        f"{where} · {quotes}, {picked}",
        "",
    ]
    for position, candidate in enumerate(page.candidates, start=page.first):
        mark = "✅" if candidate.chosen else "⬜"
        text = excerpt(candidate.text, limit)
        lines.append(f"{mark} <b>{number(position, language)}.</b> {text}")
    text = "\n".join(lines)
    if units(text) > MESSAGE_LIMIT and limit > 40:
        return _page_text(chat, page, limit // 2)
    return text


def _page_keyboard(chat: Chat, page: QuotePage) -> InlineKeyboardMarkup:
    shown = [
        (position, c.answer_id, c.chosen)
        for position, c in enumerate(page.candidates, start=page.first)
    ]
    at = BrowseButton(page.workshop.id, page.topic.key, page.topic.category, page.page)
    return quote_page_keyboard(shown, at=at, pages=page.pages, language=chat.language)


def _rendered(chat: Chat, shown: QuotePage | QuoteIndex) -> tuple[str, InlineKeyboardMarkup | None]:
    if isinstance(shown, QuotePage):
        return _page_text(chat, shown), _page_keyboard(chat, shown)
    if not shown.topics:
        return _none_text(chat, shown), None
    return _index_text(chat, shown), _index_keyboard(chat, shown)


async def show_quotes(chat: Chat, index: QuoteIndex) -> None:
    """/quotes: one message, the questions with quotes to choose from."""
    text, markup = _rendered(chat, index)
    await chat.send(text, reply_markup=markup)


async def _show_pressed(chat: Chat, shown: QuotePage | QuoteIndex) -> None:
    """The pressed /quotes message, now showing `shown` (not edited when it shows it
    already: Telegram refuses an edit to the same)."""
    message = chat.query.message if chat.query is not None else None
    if not isinstance(message, Message):
        return
    text, markup = _rendered(chat, shown)
    if markup == message.reply_markup and strip_tags(text) == message.text:
        return
    await chat.edit(message.message_id, text, reply_markup=markup)


async def show_browsed(chat: Chat, shown: QuotePage | QuoteIndex) -> None:
    """A page or the list of questions asked for with a button."""
    missed = isinstance(shown, QuoteIndex) and shown.missed
    await chat.note(
        chat.gettext("This question has no quote to choose any more.") if missed else None
    )
    await _show_pressed(chat, shown)


async def show_picked(chat: Chat, picked: Picked) -> None:
    """A quote's button pressed: answered with the count of chosen quotes, and the
    pressed message shows its page as it is now."""
    _ = chat.gettext
    notes = {
        Pick.CHOSEN: _("Added to the report."),
        Pick.UNCHOSEN: _("Taken out of the report."),
        Pick.GONE: _("This answer can no longer be quoted."),
    }
    note = notes[picked.pick]
    if picked.pick != Pick.GONE:
        chosen = number(picked.chosen, chat.language)
        note += " " + _("Quotes chosen: {count}.").format(count=chosen)
    await chat.note(note)
    if picked.shown is not None:
        await _show_pressed(chat, picked.shown)


async def show_quote_refused(chat: Chat) -> None:
    """A /quotes button of a workshop the user does not facilitate (a forged one)."""
    await chat.note(chat.gettext("Only the facilitators of this workshop can do that."))


async def send_report(chat: Chat, conclusions: Conclusions) -> None:
    """/report: the `.docx`, or, before anyone answered, why there is none."""
    _ = chat.gettext
    workshop = conclusions.report.workshop
    if not conclusions.answered:
        await chat.send(
            _("Nobody has answered in «{title}» yet: there is no report to make.").format(
                title=escape(workshop.title)
            )
        )
        return
    zone = zone_named(workshop.timezone, chat.runtime.settings.timezone)
    # Drawing its chart takes a moment of CPU: off the event loop.
    file = await asyncio.to_thread(
        report_file, chat.runtime.journey, conclusions, chat.language, zone
    )
    caption = _(
        "The report of «{title}» for elected officials: an editable document. Quotes "
        "chosen with {command}: {count}."
    ).format(
        title=escape(workshop.title),
        command=spoken("/quotes", chat.language),
        count=number(len(conclusions.quotes), chat.language),
    )
    await chat.send_document(file.data, file.name, caption)
