"""The buttons under a live screen's link (`/screen`): a new link, revoke, and the page as
a Telegram Mini App (their callback_data within Telegram's 64 bytes, like every other)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.keyboards import SCREEN_PREFIX, checked_data
from reports.text import translator

_SCREEN_ACTIONS = {"n": "renew", "r": "revoke"}


@dataclass(frozen=True)
class ScreenButton:
    link_id: int  # the link the message showed
    action: str  # renew or revoke


def screen_keyboard(
    link_id: int, language: str, *, app_url: str | None = None
) -> InlineKeyboardMarkup:
    """A new link (the old one stops working), revoke; and, when the address is https,
    the page as a Telegram Mini App."""
    gettext = translator(language)

    def button(label: str, code: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=checked_data(f"{SCREEN_PREFIX}:{link_id}:{code}")
        )

    rows = [[button("🔄 " + gettext("New link"), "n"), button("🚫 " + gettext("Revoke"), "r")]]
    if app_url is not None:
        rows.insert(
            0,
            [
                InlineKeyboardButton(
                    "📱 " + gettext("Follow on my phone"), web_app=WebAppInfo(app_url)
                )
            ],
        )
    return InlineKeyboardMarkup(rows)


def parse_screen_data(data: str) -> ScreenButton | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != SCREEN_PREFIX or not parts[1].isdecimal():
        return None
    action = _SCREEN_ACTIONS.get(parts[2])
    return ScreenButton(int(parts[1]), action) if action else None
