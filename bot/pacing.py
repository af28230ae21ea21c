"""Every message the bot sends or edits, spaced evenly under Telegram's limit.

Telegram counts its limit (`COOPBOT_MESSAGES_PER_SECOND`, 30 unless paid broadcasts
allow more) over any second, and answers the excess with 429 and a time to wait.
python-telegram-bot's own `AIORateLimiter` is a bucket that lets a second's worth go at
once, then the next second's right after: a room answering at the same moment meets a
429, and the limiter then holds every call for the wait. Spaced evenly instead, the sends
never bunch: a room's next questions go out in the order they were asked for, at the
limit's pace. Each call takes its turn before it waits (one reservation, no polling), so
the pace costs nothing per call however many wait.

What is paced is what Telegram limits: calls naming a chat (sends, edits, deletions); a
button's answer or a file's download go at once. A group (the one reply the bot gives
there) also keeps to Telegram's 20 messages a minute. Several workers sharing one
database (and one token) each keep to their share of the limit (`share`). A 429 still met
(another process sending with the same token) pushes every turn back by its wait, as the
library does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery import retry_after_seconds

log = logging.getLogger(__name__)

# Half a message a second under the limit, for the network's jitter between the bot's
# clock and Telegram's: any second then holds fewer than `limit` messages.
MARGIN = 1.5
GROUP_INTERVAL = 3.0  # seconds: 20 messages a minute in a group
RETRIES = 5

Result = bool | dict[str, Any] | list[dict[str, Any]]


class Turns:
    """Evenly spaced turns, `interval` seconds apart, taken in the order asked for."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = float("-inf")
        self.held_until = float("-inf")

    def take(self, now: float) -> float:
        """Reserve the next turn; how long to wait for it."""
        turn = max(self._next, now)
        self._next = turn + self.interval
        return turn - now

    def hold(self, until: float) -> None:
        """No turn before `until` (after a 429): the turns taken already are given up by
        whoever wakes before it (`EvenRateLimiter._turn` takes another)."""
        self._next = max(self._next, until)
        self.held_until = max(self.held_until, until)


class EvenRateLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate limiter, evenly paced (see the module's docstring)."""

    def __init__(self, limit: int, *, retries: int = RETRIES) -> None:
        self.rate = max(limit - MARGIN, limit / 2)
        self.overall = Turns(1 / self.rate)
        self.group_interval = GROUP_INTERVAL
        self.groups: dict[int | str, Turns] = {}
        self.retries = retries

    def share(self, workers: int) -> None:
        """`workers` processes send with the same token: each keeps to its share of the
        limit, and of a group's (Telegram counts them together)."""
        workers = max(workers, 1)
        self.overall.interval = workers / self.rate
        self.group_interval = GROUP_INTERVAL * workers
        for turns in self.groups.values():
            turns.interval = self.group_interval

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        chat_id = data.get("chat_id")
        retries = rate_limit_args if rate_limit_args is not None else self.retries
        loop = asyncio.get_running_loop()
        for attempt in range(retries + 1):
            if chat_id is not None:
                await self._turn(chat_id)
            elif attempt:  # a call naming no chat is not paced, but waits out a 429 too
                await asyncio.sleep(max(self.overall.held_until - loop.time(), 0.0))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                seconds = retry_after_seconds(error)
                log.info("Telegram asked to wait %s s (%s); every send waits", seconds, endpoint)
                self.overall.hold(loop.time() + seconds + 0.1)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _turn(self, chat_id: object) -> None:
        """Wait for a turn; one taken before a 429 and falling within its wait is given up
        for a turn after it."""
        loop = asyncio.get_running_loop()
        group = _group_of(chat_id)
        while True:
            now = loop.time()
            wait = self.overall.take(now)
            if group is not None:
                turns = self.groups.setdefault(group, Turns(self.group_interval))
                wait = max(wait, turns.take(now))
            if wait > 0:
                await asyncio.sleep(wait)
            if loop.time() >= self.overall.held_until:
                return


def _group_of(chat_id: object) -> int | str | None:
    """The group or channel a chat id names (negative ids, or "@name"); None: a person."""
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return chat_id
    if isinstance(chat_id, int) and chat_id < 0:
        return chat_id
    return None
