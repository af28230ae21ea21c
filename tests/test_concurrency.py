"""The update processor: one chat in order, other chats never kept waiting by a burst."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, Update

from bot.concurrency import PerChatUpdateProcessor


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, datetime.now(UTC), chat, text="x"))


async def test_a_burst_from_one_chat_does_not_hold_up_another() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=1)
    order: list[str] = []
    release_first = asyncio.Event()

    async def handle(name: str, gate: asyncio.Event | None = None) -> None:
        order.append(f"start {name}")
        if gate is not None:
            await gate.wait()
        order.append(f"end {name}")

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 10), handle("a1", release_first)))
    ]
    await asyncio.sleep(0)
    tasks += [
        asyncio.create_task(processor.process_update(_update(i, 10), handle(f"a{i}")))
        for i in (2, 3)
    ]
    tasks.append(asyncio.create_task(processor.process_update(_update(4, 20), handle("b1"))))
    for _ in range(5):
        await asyncio.sleep(0)
    assert processor.in_hand == 4
    release_first.set()
    await asyncio.gather(*tasks)
    # Chat 10 stays in order; chat 20 gets the only slot as soon as a1 frees it.
    assert [e for e in order if e.startswith("end a")] == ["end a1", "end a2", "end a3"]
    assert order.index("start b1") < order.index("start a2")
    assert processor.in_hand == 0


async def test_every_update_once_done_calls_after_each_however_it_ended() -> None:
    """The live screens are nudged after each update, also one that failed."""
    processor = PerChatUpdateProcessor(max_concurrent_updates=4)
    done: list[int] = []
    seen: list[list[int]] = []
    processor.after_each = lambda: seen.append(list(done))

    async def handle(update_id: int, *, fails: bool = False) -> None:
        done.append(update_id)
        if fails:
            raise RuntimeError("a handler failed")

    await processor.process_update(_update(1, 10), handle(1))
    with pytest.raises(RuntimeError):
        await processor.process_update(_update(2, 10), handle(2, fails=True))
    await processor.process_update(_update(3, 11), handle(3))
    assert seen == [[1], [1, 2], [1, 2, 3]]  # once each, after its handler


async def test_each_update_takes_its_chats_turn_and_one_without_it_is_still_handled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=4)
    taken: list[str] = []
    handled: list[int] = []

    @asynccontextmanager
    async def turn(key: int) -> AsyncIterator[None]:
        if key == 13:  # the database cannot give this one (a server unreachable)
            raise ConnectionError("the database server cannot be reached")
        taken.append(f"take {key}")
        yield
        taken.append(f"give {key}")

    async def handle(update_id: int) -> None:
        handled.append(update_id)

    processor.turn = turn
    await processor.process_update(_update(1, 7), handle(1))
    await processor.process_update(_update(2, 13), handle(2))
    assert taken == ["take 7", "give 7"]
    # Without its turn, the update is still handled: its handler meets the same fault and
    # answers the user, rather than leaving them with silence.
    assert handled == [1, 2]
    assert "chat 13 handled without its turn" in caplog.text
