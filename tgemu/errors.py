"""The errors the emulator answers with, worded like the real Bot API's.

Raising an `ApiError` anywhere in a method handler becomes the JSON error reply
(`{"ok": false, "error_code": ..., "description": ...}`) with the matching HTTP status,
so python-telegram-bot raises the same exception class it would against Telegram.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """A refusal, carried up to the HTTP layer and recorded in `BotApiEmulator.rejected`."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    @classmethod
    def bad_request(cls, detail: str) -> ApiError:
        return cls(400, f"Bad Request: {detail}")

    @classmethod
    def forbidden(cls, detail: str) -> ApiError:
        return cls(403, f"Forbidden: {detail}")

    @classmethod
    def conflict(cls, detail: str) -> ApiError:
        return cls(409, f"Conflict: {detail}")

    @classmethod
    def too_many_requests(cls, retry_after: int) -> ApiError:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would send for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class CallTimedOut(Exception):
    """A message call passed every check but is to time out (`BotApiEmulator.time_out`):
    the server holds it unanswered instead of replying, and it has no effect."""


class ServerFailed(Exception):
    """A call passed every check but is to fail on Telegram's side (`BotApiEmulator.fail`):
    answered with a 5xx status, and it has no effect."""

    def __init__(self, code: int) -> None:
        description = HTTPStatus(code).phrase
        super().__init__(description)
        self.code = code
        self.description = description

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends with a 5xx (502: "Bad Gateway")."""
        return {"ok": False, "error_code": self.code, "description": self.description}
