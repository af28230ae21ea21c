"""The `coopbot` command: `run` (the bot, or the offline rehearsal without a token), `check`,
`export` and `report` (a workshop's files, or its report for elected officials, to a folder),
`migrate` (a SQLite deployment copied into PostgreSQL)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dotenv import find_dotenv, load_dotenv

from bot.settings import Settings, SettingsError
from flows.journey_file import JourneyError
from storage.address import shown_target

if TYPE_CHECKING:
    from telegram.ext import Application


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Every poll is an HTTP request; keep the bot's own log readable.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    # Its first start in a fresh home logs that it built a font cache.
    logging.getLogger("matplotlib").setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coopbot",
        description="A Telegram assistant for cooperation workshops.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser(
        "run",
        help="run the bot (with TELEGRAM_BOT_TOKEN), else the offline rehearsal",
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates by webhook instead of polling (also when COOPBOT_WEBHOOK_URL is set)",
    )
    run.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where this worker's webhook server listens (COOPBOT_WEBHOOK_LISTEN)",
    )
    run.add_argument(
        "--public-url",
        metavar="URL",
        help="the https address Telegram posts updates to (COOPBOT_WEBHOOK_URL)",
    )
    commands.add_parser("rehearse", help="rehearse a workshop offline against the emulator")
    commands.add_parser("check", help="check the configuration and the journey file, then exit")
    export = commands.add_parser(
        "export", help="write a workshop's answers.csv, synthesis.md and charts to a folder"
    )
    export.add_argument("code", help="the workshop's join code (or its facilitator code)")
    export.add_argument("--out", required=True, help="the folder to write the files in")
    export.add_argument(
        "--language", choices=("fr", "en"), default=None, help="default: COOPBOT_DEFAULT_LANGUAGE"
    )
    report = commands.add_parser(
        "report", help="write a workshop's report for elected officials (.docx) to a folder"
    )
    report.add_argument("code", help="the workshop's join code (or its facilitator code)")
    report.add_argument("--out", required=True, help="the folder to write the report in")
    report.add_argument(
        "--language", choices=("fr", "en"), default=None, help="default: COOPBOT_DEFAULT_LANGUAGE"
    )
    migrate = commands.add_parser(
        "migrate", help="copy a SQLite deployment into an empty PostgreSQL database"
    )
    migrate.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="FILE",
        help="the SQLite file (brought to the latest schema first)",
    )
    migrate.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="postgresql://…",
        help="the empty PostgreSQL database to copy into",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv(find_dotenv(usecwd=True))  # the .env of the directory coopbot runs in
    arguments = _parser().parse_args(argv)
    _configure_logging(arguments.verbose)
    command = arguments.command or "run"
    if command == "migrate":  # needs neither a token nor COOPBOT_DB: it names both ends
        from bot.migrate_command import run_migrate

        return run_migrate(arguments.source, arguments.target, sys.stdout)
    flags = [getattr(arguments, name, None) for name in ("webhook", "listen", "public_url")]
    webhook = command == "run" and any(flag not in (None, False) for flag in flags)
    try:
        settings = Settings.from_env(_with_flags(arguments) if webhook else None)
        if webhook and settings.webhook_url is None:
            raise SettingsError(
                "run --webhook needs --public-url (or COOPBOT_WEBHOOK_URL): the https "
                "address Telegram sends the updates to, and --listen (or "
                "COOPBOT_WEBHOOK_LISTEN): where this worker receives them."
            )
        if settings.webhook_url is not None and settings.token is None:
            raise SettingsError(
                "webhook mode needs TELEGRAM_BOT_TOKEN; unset COOPBOT_WEBHOOK_URL to run the "
                "offline rehearsal."
            )
        from bot.settings import SUPPORTED_LANGUAGES
        from flows.journey_file import DEFAULT_JOURNEY, default_journey
        from locales import catalog_path, translations

        default_journey()
        for language in SUPPORTED_LANGUAGES:
            translations(language)
    except (SettingsError, JourneyError, FileNotFoundError) as error:
        print(f"coopbot: {error}", file=sys.stderr)
        return 2
    if command == "rehearse" or (command == "run" and settings.token is None):
        from bot.rehearsal import rehearse

        return rehearse(settings)  # on its own file: the configured one is not touched
    problem = _database_problem(settings)
    if problem:
        print(f"coopbot: {problem}", file=sys.stderr)
        return 2
    if command == "check":
        # Where they were found: an install that reads the wrong copy shows it here.
        print(f"coopbot: journey file {DEFAULT_JOURNEY.resolve()}")
        for language in SUPPORTED_LANGUAGES:
            print(f"coopbot: {language} catalog {catalog_path(language).resolve()}")
        print(f"coopbot: database {shown_target(settings.database)}")
        print("coopbot: configuration, catalogs, journey and database are valid.")
        return 0
    if command == "export":
        return _export(
            settings, arguments.code, arguments.out, arguments.language or settings.default_language
        )
    if command == "report":
        return _report(
            settings, arguments.code, arguments.out, arguments.language or settings.default_language
        )
    return _run_bot(settings)


def _with_flags(arguments: argparse.Namespace) -> dict[str, str]:
    """The environment, with `run`'s webhook flags in place of the settings they stand for."""
    import os

    env = dict(os.environ)
    if arguments.listen is not None:
        env["COOPBOT_WEBHOOK_LISTEN"] = arguments.listen
    if arguments.public_url is not None:
        env["COOPBOT_WEBHOOK_URL"] = arguments.public_url
    return env


