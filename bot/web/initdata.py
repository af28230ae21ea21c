"""The check of a Telegram Mini App's init data, as Telegram documents it
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app).

A pure function: the Mini App's page sends the init data string it was opened with; the
server accepts it only when it was signed with the bot's token, recently, and reads the
user's id from it. Anything else (a forged or missing hash, a changed field, a stale
date, a malformed user) is refused the same way: None.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

MAX_AGE = timedelta(hours=24)


def secret_key(bot_token: str) -> bytes:
    """HMAC_SHA256 of the bot's token, keyed with "WebAppData"."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    """Every field but `hash`, as sorted "key=value" lines."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The hash Telegram puts in init data with these fields (hex)."""
    return hmac.new(
        secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()


def checked_user_id(
    init_data: str, bot_token: str, *, now: datetime, max_age: timedelta = MAX_AGE
) -> int | None:
    """The id of the Telegram user the init data was signed for, or None when it does not
    hold: no or a wrong hash, older than `max_age` (or dated in the future), no user.
    `now` is timezone-aware. Without a token nothing holds: anyone could sign with an
    empty one."""
    if not bot_token:
        return None
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a field given twice: which one was signed?
        return None
    given = fields.get("hash", "")
    # compare_digest takes ASCII strings only: anything else is no hex digest anyway.
    if not given.isascii() or not hmac.compare_digest(given.lower(), sign(fields, bot_token)):
        return None
    try:
        signed_at = datetime.fromtimestamp(int(fields.get("auth_date", "")), tz=UTC)
        user = json.loads(fields.get("user", ""))
    except (ValueError, OverflowError, OSError):
        return None
    if not timedelta(minutes=-5) <= now - signed_at <= max_age:
        return None
    user_id = user.get("id") if isinstance(user, dict) else None
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None
