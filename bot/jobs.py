"""Scheduled work: housekeeping that keeps a long-running bot lean."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.runtime import runtime
from storage import updates
from storage.db import utc_now

log = logging.getLogger(__name__)
# Telegram keeps undelivered updates for 24 hours; a day's margin on top.
UPDATE_LEDGER_RETENTION = timedelta(days=2)
PRUNE_EVERY = timedelta(hours=6)


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
