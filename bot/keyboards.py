"""Inline keyboards and the callback_data they carry (always within Telegram's 64 bytes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from flows.engine import BACK, FINISH, SKIP, TICK, UNTICK, JourneyEngine, Step
from flows.journey import LANGUAGES, Category
from flows.kinds import VoteValue
from flows.review import ReviewAction
from flows.service import StepView
from reports.labels import language_name, vote_label
from reports.text import plain, translator
from storage.models import Statement

JOURNEY_PREFIX = "j"
LANGUAGE_PREFIX = "lang"
VOTE_PREFIX = "v"
MODERATION_PREFIX = "mod"
FORGET_PREFIX = "forget"
ROOM_PREFIX = "room"  # a facilitator's room control
RESOLUTION_PREFIX = "res"  # a resolution's card
CAUCUS_PREFIX = "cv"  # a vote in one's group's caucus
ORGANISER_PREFIX = "org"  # a button of /workshops (resend the link, close, revoke...)
MAILING_PREFIX = "ml"  # a reminder's or broadcast's button (target, confirm, cancel)
TIMEZONE_PREFIX = "tz"  # a time zone chosen with /timezone
SCREEN_PREFIX = "scr"  # under a live screen's link: a new one, revoke (screen_keyboards.py)
QUOTE_PREFIX = "qt"  # /quotes: a question's page, a quote chosen (quote_keyboards.py)
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class JourneyButton:
    """A press on a journey button: which participation, shown at which state, with what value."""

    participant_id: int
    state: str
    value: str


def journey_data(participant_id: int, state: str, value: str) -> str:
    data = f"{JOURNEY_PREFIX}:{participant_id}:{state}:{value}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback_data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def parse_journey_data(data: str) -> JourneyButton | None:
    """The journey button `data` names, or None if it is not one (forged, or too old a format)."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != JOURNEY_PREFIX or not parts[1].isdecimal():
        return None
    return JourneyButton(int(parts[1]), parts[2], parts[3])


def step_keyboard(
    engine: JourneyEngine,
    participant_id: int,
    step: Step,
    language: str,
    *,
    category: str | None = None,
    view: StepView | None = None,
) -> InlineKeyboardMarkup | None:
    """The buttons for a step: its choices, then back/skip (or done) where they apply."""
    gettext = translator(language)

    def button(label: str, value: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=journey_data(participant_id, step.state, value)
        )

    rows: list[list[InlineKeyboardButton]] = []
    if step.kind == "consent":
        rows = [[button("✅ " + gettext("I agree"), "yes")], [button(gettext("No thanks"), "no")]]
    elif step.kind == "category":
        rows = [[button(plain(c.label, language), c.id)] for c in engine.journey.categories]
    elif step.kind == "language":
        rows = [[button(language_name(code), code) for code in LANGUAGES]]
    elif step.kind == "scale":
        rows = [[button(value, value) for value in engine.choices(step)]]
    elif step.kind == "choice" and step.prompt is not None:
        rows = [[button(plain(o.label, language), o.id)] for o in step.prompt.options]
    elif step.kind == "multi" and step.prompt is not None:
        ticked = (view or StepView()).selection
        rows = [
            [
                button("☑️ " + plain(o.label, language), UNTICK + o.id)
                if o.id in ticked
                else button("⬜ " + plain(o.label, language), TICK + o.id)
            ]
            for o in step.prompt.options
        ]
    navigation = []
    # No way back from the end screen or the wait for phase 2: one stray tap would move
    # the participant (/back still works there, on purpose).
    if step.kind not in ("consent", "category", "done", "peers_wait") and engine.can_go_back(
        step.state, category
    ):
        navigation.append(button("⬅️ " + gettext("Back"), BACK))
    if step.kind in ("multi", "list"):  # done with nothing given skips an optional one
        navigation.append(button(gettext("Done") + " ✅", FINISH))
    elif step.prompt is not None and step.prompt.optional:
        navigation.append(button(gettext("Skip") + " ➡️", SKIP))
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(rows) if rows else None


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(language_name(code), callback_data=f"{LANGUAGE_PREFIX}:{code}")
                for code in LANGUAGES
            ]
        ]
    )


def parse_language_data(data: str) -> str | None:
    prefix, _, code = data.partition(":")
    return code if prefix == LANGUAGE_PREFIX and code in LANGUAGES else None


@dataclass(frozen=True)
class VoteButton:
    statement_id: int
    value: str


