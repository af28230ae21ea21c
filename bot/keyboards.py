"""Inline keyboards and the callback_data they carry (always within Telegram's 64 bytes)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from flows.engine import BACK, FINISH, SKIP, TICK, UNTICK, JourneyEngine, Step
from flows.journey import LANGUAGES
from flows.kinds import StatementStatus, VoteValue
from flows.service import StepView
from reports.labels import language_name, vote_label
from reports.text import plain, translator

JOURNEY_PREFIX = "j"
LANGUAGE_PREFIX = "lang"
VOTE_PREFIX = "v"
MODERATION_PREFIX = "mod"
FORGET_PREFIX = "forget"
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
    if len(parts) != 4 or parts[0] != JOURNEY_PREFIX or not parts[1].isdigit():
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
                    callback_data=_checked(f"{VOTE_PREFIX}:{statement_id}:{value[0]}"),
                )
                for value in VoteValue
            ]
        ]
    )


def parse_vote_data(data: str) -> VoteButton | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != VOTE_PREFIX or not parts[1].isdigit():
        return None
    value = next((v for v in VoteValue if v[0] == parts[2]), None)
    return VoteButton(int(parts[1]), value) if value else None


@dataclass(frozen=True)
class ModerationButton:
    statement_id: int
    action: str  # approve, reject or withdraw


_ACTIONS = ("approve", "reject", "withdraw")


def moderation_keyboard(
    statement_id: int, status: str, language: str
) -> InlineKeyboardMarkup | None:
    """Approve / reject for a pending statement, withdraw for an approved one."""
    gettext = translator(language)

    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=_checked(f"{MODERATION_PREFIX}:{statement_id}:{action[0]}")
        )

    if status == StatementStatus.PENDING:
        return InlineKeyboardMarkup(
            [
                [
                    button("✅ " + gettext("Approve"), "approve"),
                    button("❌ " + gettext("Reject"), "reject"),
                ]
            ]
        )
    if status == StatementStatus.APPROVED:
        return InlineKeyboardMarkup([[button("🚫 " + gettext("Withdraw"), "withdraw")]])
    return None


def parse_moderation_data(data: str) -> ModerationButton | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != MODERATION_PREFIX or not parts[1].isdigit():
        return None
    action = next((a for a in _ACTIONS if a[0] == parts[2]), None)
    return ModerationButton(int(parts[1]), action) if action else None


def _checked(data: str) -> str:
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
