"""The Mini App's init data check, against Telegram's documented algorithm written out here
on its own (HMAC-SHA256 keyed with "WebAppData" over the bot's token, then over the sorted
"key=value" lines), so that a mistake shared by the code and its test cannot hide."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from bot.web.initdata import checked_user_id

TOKEN = "123456:AAH-the-bots-secret-token"
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
USER = {"id": 4242, "first_name": "Camille", "username": "camille_v", "language_code": "fr"}


def signed(fields: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    """The fields with the hash Telegram would add (the documented algorithm)."""
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    lines = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    digest = hmac.new(secret, lines.encode(), hashlib.sha256).hexdigest()
    return {**fields, "hash": digest}


def init_data(*, age: timedelta = timedelta(minutes=3), **extra: str) -> dict[str, str]:
    return signed(
        {
            "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
            "user": json.dumps(USER, separators=(",", ":"), ensure_ascii=False),
            "auth_date": str(int((NOW - age).timestamp())),
            **extra,
        }
    )


def test_a_correctly_signed_init_data_gives_its_user() -> None:
    assert checked_user_id(urlencode(init_data()), TOKEN, now=NOW) == 4242
    # Whatever order the fields come in, and with fields the check does not know.
    fields = init_data(chat_type="private", signature="abc")
    shuffled = urlencode(dict(reversed(list(fields.items()))))
    assert checked_user_id(shuffled, TOKEN, now=NOW) == 4242


def test_a_forged_hash_is_refused() -> None:
    fields = init_data()
    fields["hash"] = "0" * 64
    assert checked_user_id(urlencode(fields), TOKEN, now=NOW) is None
    # Signed with another bot's token.
    other = signed({k: v for k, v in init_data().items() if k != "hash"}, "999:another-token")
    assert checked_user_id(urlencode(other), TOKEN, now=NOW) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user", json.dumps({**USER, "id": 1}, separators=(",", ":"))),
        ("auth_date", str(int(NOW.timestamp()))),
        ("query_id", "another"),
    ],
)
def test_a_modified_field_is_refused(field: str, value: str) -> None:
    fields = init_data()
    fields[field] = value
    assert checked_user_id(urlencode(fields), TOKEN, now=NOW) is None


def test_an_added_field_is_refused() -> None:
    fields = {**init_data(), "start_param": "x"}
    assert checked_user_id(urlencode(fields), TOKEN, now=NOW) is None


def test_a_stale_init_data_is_refused() -> None:
    assert checked_user_id(urlencode(init_data(age=timedelta(hours=23))), TOKEN, now=NOW) == 4242
    stale = init_data(age=timedelta(hours=24, seconds=1))
    assert checked_user_id(urlencode(stale), TOKEN, now=NOW) is None
    future = init_data(age=-timedelta(hours=1))
    assert checked_user_id(urlencode(future), TOKEN, now=NOW) is None


@pytest.mark.parametrize(
    "raw",
    [
        "",  # nothing
        urlencode({k: v for k, v in init_data().items() if k != "hash"}),  # no hash
        urlencode({**init_data(), "hash": ""}),  # an empty hash
        "user=%7B%22id%22%3A1%7D&hash=abc&hash=abc",  # a field given twice
        "%%%",  # not a query string
    ],
)
def test_a_missing_hash_or_malformed_data_is_refused(raw: str) -> None:
    assert checked_user_id(raw, TOKEN, now=NOW) is None


def test_a_signed_init_data_without_a_user_is_refused() -> None:
    fields = signed({"auth_date": str(int(NOW.timestamp())), "query_id": "x"})
    assert checked_user_id(urlencode(fields), TOKEN, now=NOW) is None
    bad_user = signed({"auth_date": str(int(NOW.timestamp())), "user": '{"id": "4242"}'})
    assert checked_user_id(urlencode(bad_user), TOKEN, now=NOW) is None


def test_a_hash_that_is_no_hex_digest_is_refused_without_an_error() -> None:
    fields = {**init_data(), "hash": "é" * 64}
    assert checked_user_id(urlencode(fields), TOKEN, now=NOW) is None


def test_without_a_token_nothing_holds() -> None:
    """Signed with an empty token, which anyone can do: never accepted."""
    fields = signed({"auth_date": str(int(NOW.timestamp())), "user": json.dumps(USER)}, "")
    assert checked_user_id(urlencode(fields), "", now=NOW) is None
