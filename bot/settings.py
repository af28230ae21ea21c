"""Configuration from the environment (and an optional `.env` file), in one typed object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from flows.journey import LANGUAGES
from flows.outbox import QuietHours
from storage.address import address_problem

SUPPORTED_LANGUAGES = LANGUAGES
TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs to know about its deployment."""

    token: str | None = None
    api_base_url: str = TELEGRAM_API_BASE_URL
    # A SQLite file (the default) or a PostgreSQL server's postgresql:// address.
    database: str = "coopbot.sqlite3"
    organisers: frozenset[int] = field(default_factory=frozenset)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))
    default_language: str = "fr"
    max_answer_length: int = 2000
    # Telegram's broadcast limit: about 30 messages a second across all chats, more with
    # its paid broadcasts. The bot never sends faster than this.
    messages_per_second: int = 30
    # No figure, theme or quote is shown for a group of fewer respondents than this.
    min_group: int = 3
    # Statements waiting for review reach the facilitators this many seconds after the first
    # of them, together, in one message per batch.
    review_delay: float = 10.0
    # Nothing automatic (reminders, invitations, the décantation) is sent between these
    # hours of the workshop's time zone: it waits for the morning.
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    # Flood control: more than `flood_limit` updates from one user in `flood_period`
    # seconds get one "slow down" reply, and the rest of the burst is dropped. 0: none.
    # `from_env` sets 20 in 10 s; built in code (the tests, the benchmarks, whose scripted
    # users answer faster than any person) it is off unless asked for.
    flood_limit: int = 0
    flood_period: float = 10.0
    # A closed workshop's participants' data is erased this many days after it closed; only
    # its overall figures stay. There is always a period: 0 ("never") is refused.
    retention_days: int = 365
    # The live screen's web server: (host, port) to listen on; None: no web server. Port 0
    # takes a free one (the tests).
    web_listen: tuple[str, int] | None = None
    # The address people reach that server at (behind a reverse proxy), without a trailing
    # slash; None: the listening address. When it is https, /screen also offers the page
    # as a Telegram Mini App.
    public_url: str | None = None
    # Webhook mode (instead of polling): the public https address Telegram posts updates
    # to (the TLS reverse proxy or load balancer in front of the workers); None: polling.
    webhook_url: str | None = None
    # Where this worker's webhook server listens, (host, port); port 0 takes a free one.
    webhook_listen: tuple[str, int] | None = None
    # The secret Telegram sends with every update (X-Telegram-Bot-Api-Secret-Token);
    # None: derived from the token (see bot/webhook.py), so that workers agree unconfigured.
    webhook_secret: str | None = None

    @property
    def api_base_file_url(self) -> str:
        """The file endpoint that goes with `api_base_url` (`.../bot` → `.../file/bot`)."""
        base = self.api_base_url.rstrip("/")
        head, _, tail = base.rpartition("/")
        return f"{head}/file/{tail}" if head else f"{base}/file"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; raise `SettingsError` with a one-line fix on a bad value."""
        env = os.environ if environ is None else environ
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
        if token is not None and (":" not in token or not token.split(":", 1)[0].isdigit()):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is malformed: expected '<digits>:<secret>' as given by "
                "@BotFather, or leave it unset to run the offline rehearsal."
            )
        base_url = env.get("TELEGRAM_API_BASE_URL", "").strip() or TELEGRAM_API_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"TELEGRAM_API_BASE_URL must start with http:// or https:// (got {base_url!r})."
            )
        flood_limit, flood_period = _parse_flood(env.get("COOPBOT_FLOOD_LIMIT", "").strip())
        webhook_url, webhook_listen, webhook_secret = _parse_webhook(env)
        database = env.get("COOPBOT_DB", "").strip() or "coopbot.sqlite3"
        if problem := address_problem(database):
            raise SettingsError(problem)
        return cls(
            token=token,
            api_base_url=base_url,
            database=database,
            organisers=_parse_organisers(env.get("COOPBOT_ORGANISERS", "")),
            timezone=_parse_timezone(env.get("COOPBOT_TIMEZONE", "").strip() or "Europe/Paris"),
            default_language=_parse_language(env.get("COOPBOT_DEFAULT_LANGUAGE", "").strip()),
            messages_per_second=_parse_rate(env.get("COOPBOT_MESSAGES_PER_SECOND", "").strip()),
            min_group=_parse_min_group(env.get("COOPBOT_MIN_GROUP", "").strip()),
            review_delay=_parse_review_delay(env.get("COOPBOT_REVIEW_DELAY", "").strip()),
            quiet_hours=_parse_quiet_hours(env.get("COOPBOT_QUIET_HOURS", "").strip()),
            flood_limit=flood_limit,
            flood_period=flood_period,
            retention_days=_parse_retention(env.get("COOPBOT_RETENTION_DAYS", "").strip()),
            web_listen=_parse_listen(
                env.get("COOPBOT_WEB_LISTEN", "").strip(),
                "COOPBOT_WEB_LISTEN",
                "the live screen's web server",
            ),
            public_url=_parse_public_url(env.get("COOPBOT_PUBLIC_URL", "").strip()),
            webhook_url=webhook_url,
            webhook_listen=webhook_listen,
            webhook_secret=webhook_secret,
        )


def _parse_webhook(
    env: Mapping[str, str],
) -> tuple[str | None, tuple[str, int] | None, str | None]:
    """COOPBOT_WEBHOOK_URL, COOPBOT_WEBHOOK_LISTEN and COOPBOT_WEBHOOK_SECRET, together."""
    url = _parse_webhook_url(env.get("COOPBOT_WEBHOOK_URL", "").strip())
    raw_listen = env.get("COOPBOT_WEBHOOK_LISTEN", "").strip()
    listen = _parse_listen(raw_listen, "COOPBOT_WEBHOOK_LISTEN", "the webhook server")
    secret = _parse_webhook_secret(env.get("COOPBOT_WEBHOOK_SECRET", "").strip())
    if url is not None and listen is None:
        raise SettingsError(
            "COOPBOT_WEBHOOK_LISTEN must be set with COOPBOT_WEBHOOK_URL: the host:port where "
            "this worker receives the updates its reverse proxy forwards, such as "
            "127.0.0.1:8443."
        )
    if url is None and listen is not None:
        raise SettingsError(
            "COOPBOT_WEBHOOK_URL must be set with COOPBOT_WEBHOOK_LISTEN: the public https "
            "address Telegram sends the updates to, such as https://bot.example.org."
        )
    return url, listen, secret


# The ports Telegram posts webhooks to.
WEBHOOK_PORTS = (443, 80, 88, 8443)


def _parse_webhook_url(raw: str) -> str | None:
    if not raw:
        return None
    parts = urlsplit(raw)
    try:
        port = parts.port or 443
    except ValueError:
        port = 0
    if parts.scheme != "https" or not parts.hostname or " " in raw or parts.fragment:
        raise SettingsError(
            f"COOPBOT_WEBHOOK_URL must be an https:// address such as https://bot.example.org "
            f"(got {raw!r}): Telegram sends updates only over https, to the reverse proxy in "
            "front of the bot."
        )
    if port not in WEBHOOK_PORTS:
        raise SettingsError(
            f"COOPBOT_WEBHOOK_URL must use one of the ports Telegram allows, "
            f"{', '.join(map(str, WEBHOOK_PORTS))} (got {raw!r})."
        )
    return raw


def _parse_webhook_secret(raw: str) -> str | None:
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", raw):
        raise SettingsError(
            "COOPBOT_WEBHOOK_SECRET must be 1 to 256 characters among A-Z, a-z, 0-9, _ and -, "
            "as Telegram requires; leave it unset to derive one from the bot token."
        )
    return raw


def _parse_listen(raw: str, name: str, server: str) -> tuple[str, int] | None:
    """`127.0.0.1:8080`, `0.0.0.0:8080`, `[::1]:8080`; empty: no such server."""
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SettingsError(
            f"{name} must be host:port such as 127.0.0.1:8080 (got {raw!r}): "
            f"where {server} listens; leave it unset for none."
        )
    return host, int(port)


def _parse_public_url(raw: str) -> str | None:
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in raw:
        raise SettingsError(
            f"COOPBOT_PUBLIC_URL must start with http:// or https:// (got {raw!r}): the "
            "address at which people reach the live screen, such as https://coopbot.example.org."
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise SettingsError(
            f"COOPBOT_PUBLIC_URL must be the root of a host, with no path (got {raw!r}): the "
            "live screen's pages are at /s/…, /app/… and /static/…; give it a host of its "
            "own, such as https://ecran.example.org."
        )
    return raw.rstrip("/")


def _parse_retention(raw: str) -> int:
    if not raw:
        return 365
    if not raw.isdigit() or not 1 <= int(raw) <= 3650:
        raise SettingsError(
            f"COOPBOT_RETENTION_DAYS must be a whole number of days from 1 to 3650 (got "
            f"{raw!r}): how long after a workshop closed its participants' data is erased "
            "(only its overall figures are kept)."
        )
    return int(raw)


def _parse_flood(raw: str) -> tuple[int, float]:
    """`20/10`: at most 20 updates per user in 10 seconds (the default); `off`: none."""
    if not raw:
        return 20, 10.0
    if raw.lower() in ("off", "none", "0"):
        return 0, 10.0
    count, _, seconds = raw.partition("/")
    try:
        limit, period = int(count.strip()), float(seconds.strip())
    except ValueError:
        limit, period = 0, 0.0
    if not (1 <= limit <= 10_000 and 0 < period <= 3600):
        raise SettingsError(
            f"COOPBOT_FLOOD_LIMIT must be updates/seconds such as 20/10, or off (got {raw!r}): "
            "the most updates one user may send in that many seconds before being asked to "
            "slow down."
        )
    return limit, period


def _parse_quiet_hours(raw: str) -> QuietHours:
    if not raw:
        return QuietHours()
    if raw.lower() in ("off", "none", "0"):
        return QuietHours.none()
    try:
        start, end = (time.fromisoformat(part.strip().zfill(5)) for part in raw.split("-"))
    except ValueError as error:
        raise SettingsError(
            f"COOPBOT_QUIET_HOURS must be two times such as 21:00-08:00, or off (got {raw!r}): "
            "the hours of the workshop's time zone in which nothing automatic is sent."
        ) from error
    return QuietHours(start, end)


def _parse_review_delay(raw: str) -> float:
    if not raw:
        return 10.0
    try:
        delay = float(raw)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 600:
        raise SettingsError(
            f"COOPBOT_REVIEW_DELAY must be a number of seconds from 0 to 600 (got {raw!r}): "
            "how long the review queue gathers new statements before showing them."
        )
    return delay


def _parse_min_group(raw: str) -> int:
    if not raw:
        return 3
    if not raw.isdigit() or not 2 <= int(raw) <= 50:
        raise SettingsError(
            f"COOPBOT_MIN_GROUP must be a whole number from 2 to 50 (got {raw!r}): the "
            "fewest respondents a group needs for its results to be shown."
        )
    return int(raw)


def _parse_rate(raw: str) -> int:
    if not raw:
        return 30
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise SettingsError(
            f"COOPBOT_MESSAGES_PER_SECOND must be a whole number from 1 to 1000 (got {raw!r}); "
            "30 is Telegram's limit without paid broadcasts."
        )
    return int(raw)


def _parse_organisers(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise SettingsError(
                f"COOPBOT_ORGANISERS must list numeric Telegram user ids separated by commas "
                f"(got {part!r}); a user can read their id with /whoami."
            )
        ids.add(int(part))
    return frozenset(ids)


def _parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(
            f"COOPBOT_TIMEZONE {name!r} is not a known time zone; use an IANA name such as "
            "Europe/Paris."
        ) from error


def _parse_language(raw: str) -> str:
    if not raw:
        return "fr"
    try:
        language = Locale.parse(raw, sep="-" if "-" in raw else "_").language
    except (UnknownLocaleError, ValueError) as error:
        raise SettingsError(
            f"COOPBOT_DEFAULT_LANGUAGE {raw!r} is not a language code; use one of "
            f"{', '.join(SUPPORTED_LANGUAGES)}."
        ) from error
    if language not in SUPPORTED_LANGUAGES:
        raise SettingsError(
            f"COOPBOT_DEFAULT_LANGUAGE {raw!r} is not supported; use one of "
            f"{', '.join(SUPPORTED_LANGUAGES)}."
        )
    return language