def vote_keyboard(statement_id: int, language: str, *, current: str | None) -> InlineKeyboardMarkup:
    """Agree / disagree / pass under a statement; the participant's vote is marked."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ("✅ " if value == current else "") + vote_label(value, language),
                    callback_data=checked_data(f"{VOTE_PREFIX}:{statement_id}:{value[0]}"),
                )
                for value in VoteValue
            ]
        ]
    )


def parse_vote_data(data: str) -> VoteButton | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != VOTE_PREFIX or not parts[1].isdecimal():
        return None
    value = next((v for v in VoteValue if v[0] == parts[2]), None)
    return VoteButton(int(parts[1]), value) if value else None


@dataclass(frozen=True)
class ModerationButton:
    """A button of a moderation message sent before the review queue had batches (one
    statement per message); they still work, as the batches' buttons do."""

    statement_id: int
    action: str  # approve, reject or withdraw


_ACTIONS = ("approve", "reject", "withdraw")


def parse_moderation_data(data: str) -> ModerationButton | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != MODERATION_PREFIX or not parts[1].isdecimal():
        return None
    action = next((a for a in _ACTIONS if a[0] == parts[2]), None)
    return ModerationButton(int(parts[1]), action) if action else None


def checked_data(data: str) -> str:
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback_data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def forget_keyboard(language: str) -> InlineKeyboardMarkup:
    """Erase everything, or cancel (the confirmation of /forget)."""
    gettext = translator(language)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    gettext("Erase everything"), callback_data=f"{FORGET_PREFIX}:yes"
                )
            ],
            [InlineKeyboardButton(gettext("Cancel"), callback_data=f"{FORGET_PREFIX}:no")],
        ]
    )


def is_forget_confirmed(data: str) -> bool:
    return data == f"{FORGET_PREFIX}:yes"


def caucus_keyboard(statement_id: int, language: str) -> InlineKeyboardMarkup:
    """Agree / disagree / pass under a statement of one's group, in its caucus."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    vote_label(value, language),
                    callback_data=checked_data(f"{CAUCUS_PREFIX}:{statement_id}:{value[0]}"),
                )
                for value in VoteValue
            ]
        ]
    )


def parse_caucus_data(data: str) -> VoteButton | None:
    """The caucus vote `data` names, or None (forged, or not one)."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != CAUCUS_PREFIX or not parts[1].isdecimal():
        return None
    value = next((v for v in VoteValue if v[0] == parts[2]), None)
    return VoteButton(int(parts[1]), value) if value else None


# -- the room and its resolutions ---------------------------------------------------------

_ROOM_ACTIONS = {"n": "next", "p": "previous", "x": "close", "r": "converge"}


@dataclass(frozen=True)
class RoomButton:
    """A press on a room control: the workshop, the statement the control showed (None:
    none), and what to do."""

    workshop_id: int
    statement_id: int | None
    action: str  # next, previous, close or converge


def room_keyboard(
    workshop_id: int, statement_id: int | None, language: str, *, vote_open: bool
) -> InlineKeyboardMarkup:
    """Previous / next, close the vote (while it is open), mark a convergence."""
    gettext = translator(language)

    def button(label: str, action: str) -> InlineKeyboardButton:
        code = next(c for c, name in _ROOM_ACTIONS.items() if name == action)
        data = f"{ROOM_PREFIX}:{workshop_id}:{statement_id or 0}:{code}"
        return InlineKeyboardButton(label, callback_data=checked_data(data))

    rows = [
        [
            button("⬅️ " + gettext("Previous"), "previous"),
            button(gettext("Next") + " ➡️", "next"),
        ]
    ]
    if statement_id is not None and vote_open:
        rows.append([button("🔒 " + gettext("Close the vote"), "close")])
    if statement_id is not None:
        rows.append([button("🤝 " + gettext("Mark a convergence"), "converge")])
    return InlineKeyboardMarkup(rows)


def parse_room_data(data: str) -> RoomButton | None:
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != ROOM_PREFIX or not (parts[1] + parts[2]).isdecimal():
        return None
    action = _ROOM_ACTIONS.get(parts[3])
    if action is None:
        return None
    return RoomButton(int(parts[1]), int(parts[2]) or None, action)


_RESOLUTION_ACTIONS = {
    "t": "text",  # reformulate: the next message is the text
    "c": "carriers",  # show the carriers to choose from
    "k": "category",  # a category carries it (the category's id follows)
    "w": "name",  # the next message names who carries it
    "d": "due",  # the next message is the due date
    "n": "no_due",  # no due date
    "b": "back",  # back to the card
    "x": "done",  # done: the card loses its buttons
}


@dataclass(frozen=True)
class ResolutionButton:
    resolution_id: int
    action: str  # one of _RESOLUTION_ACTIONS' values
    category: str | None = None  # for "category"


def _resolution_button(resolution_id: int, label: str, code: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        label, callback_data=checked_data(f"{RESOLUTION_PREFIX}:{resolution_id}:{code}")
    )


