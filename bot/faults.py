"""Faults the bot meets and survives: the Bot API timing out or failing (5xx), the database
locked or its disk full. Each is logged once, with its context and never a message's
text, and kept in a small record in memory (counts by kind, the last one) that `/health`
shows to organisers.

Two sources feed it: the error handler, for a failure that stopped an update's handling
(`Faults.note`), and the delivery layer, for a send that failed after its retries
(`Faults.count`: `bot.delivery` has logged it already).

What is retried, and what is not:
- A write that finds the database locked waits for it (SQLite's busy timeout) and then
  fails; the update is not handled again, since only the participant knows whether they
  still mean it: they are told that it was not saved, and send it again.
- A send to many (`bot.delivery`, the outbox) retries time-outs and 5xx answers: a second
  copy of a question is harmless (its buttons carry the state they were shown at), a
  lost one leaves a person waiting.
- The reply to an update is not retried: the answer is committed before any reply, so a
  reply that fails loses nothing; the participant's next message, or /resume, carries on
  from the stored state.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from storage import updates
from storage.db import Database, failure_of, utc_now

log = logging.getLogger(__name__)


class Kind(StrEnum):
    """What failed."""

    API_TIMEOUT = "api_timeout"  # Telegram did not answer in time
    API_ERROR = "api_error"  # Telegram answered 5xx, or the connection failed
    API_FLOOD = "api_flood"  # Telegram's flood control, still there after the waits
    DB_LOCKED = "db_locked"  # another process held the database past the busy timeout
    DB_FULL = "db_full"  # no room left on the disk (or in the file's page limit)
    DB_IO = "db_io"  # the disk failed, or the file is read-only or damaged
    UNEXPECTED = "unexpected"  # a bug: logged with its traceback

    @property
    def storage(self) -> bool:
        """A failure of the database: whatever was being written was not saved."""
        return self in (Kind.DB_LOCKED, Kind.DB_FULL, Kind.DB_IO)


@dataclass(frozen=True)
class Fault:
    """One fault, with what it happened to (never what anyone wrote)."""

    kind: Kind
    at: datetime
    where: str  # the handler, or the Bot API method
    error: str  # the exception's class
    update_id: int | None = None
    user_id: int | None = None


@dataclass
class Faults:
    """The faults met since the bot started: counts by kind, and the last one."""

    started_at: datetime = field(default_factory=utc_now)
    counts: Counter[Kind] = field(default_factory=Counter)
    last: Fault | None = None

    def note(self, error: BaseException | None, update: object) -> Fault | None:
        """Classify, log once and record a failure that stopped an update's handling (or a
        job, `update` None). None for a user who blocked the bot: no fault, nobody to
        tell."""
        if error is None:
            return None
        if isinstance(error, Forbidden):
            log.info("update %s: the user blocked the bot", getattr(update, "update_id", "?"))
            return None
        kind = kind_of(error)
        user = update.effective_user if isinstance(update, Update) else None
        fault = Fault(
            kind=kind,
            at=utc_now(),
            where=where(error),
            error=type(error).__name__,
            update_id=update.update_id if isinstance(update, Update) else None,
            user_id=user.id if user is not None else None,
        )
        context = "%s in %s: update %s of user %s (%s)"
        values = (kind.value, fault.where, fault.update_id, fault.user_id, fault.error)
        if kind is Kind.UNEXPECTED:
            log.error(context, *values, exc_info=error)
        else:  # expected: one line, no traceback; the error's own words name no user text
            log.warning(context + ": %s", *values, _summary(error))
        self._keep(fault)
        return fault

    def count(
        self, kind: Kind, *, where: str, error: BaseException, user_id: int | None = None
    ) -> None:
        """Record a fault its caller has logged already (a send that failed after its
        retries, the outbox stopped by the database)."""
        self._keep(Fault(kind, utc_now(), where, type(error).__name__, user_id=user_id))

    def _keep(self, fault: Fault) -> None:
        self.counts[fault.kind] += 1
        self.last = fault

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def kind_of(error: BaseException) -> Kind:
    """The kind of a failure; UNEXPECTED for a refused call (400: a bug) and the rest."""
    storage = failure_of(error)
    if storage is not None:
        return {"locked": Kind.DB_LOCKED, "full": Kind.DB_FULL}.get(storage, Kind.DB_IO)
    if isinstance(error, TimedOut):
        return Kind.API_TIMEOUT
    if isinstance(error, RetryAfter):
        return Kind.API_FLOOD
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return Kind.API_ERROR
    return Kind.UNEXPECTED


def where(error: BaseException) -> str:
    """The handler that failed, and the Bot API call it was making, from the traceback
    (`on_text/send_message`); "?" when neither shows."""
    handler = call = None
    for frame, _line in traceback.walk_tb(error.__traceback__):
        path, name = frame.f_code.co_filename.replace("\\", "/"), frame.f_code.co_name
        if "/bot/handlers/" in path or "/bot/jobs" in path:
            handler = name
        elif (
            path.endswith(("/telegram/_bot.py", "/telegram/ext/_extbot.py"))
            and not name.startswith("_")
            and call is None
        ):
            call = name
    return "/".join(part for part in (handler, call) if part) or "?"


def _summary(error: BaseException) -> str:
    """The error's own short description ("database is locked", "Bad Gateway")."""
    message = getattr(error, "message", None) or str(error)
    return message.splitlines()[0][:120] if message else type(error).__name__


def delivery_kind(error: BaseException | None) -> Kind | None:
    """The fault a send that failed after its retries counts as (None: not a fault, such
    as a refused edit that changed nothing, or a user who blocked the bot)."""
    if error is None or isinstance(error, Forbidden | BadRequest):
        return None
    return kind_of(error)


async def was_saved(database: Database | None, update: object) -> bool | None:
    """Whether the update that failed was recorded as handled, i.e. what it brought was
    committed before the failure; None when that cannot be read (then the user is told
    only that what they saw confirmed is saved)."""
    if database is None or not isinstance(update, Update):
        return None
    try:
        return await updates.was_stored(database, update_id=update.update_id)
    except Exception as error:  # the disk that just failed may fail a read too
        log.warning("update %s: could not read whether it was saved: %s", update.update_id, error)
        return None
