"""Stopping the bot while its jobs fire leaves no error in the log."""

from __future__ import annotations

import asyncio
import logging

import pytest
from telegram.ext import ApplicationBuilder, CallbackContext

from bot.jobs import QuietlyStoppingJobQueue


async def test_a_job_due_while_the_queue_stops_is_not_cancelled_half_started(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Jobs due every 2 ms, so that the scheduler hands one over while the queue stops:
    # python-telegram-bot's own queue logged "Error running job" about once per stop here.
    async def tick(context: CallbackContext) -> None:  # type: ignore[type-arg]
        await asyncio.sleep(0.003)

    ran = 0
    for _ in range(10):
        queue = QuietlyStoppingJobQueue()
        application = ApplicationBuilder().token("1:stop").job_queue(queue).build()
        for _ in range(5):
            queue.run_repeating(tick, interval=0.002, first=0)
        await queue.start()
        await asyncio.sleep(0.02)
        await queue.stop()
        ran += 1
        assert not queue.scheduler.running
        del application  # the queue holds it weakly: alive until here
    assert ran == 10
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
