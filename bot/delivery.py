"""The one way the bot sends to people: one policy for what Telegram answers, and counts.

A broadcast must reach everyone it can, whatever happens to one chat, so every Bot API
call made on behalf of a person goes through `deliver`, under this policy:

- `Forbidden` (403, the user blocked the bot or left): the chat is unreachable. Logged at
  INFO, since it is the user's choice and not a fault; no retry. Status UNREACHABLE.
- `RetryAfter` (429, flood control): wait what Telegram asks (capped at
  `Policy.max_retry_after`) and try again, up to `Policy.rate_limit_attempts` calls in all
  that meet a flood limit; then FAILED, logged at WARNING.
- `TimedOut` and other `NetworkError`s: try again after `Policy.backoff` seconds, doubled
  each time, up to `Policy.attempts` calls in all; then FAILED, logged at WARNING. A read
  timeout may hide a message Telegram did deliver, so a retry can show it twice: a
  second question or statement is harmless (the journey's buttons carry the state they
  were shown at, so the older copy answers as stale), a lost one leaves a person waiting.
- `BadRequest` (400; in PTB a subclass of `NetworkError`, so it is caught first): Telegram
  refused this call and will refuse it again. Logged at WARNING with the method and the
  chat; no retry; FAILED. The harmless edits (the message is not modified, or was deleted,
  or is too old to edit) are logged at DEBUG only, and are FAILED as well: nothing was
  changed. `Delivered.error` says which, for a caller that cares.
- Any other `TelegramError`: logged at WARNING with its traceback; FAILED.

Nothing here logs at ERROR, and nothing raises a `TelegramError`: one chat's trouble never
stops a loop over many chats. `Tally` counts the outcomes for the caller to report. A call
that failed after its retries (time-outs, 5xx, flood control) is also counted in the
bot's record of faults (`bot.faults`), when one is given.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from functools import partial
from typing import Any, Generic, TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.faults import Faults, delivery_kind

log = logging.getLogger(__name__)

HTML = ParseMode.HTML  # passed on every text: the application sets no default parse mode


T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]

# Refusals of an edit that leave the message as the user sees it: not worth a warning.
HARMLESS_EDITS = ("message is not modified", "message to edit not found", "message can't be edited")


class Status(Enum):
    """What became of one call: sent, the chat is closed to the bot, or it failed."""

    SENT = "sent"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivered(Generic[T]):
    """The outcome of one delivery: the status, what Telegram returned, or the last error."""

    chat_id: int
    status: Status
    result: T | None = None
    error: TelegramError | None = None

    @property
    def ok(self) -> bool:
        return self.status is Status.SENT


@dataclass
class Tally:
    """How a send to many people went: counts, so that a caller can report them."""

    sent: int = 0
    unreachable: int = 0
    failed: int = 0

    def count(self, delivered: Delivered[Any]) -> None:
        if delivered.status is Status.SENT:
            self.sent += 1
        elif delivered.status is Status.UNREACHABLE:
            self.unreachable += 1
        else:
            self.failed += 1


@dataclass(frozen=True)
class Policy:
    """How hard to try: bounded, so that a broadcast always ends."""

    attempts: int = 3  # calls in all when the network fails or times out
    backoff: float = 0.5  # first wait after a network failure, doubled each time
    rate_limit_attempts: int = 3  # calls in all that may meet Telegram's flood control
    max_retry_after: float = 60.0  # never wait longer than this on one flood limit


DEFAULT_POLICY = Policy()


def retry_after_seconds(error: RetryAfter) -> float:
    """`error.retry_after` in seconds, whether PTB gives it as an int or as a timedelta."""
    with warnings.catch_warnings():  # PTB warns that the int form will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return max(value.total_seconds() if isinstance(value, timedelta) else float(value), 0.0)


def is_harmless_edit(error: BadRequest) -> bool:
    message = error.message.lower()
    return any(harmless in message for harmless in HARMLESS_EDITS)


async def deliver(
    chat_id: int,
    method: str,
    call: Callable[[], Awaitable[T]],
    *,
    policy: Policy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
    faults: Faults | None = None,
) -> Delivered[T]:
    """Make one Bot API call (call() is invoked again for each retry) under the policy;
    `method`, the Bot API method's name, is for the log (and `faults`, if given)."""
    delivered = await _deliver(chat_id, method, call, policy, sleep)
    kind = delivery_kind(delivered.error) if delivered.status is Status.FAILED else None
    if faults is not None and kind is not None and delivered.error is not None:
        faults.count(kind, where=method, error=delivered.error, user_id=chat_id)
    return delivered


