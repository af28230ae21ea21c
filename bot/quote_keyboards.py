"""The buttons of /quotes, on its one message edited in place: the questions with quotes
to choose from, then a page of one question's quotes with a button per quote (choose it,
or take it back), ◀ ▶ between pages and ⬅ back to the questions.

Their callback_data names answers by their answers row's id, questions by their prompt's
id and group, and the workshop by its id: never a Telegram or participant id, always
within Telegram's 64 bytes (`checked_data`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards import QUOTE_PREFIX, checked_data
from reports.text import translator

QUOTES_PER_ROW = 4
LABEL_LIMIT = 30  # a question's start on its button


@dataclass(frozen=True)
class PickButton:
    """Choose the quote `answer_id` (or take it back), shown on `page` of its question."""

    answer_id: int
    choose: bool
    page: int


@dataclass(frozen=True)
class BrowseButton:
    """Show a page of a question's quotes (`key` None: the list of questions)."""

    workshop_id: int
    key: str | None = None
    category: str | None = None
    page: int = 0


@dataclass(frozen=True)
class IndexEntry:
    """A question on the list's buttons: its number, its words, its figures."""

    key: str
    category: str | None
    question: str  # plain text
    candidates: int
    chosen: int


def pick_data(answer_id: int, choose: bool, page: int) -> str:
    return checked_data(f"{QUOTE_PREFIX}:c:{answer_id}:{int(choose)}:{page}")


def browse_data(button: BrowseButton) -> str:
    if button.key is None:
        return checked_data(f"{QUOTE_PREFIX}:w:{button.workshop_id}")
    where = f"{button.workshop_id}:{button.page}:{button.key}:{button.category or ''}"
    return checked_data(f"{QUOTE_PREFIX}:p:{where}")


def parse_quote_data(data: str) -> PickButton | BrowseButton | None:
    """The /quotes button `data` names, or None (forged, or not one)."""
    parts = data.split(":")
    if len(parts) < 3 or parts[0] != QUOTE_PREFIX or not parts[2].isdecimal():
        return None
    if parts[1] == "c" and len(parts) == 5 and parts[3] in ("0", "1") and parts[4].isdecimal():
        return PickButton(int(parts[2]), parts[3] == "1", int(parts[4]))
    if parts[1] == "w" and len(parts) == 3:
        return BrowseButton(int(parts[2]))
    if parts[1] == "p" and len(parts) == 6 and parts[3].isdecimal() and parts[4]:
        return BrowseButton(int(parts[2]), parts[4], parts[5] or None, int(parts[3]))
    return None


def _short(text: str) -> str:
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1].rstrip() + "…"


def quote_index_keyboard(
    workshop_id: int, entries: Sequence[IndexEntry]
) -> InlineKeyboardMarkup | None:
    """A button per question, numbered as the message lists them, with its count of
    quotes (and ✅ of those chosen)."""
    rows = []
    for number, entry in enumerate(entries, start=1):
        figures = f"{entry.candidates}" + (f" · ✅ {entry.chosen}" if entry.chosen else "")
        target = BrowseButton(workshop_id, entry.key, entry.category)
        label = f"{number}. {_short(entry.question)} ({figures})"
        rows.append([InlineKeyboardButton(label, callback_data=browse_data(target))])
    return InlineKeyboardMarkup(rows) if rows else None


def quote_page_keyboard(
    shown: Sequence[tuple[int, int, bool]],
    *,
    at: BrowseButton,
    pages: int,
    language: str,
) -> InlineKeyboardMarkup:
    """A button per quote of the page, by its number: ✅ when chosen (pressing takes it
    back), ⬜ when not (pressing chooses it); then ◀ ▶ between the question's pages and
    ⬅ back to the list. `shown` holds (number, answer id, chosen); `at` is this page."""
    gettext = translator(language)
    buttons = [
        InlineKeyboardButton(
            f"{'✅' if chosen else '⬜'} {number}",
            callback_data=pick_data(answer_id, not chosen, at.page),
        )
        for number, answer_id, chosen in shown
    ]
    rows = [buttons[i : i + QUOTES_PER_ROW] for i in range(0, len(buttons), QUOTES_PER_ROW)]

    def to(page: int) -> str:
        return browse_data(BrowseButton(at.workshop_id, at.key, at.category, page))

    moves = []
    if at.page > 0:
        moves.append(InlineKeyboardButton("◀", callback_data=to(at.page - 1)))
    back = BrowseButton(at.workshop_id)
    moves.append(InlineKeyboardButton("⬅ " + gettext("Questions"), callback_data=browse_data(back)))
    if at.page + 1 < pages:
        moves.append(InlineKeyboardButton("▶", callback_data=to(at.page + 1)))
    return InlineKeyboardMarkup([*rows, moves])
