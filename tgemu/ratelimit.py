"""Sliding-window flood limits, so a test can make the emulator answer 429 like Telegram."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Hashable


class SlidingWindow:
    """At most `limit` events per key within any `period` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a rate limit needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._events: defaultdict[Hashable, deque[float]] = defaultdict(deque)

    def allows(self, key: Hashable, now: float) -> bool:
        """Whether one more event for `key` at `now` stays within the limit."""
        events = self._events[key]
        while events and events[0] <= now - self.period:
            events.popleft()
        return len(events) < self.limit

    def record(self, key: Hashable, now: float) -> None:
        self._events[key].append(now)
