"""Settings: defaults, and one clear line for each bad value."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings, SettingsError
from bot.webhook import webhook_secret
from storage.address import shown_target
from tgemu import BotApiEmulator


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.token is None
    assert settings.api_base_url == "https://api.telegram.org/bot"
    assert settings.api_base_file_url == "https://api.telegram.org/file/bot"
    assert settings.database == "coopbot.sqlite3"
    assert settings.organisers == frozenset()
    assert settings.timezone.key == "Europe/Paris"
    assert settings.default_language == "fr"
    assert settings.messages_per_second == 30
    assert (settings.flood_limit, settings.flood_period) == (20, 10.0)


def test_flood_control_is_read_and_can_be_turned_off() -> None:
    settings = Settings.from_env({"COOPBOT_FLOOD_LIMIT": "40/15"})
    assert (settings.flood_limit, settings.flood_period) == (40, 15.0)
    assert Settings.from_env({"COOPBOT_FLOOD_LIMIT": "off"}).flood_limit == 0
    # Built in code (tests, benchmarks): off unless asked for.
    assert Settings().flood_limit == 0


def test_the_live_screen_is_off_unless_asked_for() -> None:
    assert Settings.from_env({}).web_listen is None
    assert Settings.from_env({}).public_url is None
    settings = Settings.from_env(
        {
            "COOPBOT_WEB_LISTEN": "0.0.0.0:8080",
            "COOPBOT_PUBLIC_URL": "https://coopbot.example.org/",
        }
    )
    assert settings.web_listen == ("0.0.0.0", 8080)
    assert settings.public_url == "https://coopbot.example.org"  # no trailing slash
    assert Settings.from_env({"COOPBOT_WEB_LISTEN": "[::1]:0"}).web_listen == ("::1", 0)


def test_webhook_mode_is_off_unless_asked_for() -> None:
    settings = Settings.from_env({})
    assert (settings.webhook_url, settings.webhook_listen, settings.webhook_secret) == (
        None,
        None,
        None,
    )
    settings = Settings.from_env(
        {
            "COOPBOT_WEBHOOK_URL": "https://bot.example.org:8443/telegram",
            "COOPBOT_WEBHOOK_LISTEN": "0.0.0.0:8443",
            "COOPBOT_WEBHOOK_SECRET": "Az09_-" * 4,
        }
    )
    assert settings.webhook_url == "https://bot.example.org:8443/telegram"
    assert settings.webhook_listen == ("0.0.0.0", 8443)
    assert settings.webhook_secret == "Az09_-" * 4


def test_the_webhook_secret_is_derived_from_the_token_unless_set() -> None:
    one = Settings(token="123:abc")
    derived = webhook_secret(one)
    assert derived == webhook_secret(Settings(token="123:abc"))  # every worker agrees
    assert derived != webhook_secret(Settings(token="123:abd"))
    assert re.fullmatch(r"[0-9a-f]{64}", derived)  # within Telegram's rule
    assert "abc" not in derived
    assert webhook_secret(replace(one, webhook_secret="mine")) == "mine"


def test_run_webhook_without_its_address_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("COOPBOT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("COOPBOT_WEBHOOK_LISTEN", raising=False)
    assert main(["run", "--webhook"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "--public-url" in error
    assert main(["run", "--public-url", "http://bot.example.org", "--listen", ":1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "COOPBOT_WEBHOOK_URL must be an https" in error


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "COOPBOT_DB": "/tmp/x.sqlite3",
            "COOPBOT_ORGANISERS": "12, 34;56",
            "COOPBOT_TIMEZONE": "America/Cayenne",
            "COOPBOT_DEFAULT_LANGUAGE": "en-GB",
            "COOPBOT_MESSAGES_PER_SECOND": "100",
        }
    )
    assert settings.messages_per_second == 100
    assert settings.token == "123:abc"
    assert settings.api_base_file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.organisers == frozenset({12, 34, 56})
    assert settings.timezone.key == "America/Cayenne"
    assert settings.default_language == "en"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TELEGRAM_BOT_TOKEN", "nonsense", "TELEGRAM_BOT_TOKEN is malformed"),
        ("TELEGRAM_API_BASE_URL", "ftp://x", "TELEGRAM_API_BASE_URL must start"),
        ("COOPBOT_ORGANISERS", "12,bob", "COOPBOT_ORGANISERS must list numeric"),
        ("COOPBOT_TIMEZONE", "Mars/Olympus", "COOPBOT_TIMEZONE 'Mars/Olympus' is not"),
        ("COOPBOT_DEFAULT_LANGUAGE", "de", "COOPBOT_DEFAULT_LANGUAGE 'de' is not supported"),
        ("COOPBOT_MESSAGES_PER_SECOND", "0", "COOPBOT_MESSAGES_PER_SECOND must be a whole"),
        ("COOPBOT_MESSAGES_PER_SECOND", "fast", "COOPBOT_MESSAGES_PER_SECOND must be a whole"),
        ("COOPBOT_FLOOD_LIMIT", "20", "COOPBOT_FLOOD_LIMIT must be updates/seconds"),
        ("COOPBOT_FLOOD_LIMIT", "0/10", "COOPBOT_FLOOD_LIMIT must be updates/seconds"),
        ("COOPBOT_FLOOD_LIMIT", "20/x", "COOPBOT_FLOOD_LIMIT must be updates/seconds"),
        ("COOPBOT_WEB_LISTEN", "8080", "COOPBOT_WEB_LISTEN must be host:port"),
        ("COOPBOT_WEB_LISTEN", "127.0.0.1:http", "COOPBOT_WEB_LISTEN must be host:port"),
        ("COOPBOT_WEB_LISTEN", "127.0.0.1:70000", "COOPBOT_WEB_LISTEN must be host:port"),
        ("COOPBOT_PUBLIC_URL", "coopbot.example.org", "COOPBOT_PUBLIC_URL must start"),
        ("COOPBOT_PUBLIC_URL", "https://", "COOPBOT_PUBLIC_URL must start"),
        ("COOPBOT_PUBLIC_URL", "https://example.org/coopbot", "must be the root of a host"),
        ("COOPBOT_WEBHOOK_URL", "http://bot.example.org", "COOPBOT_WEBHOOK_URL must be an https"),
        ("COOPBOT_WEBHOOK_URL", "https://", "COOPBOT_WEBHOOK_URL must be an https"),
        ("COOPBOT_WEBHOOK_URL", "https://bot.example.org:9000", "the ports Telegram allows"),
        ("COOPBOT_WEBHOOK_URL", "https://bot.example.org", "COOPBOT_WEBHOOK_LISTEN must be set"),
        ("COOPBOT_WEBHOOK_LISTEN", "127.0.0.1:8443", "COOPBOT_WEBHOOK_URL must be set"),
        ("COOPBOT_WEBHOOK_LISTEN", "8443", "COOPBOT_WEBHOOK_LISTEN must be host:port"),
        ("COOPBOT_WEBHOOK_SECRET", "not allowed!", "COOPBOT_WEBHOOK_SECRET must be 1 to 256"),
        ("COOPBOT_WEBHOOK_SECRET", "x" * 257, "COOPBOT_WEBHOOK_SECRET must be 1 to 256"),
    ],
)
def test_a_bad_value_is_named(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_env({name: value})


def test_the_command_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COOPBOT_TIMEZONE", "Nowhere/Atlantis")
    assert main(["check"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "COOPBOT_TIMEZONE" in error


def test_a_dotenv_file_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COOPBOT_TIMEZONE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("COOPBOT_TIMEZONE=Nowhere/Atlantis\n")
    try:
        assert main(["check"]) == 2
    finally:  # load_dotenv wrote into the process environment
        os.environ.pop("COOPBOT_TIMEZONE", None)
    assert "Nowhere/Atlantis" in capsys.readouterr().err


def test_an_unusable_database_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COOPBOT_DB", str(tmp_path))  # a directory, not a file
    assert main(["check"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and error.startswith("coopbot: COOPBOT_DB")


def test_check_passes_on_a_good_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COOPBOT_DB", str(tmp_path / "ok.sqlite3"))
    assert main(["check"]) == 0
    assert "valid" in capsys.readouterr().out
    assert (tmp_path / "ok.sqlite3").exists()


async def test_a_live_screen_port_taken_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    """`coopbot run` (a process of its own, against the emulator) whose COOPBOT_WEB_LISTEN
    port is taken says so in one line, without a traceback."""
    async with BotApiEmulator() as emulator:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            environment = {
                **os.environ,
                "TELEGRAM_BOT_TOKEN": emulator.token,
                "TELEGRAM_API_BASE_URL": emulator.base_url,
                "COOPBOT_DB": str(tmp_path / "bot.sqlite3"),
                "COOPBOT_WEB_LISTEN": f"127.0.0.1:{port}",
            }
            bot = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                env=environment,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            _, error = await asyncio.wait_for(bot.communicate(), 60)
    said = [line for line in error.decode().splitlines() if line.startswith("coopbot:")]
    assert bot.returncode == 2
    assert len(said) == 1 and "COOPBOT_WEB_LISTEN" in said[0] and f":{port}" in said[0]
    assert "Traceback" not in error.decode()


async def test_a_webhook_port_taken_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    async with BotApiEmulator() as emulator:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            environment = {
                **os.environ,
                "TELEGRAM_BOT_TOKEN": emulator.token,
                "TELEGRAM_API_BASE_URL": emulator.base_url,
                "COOPBOT_DB": str(tmp_path / "bot.sqlite3"),
            }
            bot = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                "--webhook",
                "--listen",
                f"127.0.0.1:{port}",
                "--public-url",
                "https://bot.example.org",
                env=environment,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            _, error = await asyncio.wait_for(bot.communicate(), 60)
    said = [line for line in error.decode().splitlines() if line.startswith("coopbot:")]
    assert bot.returncode == 2
    assert len(said) == 1 and "COOPBOT_WEBHOOK_LISTEN" in said[0] and f":{port}" in said[0]
    assert "Traceback" not in error.decode()


def test_coopbot_db_is_a_file_or_a_postgresql_address() -> None:
    assert Settings.from_env({"COOPBOT_DB": "./data/coopbot.sqlite3"}).database == (
        "./data/coopbot.sqlite3"
    )
    server = "POSTGRESQL://coopbot:secret@db.example.org:5432/coopbot"
    assert Settings.from_env({"COOPBOT_DB": server}).database == server
    for other in ("mysql://u:secret@h/db", "postgresql+asyncpg://u:secret@h/db"):
        with pytest.raises(SettingsError) as refused:
            Settings.from_env({"COOPBOT_DB": other})
        assert "postgresql://" in str(refused.value) and "secret" not in str(refused.value)


def test_a_servers_password_is_never_shown() -> None:
    for address in (
        "postgresql://coopbot:s3cret@db.example.org/coopbot",
        "postgresql://coopbot@db.example.org/coopbot?sslmode=require&password=s3cret",
        "postgres://db.example.org/coopbot?PASSWORD=s3cret",
    ):
        shown = shown_target(address)
        assert "s3cret" not in shown and "***" in shown and "db.example.org" in shown
