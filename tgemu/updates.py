"""The update queue behind getUpdates and webhooks: long polling, offsets, redelivery.

It follows Telegram's contract: an update stays queued until the bot confirms it by
calling getUpdates with a higher `offset`, so an update handed to a poll whose client
went away is simply handed out again. `redeliver` models what Telegram does after a
bot crashed before confirming: the same update, with the same update_id, once more.
With a webhook, an update is confirmed by a 2xx answer to its POST (see webhook.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from dataclasses import dataclass
from typing import Any

from tgemu.errors import ApiError

# What Telegram sends when allowed_updates is empty or was never set.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class _Queued:
    update: dict[str, Any]
    forced: bool = False  # redelivered: handed out once even if below the bot's offset
    delivered: bool = False
    sending: bool = False  # being posted to the webhook

    @property
    def due(self) -> bool:
        return self.forced or not self.delivered

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next((key for key in self.update if key != "update_id"), "")


class UpdateQueue:
    """Updates waiting for the bot, and the long polls waiting for updates."""

    def __init__(self, first_update_id: int, update_types: frozenset[str]) -> None:
        self._next_id = first_update_id
        self._queue: list[_Queued] = []
        self._history: dict[int, dict[str, Any]] = {}
        self._update_types = update_types
        self._allowed = update_types - _NOT_BY_DEFAULT
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closed = False
        self.last_delivery = 0.0  # time.monotonic() of the last non-empty answer
        self.waiting = 0  # long polls currently waiting for an update
        self._someone_waiting = asyncio.Event()

    @property
    def undelivered(self) -> int:
        """Queued updates the bot has not fetched yet."""
        return sum(1 for item in self._queue if item.forced or not item.delivered)

    @property
    def pending(self) -> int:
        """Updates not yet confirmed (getWebhookInfo's pending_update_count)."""
        return len(self._queue)

    def push(self, update: dict[str, Any]) -> int:
        """Queue `update`, numbering it unless it has an update_id; return the id."""
        if "update_id" not in update:
            update["update_id"] = self._next_id
        update_id = int(update["update_id"])
        self._next_id = max(self._next_id, update_id + 1)
        self._history[update_id] = update
        self._queue.append(_Queued(update))
        self._notify()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Hand out an update that was already delivered again, with the same update_id."""
        if update_id not in self._history:
            raise KeyError(f"no update {update_id} was ever queued")
        for item in self._queue:
            if item.update_id == update_id:
                item.forced = True
                break
        else:
            self._queue.append(_Queued(copy.deepcopy(self._history[update_id]), forced=True))
        self._notify()

    def drop_pending(self) -> None:
        self._queue = [item for item in self._queue if item.sending]

    def allow(self, allowed_updates: list[str] | None) -> None:
        """Which kinds of update the bot wants (setWebhook's or getUpdates' allowed_updates:
        the last one given stays; empty means every kind but the opt-in ones)."""
        if allowed_updates is not None:
            wanted = self._update_types.intersection(allowed_updates)
            self._allowed = frozenset(wanted) or self._update_types - _NOT_BY_DEFAULT

    # Webhook delivery: one update at a time is handed out, and confirmed or released.

    def take_next(self) -> _Queued | None:
        """The oldest update not handed out yet (or redelivered), now marked in flight."""
        self._queue = [item for item in self._queue if item.sending or item.kind in self._allowed]
        waiting = [item for item in self._queue if not item.sending and item.due]
        if not waiting:
            return None
        item = min(waiting, key=lambda queued: queued.update_id)
        item.delivered = item.sending = True
        item.forced = False
        return item

    def confirm(self, item: _Queued) -> None:
        """The webhook answered 2xx: the update is done (unless redelivered meanwhile)."""
        item.sending = False
        self.last_delivery = time.monotonic()
        if not item.forced and item in self._queue:
            self._queue.remove(item)
        self._notify()

    def release(self, item: _Queued) -> None:
        """The delivery failed: the update waits to be delivered again."""
        item.sending = False
        item.delivered = False
        self._notify()

    async def until_changed(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until an update is queued, confirmed or released, or `timeout` passes."""
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(timeout, 0)):
                await changed.wait()

    def wake(self) -> None:
        """Make whoever waits for a change look again."""
        self._notify()

    def close(self) -> None:
        """Answer every waiting poll now (with no updates): the server is stopping."""
        self._closed = True
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def get(
        self,
        *,
        offset: int | None,
        limit: int,
        wait: float,
        allowed_updates: list[str] | None,
    ) -> list[dict[str, Any]]:
        """One getUpdates call: confirm below `offset`, then wait up to `wait` s for updates.

        A newer call supersedes this one, which then ends with 409 Conflict as on
        Telegram when two bot instances poll at once.
        """
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes an older poll, which sees it was superseded
        self.allow(allowed_updates)
        self._confirm(offset)
        deadline = time.monotonic() + max(wait, 0)
        self.waiting += 1
        self._someone_waiting.set()
        try:
            return await self._wait_for_batch(generation, limit, deadline)
        finally:
            self.waiting -= 1
            if not self.waiting:
                self._someone_waiting.clear()

    async def until_polled(self) -> None:
        """Return once a getUpdates call is waiting (the bot is listening)."""
        await self._someone_waiting.wait()

    async def _wait_for_batch(
        self, generation: int, limit: int, deadline: float
    ) -> list[dict[str, Any]]:
        while True:
            if self._closed:
                return []
            if generation != self._poll_generation:
                raise ApiError.conflict(
                    "terminated by other getUpdates request; make sure that only one bot "
                    "instance is running"
                )
            batch = self._take(max(1, min(limit, 100)))
            if batch:
                self.last_delivery = time.monotonic()
                return batch
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _confirm(self, offset: int | None) -> None:
        if not offset:
            return
        if offset < 0:
            self._queue = self._queue[offset:]
        else:
            self._queue = [q for q in self._queue if q.forced or q.update_id >= offset]

    def _take(self, limit: int) -> list[dict[str, Any]]:
        self._queue = [item for item in self._queue if item.kind in self._allowed]
        batch = sorted(self._queue, key=lambda item: item.update_id)[:limit]
        for item in batch:
            item.delivered = True
            item.forced = False
        return [copy.deepcopy(item.update) for item in batch]