def resolution_keyboard(
    resolution_id: int, language: str, *, has_due: bool
) -> InlineKeyboardMarkup:
    """Reformulate, carrier, due date (or none), done."""
    gettext = translator(language)
    rows = [
        [_resolution_button(resolution_id, "✏️ " + gettext("Reformulate"), "t")],
        [
            _resolution_button(resolution_id, "👥 " + gettext("Carrier"), "c"),
            _resolution_button(resolution_id, "📅 " + gettext("Due date"), "d"),
        ],
    ]
    if has_due:
        rows.append([_resolution_button(resolution_id, gettext("No due date"), "n")])
    rows.append([_resolution_button(resolution_id, "✅ " + gettext("Done"), "x")])
    return InlineKeyboardMarkup(rows)


def carrier_keyboard(
    resolution_id: int, categories: Sequence[Category], language: str
) -> InlineKeyboardMarkup:
    """A button per category, one to type a name, one back to the card."""
    gettext = translator(language)
    rows = [
        [_resolution_button(resolution_id, plain(c.label, language), f"k:{c.id}")]
        for c in categories
    ]
    rows.append([_resolution_button(resolution_id, "✍️ " + gettext("Type a name"), "w")])
    rows.append([_resolution_button(resolution_id, "⬅️ " + gettext("Back"), "b")])
    return InlineKeyboardMarkup(rows)


def parse_resolution_data(data: str) -> ResolutionButton | None:
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != RESOLUTION_PREFIX or not parts[1].isdecimal():
        return None
    action = _RESOLUTION_ACTIONS.get(parts[2])
    if action is None or (action == "category") != (len(parts) == 4):
        return None
    return ResolutionButton(int(parts[1]), action, parts[3] if len(parts) == 4 else None)


# -- the review queue ---------------------------------------------------------------------

REVIEW_PREFIX = "rv"  # a button of a review batch
_REVIEW_CODES = {
    ReviewAction.APPROVE: "a",
    ReviewAction.REJECT: "r",
    ReviewAction.MERGE: "m",
    ReviewAction.INTO: "i",
    ReviewAction.BACK: "b",
    ReviewAction.ALL: "e",
}


@dataclass(frozen=True)
class ReviewButton:
    """A press in a review batch: on which statement, what to do, and for a merge, into
    which statement."""

    statement_id: int
    action: ReviewAction
    into_id: int | None = None


def review_data(statement_id: int, action: ReviewAction, into_id: int | None = None) -> str:
    tail = f":{into_id}" if action is ReviewAction.INTO else ""
    return checked_data(f"{REVIEW_PREFIX}:{statement_id}:{_REVIEW_CODES[action]}{tail}")


def parse_review_data(data: str) -> ReviewButton | None:
    """The review button `data` names, or None (forged, or not one)."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != REVIEW_PREFIX or not parts[1].isdecimal():
        return None
    action = next((a for a, code in _REVIEW_CODES.items() if code == parts[2]), None)
    if action is None or (action is ReviewAction.INTO) != (len(parts) == 4):
        return None
    if len(parts) == 4 and not parts[3].isdecimal():
        return None
    return ReviewButton(int(parts[1]), action, int(parts[3]) if len(parts) == 4 else None)


def review_keyboard(pending: Sequence[Statement], language: str) -> InlineKeyboardMarkup | None:
    """Approve, reject or merge each statement still waiting in a batch (by its number), and
    approve them all when several wait; None once all are decided."""
    gettext = translator(language)

    def button(label: str, statement: Statement, action: ReviewAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=review_data(statement.id, action))

    rows = [
        [
            button(f"✅ {s.number}", s, ReviewAction.APPROVE),
            button(f"❌ {s.number}", s, ReviewAction.REJECT),
            button(f"🔀 {s.number}", s, ReviewAction.MERGE),
        ]
        for s in pending
    ]
    if len(pending) > 1:
        rows.append([button("✅ " + gettext("Approve all"), pending[0], ReviewAction.ALL)])
    return InlineKeyboardMarkup(rows) if rows else None


def merge_keyboard(
    statement: Statement, candidates: Sequence[Statement], language: str
) -> InlineKeyboardMarkup:
    """A button per statement `statement` may be merged into, and one back to the batch."""
    gettext = translator(language)
    buttons = [
        InlineKeyboardButton(
            f"→ {c.number}", callback_data=review_data(statement.id, ReviewAction.INTO, c.id)
        )
        for c in candidates
    ]
    rows = [buttons[start : start + 4] for start in range(0, len(buttons), 4)]
    rows.append(
        [
            InlineKeyboardButton(
                "↩️ " + gettext("Back"), callback_data=review_data(statement.id, ReviewAction.BACK)
            )
        ]
    )
    return InlineKeyboardMarkup(rows)
