"""What `COOPBOT_DB` names: a SQLite file (the default) or a PostgreSQL server."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SERVER_SCHEMES = ("postgresql", "postgres")


def is_server_address(target: str) -> bool:
    """Whether `COOPBOT_DB` names a PostgreSQL server rather than a SQLite file."""
    scheme, found, _ = target.partition("://")
    return bool(found) and scheme.lower() in SERVER_SCHEMES


def address_problem(target: str) -> str | None:
    """Why `COOPBOT_DB` names neither a file nor a server coopbot can use, or None: an
    address of another kind (`mysql://…`, `postgresql+asyncpg://…`) would otherwise be
    taken for a file's path, its password with it."""
    if "://" in target and not is_server_address(target):
        scheme = target.partition("://")[0]
        return (
            f"COOPBOT_DB must be a SQLite file's path or a postgresql:// address, not a "
            f"{scheme}:// one."
        )
    return None


def shown_target(target: str) -> str:
    """Where the data is, fit for a log or a terminal: a file's full path, or a server's
    address without its password (given before the host or as `password=` after it)."""
    if not is_server_address(target):
        return str(Path(target).resolve())
    parts = urlsplit(target)
    if parts.password is not None:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        parts = parts._replace(netloc=netloc)
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit(parts._replace(query=query))
