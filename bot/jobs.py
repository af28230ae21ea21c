"""Every scheduled job: housekeeping that keeps a long-running bot lean, live boards, and
syntheses pushed when a phase is over or at the time a facilitator asked for."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.runtime import runtime
from bot.views.board import refresh_live_boards
from bot.views.syntheses import push_completed_phases, push_synthesis
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


async def refresh_boards(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edit the facilitators' live boards whose figures changed."""
    state = runtime(context)
    if state.service_ is not None:
        await refresh_live_boards(state, context.bot)


async def push_completed_everywhere(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Catch a phase completed without a move through it (the last one still in it paused,
    or erased their data)."""
    state = runtime(context)
    if state.facilitation_ is None:
        return
    for workshop_id in await state.facilitation.open_workshop_ids():
        await push_completed_phases(state, context.bot, workshop_id)


async def push_due_syntheses(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the syntheses asked for at a time."""
    state = runtime(context)
    if state.facilitation_ is None:
        return
    for workshop in await state.facilitation.due_syntheses():
        found = await state.facilitation.report_of(workshop)
        await push_synthesis(state, context.bot, found, None)


def schedule(application: Application) -> None:
    assert application.job_queue is not None, "python-telegram-bot[job-queue] is required"
    every = {
        "prune-updates": (prune_update_ledger, PRUNE_EVERY),
        "live-boards": (refresh_boards, BOARD_REFRESH_EVERY),
        "completed-phases": (push_completed_everywhere, COMPLETED_PHASES_EVERY),
        "due-syntheses": (push_due_syntheses, DUE_SYNTHESES_EVERY),
    }
    for name, (job, interval) in every.items():
        application.job_queue.run_repeating(job, interval=interval, first=interval, name=name)
