"""Scheduled work: housekeeping that keeps a long-running bot lean."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.handlers.facilitator import refresh_live_boards
from bot.handlers.syntheses import push_completed_everywhere, push_due_syntheses
from bot.runtime import runtime
from storage import updates
from storage.db import utc_now

log = logging.getLogger(__name__)
# Telegram keeps undelivered updates for 24 hours; a day's margin on top.
UPDATE_LEDGER_RETENTION = timedelta(days=2)
PRUNE_EVERY = timedelta(hours=6)
# A facilitator's board is edited at most this often while participants answer.
BOARD_REFRESH_EVERY = timedelta(seconds=5)
# A phase completed without a move through it (a pause, an erasure) is noticed this fast.
COMPLETED_PHASES_EVERY = timedelta(minutes=1)
# A synthesis asked for at a time goes out within this much of it.
DUE_SYNTHESES_EVERY = timedelta(seconds=30)


async def prune_update_ledger(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget handled updates too old to be delivered again."""
    database = runtime(context).database
    if database is not None:
        removed = await updates.prune(database, before=utc_now() - UPDATE_LEDGER_RETENTION)
        log.info("forgot %d handled updates", removed)


def schedule(application: Application) -> None:
    assert application.job_queue is not None, "python-telegram-bot[job-queue] is required"
    application.job_queue.run_repeating(
        prune_update_ledger, interval=PRUNE_EVERY, first=PRUNE_EVERY, name="prune-updates"
    )
    application.job_queue.run_repeating(
        refresh_live_boards,
        interval=BOARD_REFRESH_EVERY,
        first=BOARD_REFRESH_EVERY,
        name="live-boards",
    )
    application.job_queue.run_repeating(
        push_completed_everywhere,
        interval=COMPLETED_PHASES_EVERY,
        first=COMPLETED_PHASES_EVERY,
        name="completed-phases",
    )
    application.job_queue.run_repeating(
        push_due_syntheses,
        interval=DUE_SYNTHESES_EVERY,
        first=DUE_SYNTHESES_EVERY,
        name="due-syntheses",
    )
