"""The bot's rate limiter: evenly spaced turns under Telegram's limit, counted over any
second as the emulator counts it (and Telegram does)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, ApplicationBuilder, BaseRateLimiter

from bot.pacing import GROUP_INTERVAL, MARGIN, EvenRateLimiter, Turns
from tgemu import BotApiEmulator

CHAT = 4242


def test_turns_are_evenly_spaced_in_the_order_asked_for() -> None:
    turns = Turns(0.1)
    waits = [turns.take(10.0) for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert turns.take(10.35) == pytest.approx(0.05)  # still behind the queue


def test_after_a_pause_there_is_no_burst_to_catch_up() -> None:
    turns = Turns(0.1)
    turns.take(0.0)
    assert turns.take(5.0) == 0.0
    assert turns.take(5.0) == pytest.approx(0.1)  # the next one waits its turn


def test_a_hold_pushes_every_turn_back() -> None:
    turns = Turns(0.1)
    turns.hold(3.0)
    assert turns.take(1.0) == pytest.approx(2.0)


async def _burst(emu: BotApiEmulator, limiter: BaseRateLimiter[Any], count: int) -> None:
    application = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .rate_limiter(limiter)
        .build()
    )
    async with application:
        await asyncio.gather(*(application.bot.send_message(CHAT, f"m{n}") for n in range(count)))


async def test_a_burst_goes_out_without_a_refusal_where_the_bucket_meets_429() -> None:
    # Two seconds' worth at once, against a limit of 20 in any second.
    async with BotApiEmulator(global_rate=(20, 1.0), retry_after=1) as emu:
        user = emu.user(CHAT)
        await user.send("hi")
        await _burst(emu, EvenRateLimiter(20), 40)
        assert not emu.rejected
        assert sorted(user.texts()) == sorted(f"m{n}" for n in range(40))
        sent = [c.at for c in emu.calls if c.method == "sendMessage"]
        # Never more than the limit within a second, wherever the second starts.
        assert max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent) <= 20
    # python-telegram-bot's bucket, the same burst: the second second's worth bunches up.
    async with BotApiEmulator(global_rate=(20, 1.0), retry_after=1) as emu:
        await emu.user(CHAT).send("hi")
        await _burst(emu, AIORateLimiter(overall_max_rate=20, max_retries=5), 40)
        assert any(c.error_code == 429 for c in emu.rejected)


async def test_calls_that_name_no_chat_are_not_paced() -> None:
    limiter = EvenRateLimiter(2)
    limiter.overall.hold(asyncio.get_running_loop().time() + 60)  # every chat waits a minute

    async def answered() -> bool:
        return True

    async with asyncio.timeout(1):  # a button's answer goes at once
        assert await limiter.process_request(answered, (), {}, "answerCallbackQuery", {}, None)


async def test_a_429_is_waited_out_and_retried_and_holds_the_others() -> None:
    limiter = EvenRateLimiter(1000)
    attempts: list[float] = []
    loop = asyncio.get_running_loop()

    async def refused_once() -> bool:
        attempts.append(loop.time())
        if len(attempts) == 1:
            raise RetryAfter(timedelta(seconds=0))
        return True

    assert await limiter.process_request(refused_once, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 0.1  # the wait plus its tenth of a second


async def test_the_retries_run_out_with_the_429() -> None:
    limiter = EvenRateLimiter(1000, retries=1)

    async def always_refused() -> bool:
        raise RetryAfter(timedelta(seconds=0))

    with pytest.raises(RetryAfter):
        await limiter.process_request(always_refused, (), {}, "sendMessage", {"chat_id": 1}, None)


def test_the_pace_keeps_a_margin_under_the_limit() -> None:
    limiter = EvenRateLimiter(30)
    assert 1 / limiter.overall.interval == pytest.approx(30 - MARGIN)
    assert 1 / EvenRateLimiter(1).overall.interval == pytest.approx(0.5)


async def test_turns_booked_before_a_429_wait_it_out_too() -> None:
    limiter = EvenRateLimiter(10)  # a turn about every 118 ms
    loop = asyncio.get_running_loop()
    refused_at: list[float] = []
    called_at: list[float] = []

    async def refused_once() -> bool:
        if not refused_at:
            await asyncio.sleep(0.01)  # the next call has booked its turn meanwhile
            refused_at.append(loop.time())
            raise RetryAfter(timedelta(seconds=1))
        return True

    async def other() -> bool:
        called_at.append(loop.time())
        return True

    first = limiter.process_request(refused_once, (), {}, "sendMessage", {"chat_id": 1}, None)
    second = limiter.process_request(other, (), {}, "sendMessage", {"chat_id": 2}, None)
    assert await asyncio.gather(first, second) == [True, True]
    # Its turn, booked for ~0.1 s later, fell within the wait: it took one after it.
    assert called_at[0] - refused_at[0] >= 1.0


async def test_a_call_naming_no_chat_waits_out_its_429_before_retrying() -> None:
    limiter = EvenRateLimiter(1000)
    loop = asyncio.get_running_loop()
    attempts: list[float] = []

    async def refused_once() -> bool:
        attempts.append(loop.time())
        if len(attempts) == 1:
            raise RetryAfter(timedelta(seconds=0))
        return True

    assert await limiter.process_request(refused_once, (), {}, "answerCallbackQuery", {}, None)
    assert attempts[1] - attempts[0] >= 0.1


async def test_two_workers_sharing_the_limit_stay_under_it_together() -> None:
    """Telegram counts every process sending with the token together: two workers each at
    the whole limit meet 429; each at its share (`share`) does not."""

    async def two_bursts(emu: BotApiEmulator, share: bool) -> None:
        limiters = [EvenRateLimiter(20), EvenRateLimiter(20)]
        for limiter in limiters:
            if share:
                limiter.share(2)
        await asyncio.gather(*(_burst(emu, limiter, 20) for limiter in limiters))

    async with BotApiEmulator(global_rate=(20, 1.0), retry_after=1) as emu:
        user = emu.user(CHAT)
        await user.send("hi")
        await two_bursts(emu, share=True)
        assert not emu.rejected
        assert len(user.texts()) == 40
        sent = [c.at for c in emu.calls if c.method == "sendMessage"]
        assert max(sum(1 for t in sent if start <= t < start + 1.0) for start in sent) <= 20
    async with BotApiEmulator(global_rate=(20, 1.0), retry_after=1) as emu:
        await emu.user(CHAT).send("hi")
        await two_bursts(emu, share=False)
        assert any(c.error_code == 429 for c in emu.rejected)


def test_a_groups_pace_is_shared_too() -> None:
    limiter = EvenRateLimiter(30)
    limiter.groups[-100] = Turns(GROUP_INTERVAL)
    limiter.share(2)
    assert limiter.group_interval == limiter.groups[-100].interval == 2 * GROUP_INTERVAL
    limiter.share(1)
    assert limiter.groups[-100].interval == GROUP_INTERVAL
