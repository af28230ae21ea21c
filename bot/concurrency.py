"""Updates of different chats run concurrently; the updates of one chat, one after the other.

Participants answer at the same time during a workshop; one slow Bot API call must not
hold up everybody else, but one person's answers must keep their order.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack, nullcontext
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Serialises updates per chat (or per user where there is no chat).

    The chat's turn is awaited *before* taking one of the `max_concurrent_updates`
    slots, so that a burst from one chat (an album, a flood of stickers) never occupies
    the slots other participants need. The base class's own semaphore (taken before
    `do_process_update`, in a method that cannot be overridden) is therefore made wide
    enough never to wait, and the real limit is applied here.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(_UNBOUNDED)
        self.slots = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        # Called when each update is done, however it ended (handled, stopped by a handler
        # such as the flood guard, or failed): the live screens look again.
        self.after_each: Callable[[], None] = lambda: None
        # The chat's turn among every worker sharing the database (set by
        # bot.app.open_services): a worker handles a chat's update only while no other
        # handles one of the same chat.
        self.turn: Callable[[int], AbstractAsyncContextManager[None]] = lambda key: nullcontext()

    @property
    def in_hand(self) -> int:
        """Updates being handled or waiting for their chat's turn."""
        return sum(self._waiting.values())

    @staticmethod
    def _key(update: object) -> int:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return update.effective_chat.id
            if update.effective_user is not None:
                return update.effective_user.id
        return 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:
                try:
                    async with AsyncExitStack() as turn:
                        try:
                            await turn.enter_async_context(self.turn(key))
                        except Exception:  # the database cannot give it (unreachable):
                            # the handler meets the same fault and tells the user so.
                            log.warning("chat %s handled without its turn", key, exc_info=True)
                        await coroutine
                finally:
                    if (
                        isinstance(coroutine, Coroutine)
                        and inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED
                    ):
                        coroutine.close()  # the turn could not be had: never started
                    self.after_each()
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # forget idle chats so the maps stay small
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


# Wide enough that the base class never makes an update wait (asyncio's semaphore
# costs nothing per unused slot).
_UNBOUNDED = 1_000_000
