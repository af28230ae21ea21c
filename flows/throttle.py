"""How often one key (a user) may do something: a sliding window, pure and in memory.

Used for the flood control (updates per user) and for wrong join codes. The state lives
in the process: a restart forgets it, which suits a bot that runs as one process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable


class SlidingWindow:
    """At most `limit` events per key in any `period` seconds.

    Times are plain seconds from any clock that only goes forward (`time.monotonic()`,
    or a datetime's `timestamp()`); the caller passes `now`, so the rule is testable.
    """

    def __init__(self, *, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a sliding window needs a limit ≥ 1 and a period > 0")
        self.limit = limit
        self.period = period
        self._events: dict[Hashable, deque[float]] = {}
        self._swept = 0.0

    def count(self, key: Hashable, now: float) -> int:
        """How many events `key` has in the window ending at `now`."""
        events = self._events.get(key)
        if events is None:
            return 0
        self._forget_old(events, now)
        if not events:
            del self._events[key]
            return 0
        return len(events)

    def full(self, key: Hashable, now: float) -> bool:
        """Whether one more event of `key` now would go over the limit."""
        return self.count(key, now) >= self.limit

    def hit(self, key: Hashable, now: float) -> int:
        """Record an event of `key` at `now`; how many it has in the window, this one
        included (over `limit`: this one is too many)."""
        self._sweep(now)
        events = self._events.setdefault(key, deque())
        self._forget_old(events, now)
        events.append(now)
        return len(events)

    def retry_after(self, key: Hashable, now: float) -> float:
        """Seconds until `key` may have one more event (0: now)."""
        if not self.full(key, now):
            return 0.0
        events = self._events[key]
        # The event that must leave the window for one more to fit.
        return max(0.0, events[-self.limit] + self.period - now)

    def _forget_old(self, events: deque[float], now: float) -> None:
        while events and events[0] <= now - self.period:
            events.popleft()

    def _sweep(self, now: float) -> None:
        """Once a period, forget the keys that have no event left, so the map stays small."""
        if now - self._swept < self.period:
            return
        self._swept = now
        for key in [k for k, events in self._events.items() if events[-1] <= now - self.period]:
            del self._events[key]
