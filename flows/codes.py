"""Join and facilitator codes: unguessable, and valid as a Telegram deep-link payload."""

from __future__ import annotations

import re
import secrets

# 16 URL-safe characters carry 96 bits of randomness, well past the 64 asked of a code,
# and fit the 64-character `start` payload (A-Z, a-z, 0-9, _ and -).
CODE_BYTES = 12
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_code() -> str:
    """A fresh code that does not start with "-" or "_": `coopbot export -Ab…` would read
    it as an option (one code in 32 did)."""
    while not (code := secrets.token_urlsafe(CODE_BYTES))[0].isalnum():
        pass
    return code


def looks_like_code(text: str) -> bool:
    """Whether `text` could be a code at all (cheap check before a database look-up)."""
    return bool(_PAYLOAD.match(text))
