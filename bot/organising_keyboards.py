"""The keyboards of organising: reminders and broadcasts, /workshops and the questions after
/newsession, /timezone (their callback_data within Telegram's 64 bytes, like every other)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards import MAILING_PREFIX, ORGANISER_PREFIX, TIMEZONE_PREFIX, checked_data
from flows.mailings import REMINDER_TARGETS
from flows.outbox import Target
from reports.text import ngettext_for, number, translator

# -- reminders and broadcasts (bot/handlers/mailings.py) --------------------------------


class MailingAction(StrEnum):
    TARGET = "t"  # a reminder's target, on its preview
    SCHEDULE = "s"  # a reminder scheduled
    CONFIRM = "b"  # a broadcast confirmed
    CANCEL = "x"  # a preview cancelled (or a reminder just scheduled)
    CANCEL_LISTED = "r"  # a reminder cancelled from /reminders


@dataclass(frozen=True)
class MailingButton:
    action: MailingAction
    mailing_id: int
    target: Target | None = None


def mailing_data(action: MailingAction, mailing_id: int, target: Target | None = None) -> str:
    tail = f":{MAILING_TARGETS.index(target)}" if target is not None else ""
    return checked_data(f"{MAILING_PREFIX}:{action.value}:{mailing_id}{tail}")


def parse_mailing_data(data: str) -> MailingButton | None:
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != MAILING_PREFIX or not parts[2].isdecimal():
        return None
    try:
        action = MailingAction(parts[1])
    except ValueError:
        return None
    target = None
    if len(parts) == 4:
        if action is not MailingAction.TARGET or not parts[3].isdecimal():
            return None
        if int(parts[3]) >= len(MAILING_TARGETS):
            return None
        target = MAILING_TARGETS[int(parts[3])]
    elif action is MailingAction.TARGET:
        return None
    return MailingButton(action, int(parts[2]), target)


MAILING_TARGETS = REMINDER_TARGETS


def target_label(target: str, language: str) -> str:
    """Whom a reminder is for, as its buttons and lists name it."""
    _ = translator(language)
    labels = {
        Target.ALL: _("Everyone"),
        Target.UNFINISHED_1: _("Not finished phase 1"),
        Target.FINISHED_1: _("Finished phase 1"),
        Target.UNFINISHED_2: _("Not finished phase 2"),
        Target.FINISHED_2: _("Finished phase 2"),
        Target.CARRIERS: _("Carriers and authors"),
    }
    try:
        return labels[Target(target)]
    except (KeyError, ValueError):
        return target


def reminder_keyboard(mailing_id: int, target: str, language: str) -> InlineKeyboardMarkup:
    """A reminder's preview: its target (the chosen one ticked), then schedule or cancel."""
    gettext = translator(language)
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if choice == target else "") + target_label(choice, language),
                callback_data=mailing_data(MailingAction.TARGET, mailing_id, choice),
            )
        ]
        for choice in MAILING_TARGETS
    ]
    rows.append(
        [
            InlineKeyboardButton(
                "⏰ " + gettext("Schedule"),
                callback_data=mailing_data(MailingAction.SCHEDULE, mailing_id),
            ),
            InlineKeyboardButton(
                gettext("Cancel"), callback_data=mailing_data(MailingAction.CANCEL, mailing_id)
            ),
        ]
    )
    return InlineKeyboardMarkup(rows)


def scheduled_keyboard(mailing_id: int, language: str) -> InlineKeyboardMarkup:
    """A reminder just scheduled: it can still be cancelled from there."""
    gettext = translator(language)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "✖ " + gettext("Cancel this reminder"),
                    callback_data=mailing_data(MailingAction.CANCEL, mailing_id),
                )
            ]
        ]
    )


def broadcast_keyboard(mailing_id: int, recipients: int, language: str) -> InlineKeyboardMarkup:
    """A broadcast's preview: "📣 Send to N participants", or cancel."""
    gettext, ngettext = translator(language), ngettext_for(language)
    send = ngettext(
        "Send to {count} participant", "Send to {count} participants", recipients
    ).format(count=number(recipients, language))
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "📣 " + send, callback_data=mailing_data(MailingAction.CONFIRM, mailing_id)
                )
            ],
            [
                InlineKeyboardButton(
                    gettext("Cancel"), callback_data=mailing_data(MailingAction.CANCEL, mailing_id)
                )
            ],
        ]
    )