async def _deliver(
    chat_id: int, method: str, call: Callable[[], Awaitable[T]], policy: Policy, sleep: Sleep
) -> Delivered[T]:
    timeouts = floods = 0
    while True:
        try:
            return Delivered(chat_id, Status.SENT, await call())
        except Forbidden as error:
            log.info("%s: chat %s is unreachable: %s", method, chat_id, error.message)
            return Delivered(chat_id, Status.UNREACHABLE, error=error)
        except RetryAfter as error:
            floods += 1
            if floods >= policy.rate_limit_attempts:
                log.warning("%s to chat %s: flood control %d times", method, chat_id, floods)
                return Delivered(chat_id, Status.FAILED, error=error)
            await sleep(min(retry_after_seconds(error), policy.max_retry_after))
        except BadRequest as error:  # before NetworkError, its base class in PTB
            level = logging.DEBUG if is_harmless_edit(error) else logging.WARNING
            log.log(level, "%s to chat %s refused: %s", method, chat_id, error.message)
            return Delivered(chat_id, Status.FAILED, error=error)
        except NetworkError as error:  # TimedOut included
            timeouts += 1
            if timeouts >= policy.attempts:
                log.warning("%s to chat %s failed %d times: %s", method, chat_id, timeouts, error)
                return Delivered(chat_id, Status.FAILED, error=error)
            await sleep(policy.backoff * 2 ** (timeouts - 1))
        except TelegramError as error:
            log.warning("%s to chat %s failed", method, chat_id, exc_info=True)
            return Delivered(chat_id, Status.FAILED, error=error)


class Courier:
    """Sends through a telegram.Bot under the policy; every text as HTML."""

    def __init__(
        self,
        bot: Bot,
        *,
        policy: Policy = DEFAULT_POLICY,
        sleep: Sleep = asyncio.sleep,
        faults: Faults | None = None,
    ) -> None:
        self.bot = bot
        self.policy = policy
        self.sleep = sleep
        self.faults = faults

    async def _deliver(
        self, chat_id: int, method: str, call: Callable[[], Awaitable[T]]
    ) -> Delivered[T]:
        return await deliver(
            chat_id, method, call, policy=self.policy, sleep=self.sleep, faults=self.faults
        )

    async def message(
        self, chat_id: int, text: str, *, reply_markup: InlineKeyboardMarkup | None = None
    ) -> Delivered[Message]:
        send = partial(
            self.bot.send_message, chat_id, text, parse_mode=HTML, reply_markup=reply_markup
        )
        return await self._deliver(chat_id, "sendMessage", send)

    async def photo(
        self, chat_id: int, photo: bytes, *, caption: str | None = None
    ) -> Delivered[Message]:
        send = partial(self.bot.send_photo, chat_id, photo, caption=caption, parse_mode=HTML)
        return await self._deliver(chat_id, "sendPhoto", send)

    async def document(
        self, chat_id: int, data: bytes, *, filename: str, caption: str | None = None
    ) -> Delivered[Message]:
        send = partial(
            self.bot.send_document,
            chat_id,
            data,
            filename=filename,
            caption=caption,
            parse_mode=HTML,
        )
        return await self._deliver(chat_id, "sendDocument", send)

    async def edit_text(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
    ) -> Delivered[object]:
        edit = partial(
            self.bot.edit_message_text,
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=HTML,
            reply_markup=reply_markup,
        )
        return await self._deliver(chat_id, "editMessageText", edit)

    async def edit_buttons(
        self, chat_id: int, message_id: int, reply_markup: InlineKeyboardMarkup | None
    ) -> Delivered[object]:
        """Replace a message's buttons; None removes them."""
        edit = partial(
            self.bot.edit_message_reply_markup,
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=reply_markup,
        )
        return await self._deliver(chat_id, "editMessageReplyMarkup", edit)

    async def messages(self, chat_id: int, texts: Sequence[str]) -> Delivered[list[Message]]:
        """Several messages to one person, in order; stops at the first that is not sent,
        since the rest would read out of context. SENT only if all were sent; the result
        holds those that were, whatever the status."""
        sent: list[Message] = []
        for text in texts:
            delivered = await self.message(chat_id, text)
            if not delivered.ok:
                return Delivered(chat_id, delivered.status, sent, delivered.error)
            if delivered.result is not None:
                sent.append(delivered.result)
        return Delivered(chat_id, Status.SENT, sent)
