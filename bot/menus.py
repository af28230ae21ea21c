"""The command menu (setMyCommands): per language, and per role for facilitators and organisers."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from flows.journey import LANGUAGES
from reports.text import translator

log = logging.getLogger(__name__)


def participant_commands(language: str) -> list[BotCommand]:
    _ = translator(language)
    return [
        BotCommand("progress", _("Where you are in the workshop")),
        BotCommand("back", _("Go back to the previous question")),
        BotCommand("skip", _("Skip an optional question")),
        BotCommand("pause", _("Take a break; your answers are kept")),
        BotCommand("resume", _("Show the current question again")),
        BotCommand("join", _("Join a workshop with its code")),
        BotCommand("language", _("Change the language")),
        BotCommand("timezone", _("Your time zone, for reminders and dates")),
        BotCommand("mydata", _("Get everything stored about you")),
        BotCommand("forget", _("Erase everything stored about you")),
        BotCommand("help", _("How this bot works")),
    ]


def facilitation_commands(language: str) -> list[BotCommand]:
    """What facilitators do beyond what participants do."""
    _ = translator(language)
    return [
        BotCommand("progress", _("Live progress of your workshops")),
        BotCommand("open", _("Open the second phase: /open peers")),
        BotCommand("peers", _("Phase 2 waits for you or follows: /peers wait|follow")),
        BotCommand("caucus", _("Peer groups choose their statements: /caucus keep N|off|on")),
        BotCommand("agora", _("Open the agora; /agora room paces it; /agora close ends it")),
        BotCommand("review", _("Statements waiting for review; /review off|on")),
        BotCommand("statements", _("The agora's statements, numbered")),
        BotCommand("approve", _("Put a new statement to everyone: /approve number")),
        BotCommand("reject", _("Keep a new statement out: /reject number")),
        BotCommand("withdraw", _("Take a statement back: /withdraw number")),
        BotCommand("resolutions", _("What the room converged on, who carries it, by when")),
        BotCommand("cancel", _("Stop typing a resolution's text, carrier or date")),
        BotCommand("synthesis", _("The group's synthesis: /synthesis [1|2|agora]")),
        BotCommand("export", _("Answers, synthesis and charts as files")),
        BotCommand("share", _("Send the group's results to every participant")),
        BotCommand("remind", _("Schedule a reminder: /remind code when text")),
        BotCommand("reminders", _("The workshop's reminders, to cancel one")),
        BotCommand("broadcast", _("A message to every participant, after a preview")),
        BotCommand("decantation", _("When the ninth moment is sent: /decantation code days")),
        BotCommand("followup", _("Ask carriers where they stand: /followup code date")),
    ]


def organiser_commands(language: str) -> list[BotCommand]:
    _ = translator(language)
    return [
        BotCommand("newsession", _("Create a workshop: /newsession title")),
        BotCommand("workshops", _("Your workshops: links, sessions, close, revoke")),
        BotCommand("session", _("Add a session: /session code date time place")),
        BotCommand("close", _("Close a workshop: /close code")),
        BotCommand("revoke", _("A new facilitator link: /revoke code")),
        BotCommand("coorganiser", _("Add a co-organiser: /coorganiser code user id")),
        BotCommand("audit", _("Who did what to a workshop: /audit code")),
        BotCommand("health", _("How the bot is doing: uptime, database, queues, faults")),
    ]


def facilitator_commands(language: str, *, organiser: bool) -> list[BotCommand]:
    """A facilitator's menu: their own commands, then the participants' (but /progress,
    which serves both)."""
    commands = facilitation_commands(language)
    if organiser:
        commands += organiser_commands(language)
    return commands + participant_commands(language)[1:]


async def publish_default_commands(bot: Bot, *, default_language: str) -> None:
    """The participants' menu for every language, and the default language's for the rest."""
    for language in LANGUAGES:
        await bot.set_my_commands(
            participant_commands(language), scope=BotCommandScopeDefault(), language_code=language
        )
    await bot.set_my_commands(
        participant_commands(default_language), scope=BotCommandScopeDefault()
    )


async def publish_role_commands(bot: Bot, *, chat_id: int, language: str, organiser: bool) -> None:
    """A facilitator's or organiser's own menu, in their chat only."""
    try:
        await bot.set_my_commands(
            facilitator_commands(language, organiser=organiser),
            scope=BotCommandScopeChat(chat_id),
        )
    except TelegramError:
        log.warning("could not set the role menu for chat %s", chat_id, exc_info=True)


async def withdraw_role_commands(bot: Bot, *, chat_id: int) -> None:
    """Back to the participants' menu (after the user erased their data and roles)."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        log.warning("could not remove the role menu for chat %s", chat_id, exc_info=True)
