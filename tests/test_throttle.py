"""The sliding window behind flood control and the wrong join codes."""

from __future__ import annotations

import pytest

from flows.throttle import SlidingWindow


def test_the_limit_holds_in_any_window_not_per_fixed_slot() -> None:
    window = SlidingWindow(limit=3, period=10)
    assert [window.hit("a", t) for t in (0, 1, 2)] == [1, 2, 3]
    assert window.full("a", 9.9)
    assert window.hit("a", 5) == 4  # the fourth in ten seconds: one too many
    # At 10 the first has left the window, but 1, 2 and 5 are still in it.
    assert window.count("a", 10) == 3
    assert window.count("a", 12) == 1  # only 5 left
    assert not window.full("a", 12)


def test_keys_are_counted_apart() -> None:
    window = SlidingWindow(limit=2, period=10)
    window.hit(1, 0)
    window.hit(1, 0)
    assert window.full(1, 1)
    assert not window.full(2, 1)
    assert window.hit(2, 1) == 1


def test_retry_after_says_when_one_more_fits() -> None:
    window = SlidingWindow(limit=2, period=60)
    assert window.retry_after("a", 0) == 0
    window.hit("a", 0)
    window.hit("a", 30)
    assert window.retry_after("a", 40) == pytest.approx(20)
    assert window.retry_after("a", 60) == 0


def test_dropped_events_count_so_a_steady_flood_stays_held() -> None:
    window = SlidingWindow(limit=5, period=10)
    counts = [window.hit("a", t * 0.5) for t in range(60)]  # two a second for 30 s
    assert counts[:5] == [1, 2, 3, 4, 5]
    assert all(count > 5 for count in counts[5:])


def test_idle_keys_are_forgotten() -> None:
    window = SlidingWindow(limit=2, period=10)
    for key in range(100):
        window.hit(key, 0)
    window.hit("late", 25)
    assert window.count(0, 25) == 0
    assert len(window._events) == 1


def test_a_window_needs_a_limit_and_a_period() -> None:
    with pytest.raises(ValueError):
        SlidingWindow(limit=0, period=10)
    with pytest.raises(ValueError):
        SlidingWindow(limit=1, period=0)