def _report(settings: Settings, code: str, out: str, language: str) -> int:
    """The same document as /report, written to `out`; prints its path."""
    from pathlib import Path

    from bot.conclusions import NoReport, write_report
    from flows.journey_file import default_journey
    from storage.db import Database

    async def write() -> Path:
        database = await Database.open(settings.database)
        try:
            return await write_report(
                database,
                default_journey(),
                code=code,
                out=Path(out),
                language=language,
                min_group=settings.min_group,
                zone=settings.timezone,
            )
        finally:
            await database.close()

    try:
        path = asyncio.run(write())
    except NoReport as error:
        print(f"coopbot: {error} in {shown_target(settings.database)}.", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"coopbot: cannot write to {out}: {error.strerror}.", file=sys.stderr)
        return 2
    print(path)
    return 0


def _export(settings: Settings, code: str, out: str, language: str) -> int:
    """The same files as /export, written to `out`; for whoever runs coopbot's server."""
    from pathlib import Path

    from flows.engine import JourneyEngine
    from flows.facilitation import FacilitationService
    from flows.journey_file import default_journey
    from reports.files import export_files
    from storage.db import Database

    async def build() -> list[tuple[str, bytes]] | None:
        database = await Database.open(settings.database)
        try:
            journey = default_journey()
            facilitation = FacilitationService(
                database, JourneyEngine(journey), min_group=settings.min_group
            )
            workshop = await facilitation.workshop_by_code(code)
            if workshop is None:
                return None
            found = await facilitation.report_of(workshop)
            return [(f.name, f.data) for f in export_files(journey, found, language)]
        finally:
            await database.close()

    files = asyncio.run(build())
    if files is None:
        print(
            f"coopbot: no workshop has the code {code!r} in {shown_target(settings.database)}.",
            file=sys.stderr,
        )
        return 2
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files:
            (folder / name).write_bytes(data)
    except OSError as error:
        print(f"coopbot: cannot write to {folder}: {error.strerror}.", file=sys.stderr)
        return 2
    print(f"coopbot: wrote {', '.join(name for name, _ in files)} to {folder}.")
    return 0


def _database_problem(settings: Settings) -> str | None:
    """Open and migrate the database once, so that a bad COOPBOT_DB stops with one line."""
    from storage.db import Database, DatabaseError

    async def probe() -> None:
        database = await Database.open(settings.database)
        await database.close()

    try:
        asyncio.run(probe())
    except (OSError, RuntimeError) as error:
        return f"COOPBOT_DB {shown_target(settings.database)} cannot be used: {error}"
    except DatabaseError as error:
        return f"COOPBOT_DB {shown_target(settings.database)} cannot be used: {error}"
    return None


def _run_bot(settings: Settings) -> int:
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.web.server import ListenError
    from bot.webhook import WebhookListenError

    application = build_application(settings)
    try:
        if settings.webhook_url is not None:
            asyncio.run(_serve_webhook(application))
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except WebhookListenError as error:
        print(
            f"coopbot: the webhook server {error}: change COOPBOT_WEBHOOK_LISTEN (--listen).",
            file=sys.stderr,
        )
        return 2
    except ListenError as error:
        print(
            f"coopbot: the live screen {error}: change COOPBOT_WEB_LISTEN, or leave it unset "
            "to run without the live screen.",
            file=sys.stderr,
        )
        return 2
    except InvalidToken:
        print(
            "coopbot: Telegram refused TELEGRAM_BOT_TOKEN; copy the token again from @BotFather.",
            file=sys.stderr,
        )
        return 2
    except NetworkError as error:
        print(
            f"coopbot: cannot reach the Bot API at {settings.api_base_url} ({error}); "
            "check TELEGRAM_API_BASE_URL and the network.",
            file=sys.stderr,
        )
        return 2
    return 0


async def _serve_webhook(application: Application) -> None:
    """One webhook worker, until SIGINT or SIGTERM; the webhook stays registered for the
    other workers."""
    import signal

    from bot.app import running_webhook

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stopping.set)
    async with running_webhook(application):
        await stopping.wait()
        logging.getLogger(__name__).info("stopping: finishing the updates in hand")


if __name__ == "__main__":
    raise SystemExit(main())
