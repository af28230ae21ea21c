"""Inline keyboards and the callback_data they carry (always within Telegram's 64 bytes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import translations
from bot.rendering import language_name, plain
from flows.engine import BACK, SKIP, JourneyEngine, Step
from flows.journey import LANGUAGES

JOURNEY_PREFIX = "j"
LANGUAGE_PREFIX = "lang"
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


def _gettext(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def step_keyboard(
    engine: JourneyEngine, participant_id: int, step: Step, language: str
) -> InlineKeyboardMarkup | None:
    """The buttons for a step: its choices, then back/skip where they apply."""
    gettext = _gettext(language)

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
    navigation = []
    # No way back from the end screen: one stray tap would un-finish the participant
    # (/back still works there, on purpose).
    if step.kind not in ("consent", "category", "done") and engine.can_go_back(step.state):
        navigation.append(button("⬅️ " + gettext("Back"), BACK))
    if step.prompt is not None and step.prompt.optional:
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