def reminders_keyboard(
    cancellable: Sequence[tuple[int, int]], language: str
) -> InlineKeyboardMarkup | None:
    """/reminders: one cancel button per reminder still to come, by its number in the list."""
    gettext = translator(language)
    buttons = [
        InlineKeyboardButton(
            "✖ " + gettext("Cancel {number}").format(number=number),
            callback_data=mailing_data(MailingAction.CANCEL_LISTED, mailing_id),
        )
        for number, mailing_id in cancellable
    ]
    rows = [buttons[start : start + 3] for start in range(0, len(buttons), 3)]
    return InlineKeyboardMarkup(rows) if rows else None


# -- organisers: /workshops, the questions after /newsession, /timezone --------------------

_ORGANISER_ACTIONS = ("link", "sessions", "revoke", "close", "closeyes", "keep", "skip")


@dataclass(frozen=True)
class OrganiserButton:
    """A press on a workshop's button (/workshops) or on a question's skip button."""

    action: str
    workshop_id: int
    question: str | None = None  # the question a skip button skips; what revoke replaces


def organiser_data(action: str, workshop_id: int, question: str | None = None) -> str:
    tail = f":{question}" if question else ""
    return checked_data(f"{ORGANISER_PREFIX}:{action}:{workshop_id}{tail}")


def parse_organiser_data(data: str) -> OrganiserButton | None:
    """The organiser button `data` names, or None (forged, or not one)."""
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != ORGANISER_PREFIX or not parts[2].isdecimal():
        return None
    # A skip names its question; "new facilitator link" the start of the code it replaces,
    # so that a double tap replaces it once.
    if parts[1] not in _ORGANISER_ACTIONS or (parts[1] in ("skip", "revoke")) != (len(parts) == 4):
        return None
    return OrganiserButton(parts[1], int(parts[2]), parts[3] if len(parts) == 4 else None)


REPLACED_SHOWN = 8  # characters of the facilitator code a "new link" button carries


def workshop_keyboard(
    workshop_id: int, *, is_open: bool, language: str, facilitator_code: str
) -> InlineKeyboardMarkup:
    """A workshop's buttons in /workshops."""
    gettext = translator(language)

    def button(label: str, action: str) -> InlineKeyboardButton:
        replaced = facilitator_code[:REPLACED_SHOWN] if action == "revoke" else None
        data = organiser_data(action, workshop_id, replaced)
        return InlineKeyboardButton(label, callback_data=data)

    rows = [
        [
            button("🔗 " + gettext("Join link"), "link"),
            button("📅 " + gettext("Sessions"), "sessions"),
        ]
    ]
    if is_open:
        rows.append(
            [
                button("🔑 " + gettext("New facilitator link"), "revoke"),
                button("🔒 " + gettext("Close"), "close"),
            ]
        )
    return InlineKeyboardMarkup(rows)


def close_keyboard(workshop_id: int, language: str) -> InlineKeyboardMarkup:
    """The confirmation before a workshop is closed."""
    gettext = translator(language)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🔒 " + gettext("Yes, close it"),
                    callback_data=organiser_data("closeyes", workshop_id),
                ),
                InlineKeyboardButton(
                    gettext("Keep it open"), callback_data=organiser_data("keep", workshop_id)
                ),
            ]
        ]
    )


def skip_keyboard(workshop_id: int, question: str, language: str) -> InlineKeyboardMarkup:
    """The one button under a question of /newsession: skip it."""
    gettext = translator(language)
    label = "⏭ " + gettext("Skip")
    data = organiser_data("skip", workshop_id, question)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


def timezone_keyboard(zones: Sequence[str]) -> InlineKeyboardMarkup:
    """A button per common time zone, two a row."""
    buttons = [
        InlineKeyboardButton(zone, callback_data=checked_data(f"{TIMEZONE_PREFIX}:{zone}"))
        for zone in zones
    ]
    return InlineKeyboardMarkup([buttons[start : start + 2] for start in range(0, len(buttons), 2)])


def parse_timezone_data(data: str) -> str | None:
    prefix, _, zone = data.partition(":")
    return zone if prefix == TIMEZONE_PREFIX and zone else None
