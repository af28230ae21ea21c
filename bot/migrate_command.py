"""`coopbot migrate --from FILE --to postgresql://…`: a deployment's SQLite file copied
to an empty PostgreSQL database (`storage.copying`), each table's rows printed."""

from __future__ import annotations

import asyncio
from typing import TextIO
from urllib.parse import unquote, urlsplit

from storage.address import is_server_address, shown_target
from storage.copying import CopyError, copy_deployment
from storage.db import DatabaseError

# What stops a copy before it is made: an address malformed, the server unreachable or
# refusing, the file unreadable or newer than this coopbot (nothing was written).
FAILURES: tuple[type[Exception], ...] = (ValueError, OSError, RuntimeError, *DatabaseError)


def run_migrate(source: str, target: str, out: TextIO) -> int:
    """Copy the file `source` into the server database `target`; print each table's rows
    and a last line, or one line saying why nothing was copied. The exit code: 0 when
    every row was copied, 2 when none was."""
    try:
        copied = asyncio.run(copy_deployment(source, target))
    except CopyError as error:
        print(f"coopbot migrate: {_told(error, target)}.", file=out)
        return 2
    except FAILURES as error:
        print(
            f"coopbot migrate: cannot copy {_shown(source)} to {_shown(target)}: "
            f"{_told(error, target)}.",
            file=out,
        )
        return 2
    for table, rows in copied.tables:
        print(f"{table}: {rows} {'row' if rows == 1 else 'rows'}", file=out)
    print(
        f"coopbot migrate: copied {copied.rows} rows of {len(copied.tables)} tables from "
        f"{_shown(source)} to {_shown(target)}; every table's count matches.",
        file=out,
    )
    return 0


def _shown(place: str) -> str:
    """A file or a server as a terminal may show it (a server without its password)."""
    try:
        return shown_target(place)
    except ValueError:  # an address too malformed to parse: its scheme only
        return place.split(":", 1)[0] + "://…" if is_server_address(place) else place


def _told(error: BaseException, target: str) -> str:
    """An error's message on one line, the target's password never in it."""
    text = " ".join(str(error).split()) or type(error).__name__
    try:
        password = urlsplit(target).password
    except ValueError:
        password = None
    for secret in {password, unquote(password)} if password else ():
        text = text.replace(secret, "***")
    return text.rstrip(".")
