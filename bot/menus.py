"""The command menu (setMyCommands): per language, and per role for facilitators and organisers.

Every command has its French name too (`/synthese` for `/synthesis`): both work for
everyone, whatever their language, through the same handler; the French menu and help
list the French names, the others the English ones.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from flows.journey import LANGUAGES
from reports.text import translator

log = logging.getLogger(__name__)

# The English name of a command → its French name (Telegram's [a-z0-9_], no accents). A
# command named alike in both languages (/pause, /agora, /caucus…) is not listed.
FRENCH_NAMES: dict[str, str] = {
    "start": "demarrer",
    "join": "rejoindre",
    "back": "retour",
    "skip": "passer",
    "resume": "reprendre",
    "progress": "progression",
    "newsession": "nouvelatelier",
    "open": "ouvrir",
    "peers": "pairs",
    "statements": "enonces",
    "withdraw": "retirer",
    "approve": "approuver",
    "reject": "rejeter",
    "review": "validation",
    "synthesis": "synthese",
    "export": "exporter",
    "share": "partager",
    "screen": "ecran",
    "quotes": "citations",
    "report": "releve",
    "help": "aide",
    "language": "langue",
    "whoami": "quisuisje",
    "mydata": "mesdonnees",
    "forget": "oublier",
    "workshops": "ateliers",
    "session": "seance",
    "close": "clore",
    "revoke": "revoquer",
    "audit": "journal",
    "health": "sante",
    "timezone": "fuseau",
    "remind": "rappel",
    "reminders": "rappels",
    "broadcast": "annonce",
    "followup": "suivi",
    "cancel": "annuler",
}

# The words after some commands, in French → as the handlers read them (the first word
# only: "/agora salle", "/pairs attendre", "/validation non", "/synthese à 17h30"). Where
# two French words mean one English word, texts name the last one.
FRENCH_WORDS: dict[str, dict[str, str]] = {
    "open": {"pairs": "peers"},
    "peers": {"attendre": "wait", "suivre": "follow"},
    "agora": {"salle": "room", "fermer": "close", "ordre": "order"},
    "review": {"oui": "on", "non": "off"},
    "caucus": {
        "oui": "on",
        "non": "off",
        "garder": "keep",
        "engagements": "commitments",
        "aide": "help",
    },
    "synthesis": {"a": "at", "à": "at"},
}


def names(command: str) -> tuple[str, ...]:
    """Every name a command answers to: its English name, and its French one if it has one."""
    french = FRENCH_NAMES.get(command)
    return (command, french) if french else (command,)


def command_name(command: str, language: str) -> str:
    """A command's name as the reader's language lists it (without the slash)."""
    return FRENCH_NAMES.get(command, command) if language == "fr" else command


def english_words(command: str, args: list[str]) -> list[str]:
    """The words typed after `command` with a French first word read as its English one."""
    words = FRENCH_WORDS.get(command, {})
    if args and (english := words.get(args[0].lower())) is not None:
        return [english, *args[1:]]
    return args


def spoken(command: str, language: str) -> str:
    """A command as the reader's language names it in a text: "/peers wait" reads
    "/pairs attendre" in French; unchanged otherwise, or already French."""
    head, _, rest = command.partition(" ")
    name = head.removeprefix("/")
    if language != "fr" or not head.startswith("/") or name not in {*FRENCH_NAMES, *FRENCH_WORDS}:
        return command
    french = {english: word for word, english in FRENCH_WORDS.get(name, {}).items()}
    first, _, tail = rest.partition(" ")
    words = ["/" + FRENCH_NAMES.get(name, name), french.get(first.lower(), first), tail]
    return " ".join(word for word in words if word)


def _menu(language: str, entries: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command_name(name, language), text) for name, text in entries]


def participant_commands(language: str) -> list[BotCommand]:
    _ = translator(language)
    return _menu(
        language,
        [
            ("progress", _("Where you are in the workshop")),
            ("back", _("Go back to the previous question")),
            ("skip", _("Skip an optional question")),
            ("pause", _("Take a break; your answers are kept")),
            ("resume", _("Show the current question again")),
            ("join", _("Join a workshop with its code")),
            ("language", _("Change the language")),
            ("timezone", _("Your time zone, for reminders and dates")),
            ("mydata", _("Get everything stored about you")),
            ("forget", _("Erase everything stored about you")),
            ("help", _("How this bot works")),
        ],
    )


def facilitation_commands(language: str) -> list[BotCommand]:
    """What facilitators do beyond what participants do."""
    _ = translator(language)
    return _menu(
        language,
        [
            ("progress", _("Live progress of your workshops")),
            ("screen", _("The live screen to project in the room")),
            ("open", _("Open the second phase: /open peers")),
            ("peers", _("Phase 2 waits for you or follows: /peers wait|follow")),
            ("caucus", _("Peer groups choose their statements: /caucus keep N|off|on")),
            ("agora", _("Open the agora; /agora room paces it; /agora close ends it")),
            ("review", _("Statements waiting for review; /review off|on")),
            ("statements", _("The agora's statements, numbered")),
            ("approve", _("Put a new statement to everyone: /approve number")),
            ("reject", _("Keep a new statement out: /reject number")),
            ("withdraw", _("Take a statement back: /withdraw number")),
            ("resolutions", _("What the room converged on, who carries it, by when")),
            ("cancel", _("Stop typing a resolution's text, carrier or date")),
            ("synthesis", _("The group's synthesis: /synthesis [1|2|agora]")),
            ("export", _("Answers, synthesis and charts as files")),
            ("share", _("Send the group's results to every participant")),
            ("quotes", _("Choose the quotes the report shows")),
            ("report", _("The report for elected officials, as a document")),
            ("remind", _("Schedule a reminder: /remind code when text")),
            ("reminders", _("The workshop's reminders, to cancel one")),
            ("broadcast", _("A message to every participant, after a preview")),
            ("decantation", _("When the last two moments are sent: /decantation code days")),
            ("followup", _("Ask carriers where they stand: /followup code date")),
        ],
    )


def organiser_commands(language: str) -> list[BotCommand]:
    _ = translator(language)
    return _menu(
        language,
        [
            ("newsession", _("Create a workshop: /newsession title")),
            ("workshops", _("Your workshops: links, sessions, close, revoke")),
            ("session", _("Add a session: /session code date time place")),
            ("close", _("Close a workshop: /close code")),
            ("revoke", _("A new facilitator link: /revoke code")),
            ("coorganiser", _("Add a co-organiser: /coorganiser code user id")),
            ("audit", _("Who did what to a workshop: /audit code")),
            ("health", _("How the bot is doing: uptime, database, queues, faults")),
        ],
    )


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
