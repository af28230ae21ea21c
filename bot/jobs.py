"""Every scheduled job: housekeeping that keeps a long-running bot lean, the retention
period's erasures, live boards,
syntheses pushed when a phase is over or at the time a facilitator asked for, and the
review queue shown to the facilitators in batches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from functools import partial, wraps

from telegram.ext import Application, ContextTypes, JobQueue

from bot.pacing import EvenRateLimiter
from bot.runtime import RUNTIME_KEY, Runtime, runtime
from bot.views.board import refresh_live_boards
from bot.views.review import flush_review_queue
from bot.views.room import sync_rooms
from bot.views.syntheses import (
    push_completed_phases,
    push_decantation_synthesis,
    push_synthesis,
)
from flows.outbox import WORKER_BEAT
from storage import audit, updates
from storage.db import utc_now

log = logging.getLogger(__name__)
Job = Callable[[ContextTypes.DEFAULT_TYPE], Coroutine[object, object, None]]
# Telegram keeps undelivered updates for 24 hours; a day's margin on top.
UPDATE_LEDGER_RETENTION = timedelta(days=2)
PRUNE_EVERY = timedelta(hours=6)
# A facilitator's board is edited at most this often while participants answer.
BOARD_REFRESH_EVERY = timedelta(seconds=5)
# A phase completed without a move through it (a pause, an erasure) is noticed this fast.
COMPLETED_PHASES_EVERY = timedelta(minutes=1)
# A synthesis asked for at a time goes out within this much of it.
DUE_SYNTHESES_EVERY = timedelta(seconds=30)
# The one-off job that shows the statements waiting for review, a few seconds after the
# first of them (`Settings.review_delay`), and once at start for those a restart left.
REVIEW_JOB = "review-queue"
# A batch that could reach no facilitator (say, none had started the bot) is tried again.
REVIEW_SWEEP_EVERY = timedelta(minutes=5)


# Workshops whose retention period is over are erased at start, then every day.
RETENTION_EVERY = timedelta(days=1)


# The outbox looks for due reminders, invitations and décantations this often.
OUTBOX_EVERY = timedelta(seconds=1)


def led(job: Job) -> Job:
    """A job that runs in one process only, among those sharing the database (the
    leader): what it does is claimed in the database anyway, but the others need not
    look for it too every few seconds."""

    @wraps(job)
    async def run(context: ContextTypes.DEFAULT_TYPE) -> None:
        database = runtime(context).database
        if database is None or await database.leading():
            await job(context)

    return run


async def wake_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send what the outbox has due (the sender runs on its own; this only wakes it)."""
    runtime(context).wake_outbox()


async def prune_update_ledger(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget handled updates too old to be delivered again."""
    database = runtime(context).database
    if database is not None:
        removed = await updates.prune(database, before=utc_now() - UPDATE_LEDGER_RETENTION)
        await audit.forget_updates(database, before=utc_now() - UPDATE_LEDGER_RETENTION)
        log.info("forgot %d handled updates", removed)


async def erase_expired(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Erase the personal data of the workshops closed longer ago than the retention period
    (`COOPBOT_RETENTION_DAYS`), keeping their figures; idempotent, so also run at start."""
    state = runtime(context)
    if state.retention_ is not None:
        await state.retention.erase_expired()  # each workshop erased is logged


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
        # The décantation's too, once its silent participants had their time.
        await push_decantation_synthesis(state, context.bot, workshop_id)


async def push_due_syntheses(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the syntheses asked for at a time."""
    state = runtime(context)
    if state.facilitation_ is None:
        return
    for workshop in await state.facilitation.due_syntheses():
        found = await state.facilitation.report_of(workshop)
        await push_synthesis(state, context.bot, found, None)


class QuietlyStoppingJobQueue(JobQueue):  # type: ignore[type-arg]
    """python-telegram-bot's queue waits for the jobs running when it stops, then shuts the
    scheduler down; a job the scheduler started in between was cancelled and logged as an
    error. Paused first, the scheduler starts none in between."""

    async def stop(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.pause()
        await super().stop(wait=wait)


async def show_review_queue(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the facilitators, in batches, the statements waiting for review that nobody
    was shown yet."""
    state = runtime(context)
    if state.review_ is not None:
        await flush_review_queue(state, context.bot)


async def take_over_gone_workers(context: ContextTypes.DEFAULT_TYPE) -> None:
    """This worker is alive; the deliveries a worker gone had in flight go again, and its
    lead is taken; and each worker keeps to its share of Telegram's limit, as workers come
    and go."""
    state = runtime(context)
    if state.outbox_ is None:
        return
    if taken := await state.outbox_.recover():
        log.warning(
            "%d messages were in flight at a worker that stopped: sending them again", taken
        )
        state.wake_outbox()
    if state.database is not None:  # a worker gone leaves the lead to the next to ask
        await state.database.leading()
    workers = await state.outbox_.workers_alive()
    if workers != state.workers_sharing:
        log.info("%d workers share the database: each sends 1/%d of the limit", workers, workers)
        state.workers_sharing = workers
        limiter = context.bot.rate_limiter
        if isinstance(limiter, EvenRateLimiter):
            limiter.share(workers)
        if state.sender is not None:
            state.sender.share(workers)


def review_soon(application: Application) -> None:
    """A statement now waits for review: show it, with any written meanwhile, in a few
    seconds (a batch already due takes it along)."""
    assert application.job_queue is not None
    if application.job_queue.get_jobs_by_name(REVIEW_JOB):
        return
    state: Runtime = application.bot_data[RUNTIME_KEY]
    application.job_queue.run_once(
        show_review_queue,
        when=state.settings.review_delay,
        name=REVIEW_JOB,
        job_kwargs={"misfire_grace_time": None},  # late (a busy start) is better than never
    )


def schedule(application: Application) -> None:
    assert application.job_queue is not None, "python-telegram-bot[job-queue] is required"
    state: Runtime = application.bot_data[RUNTIME_KEY]
    state.review_soon = partial(review_soon, application)
    # At start: the statements a restart left waiting, never shown.
    application.job_queue.run_once(
        show_review_queue, when=0, name=REVIEW_JOB, job_kwargs={"misfire_grace_time": None}
    )
    # At start: every room's phones brought to its statement (an edit a crash lost).
    application.job_queue.run_once(
        sync_rooms, when=0, name="sync-rooms", job_kwargs={"misfire_grace_time": None}
    )
    # At start: what the retention period ended while the bot was down.
    application.job_queue.run_once(
        erase_expired, when=0, name="retention-start", job_kwargs={"misfire_grace_time": None}
    )
    # At start: how many workers share Telegram's limit (this one counted).
    application.job_queue.run_once(
        take_over_gone_workers,
        when=0,
        name="workers-start",
        job_kwargs={"misfire_grace_time": None},
    )
    # Every worker sends what it claims from the outbox, says it is alive, edits the live
    # boards it showed (they are in its memory), and erases and forgets what is due (each
    # erasure is taken once, a forgotten row is gone: running them everywhere costs
    # nothing, and a day's job waiting for a worker that leads might never run when
    # workers restart daily). The leader alone looks every few seconds for phases to push,
    # syntheses due and statements to show: each is claimed in the database, so that is
    # only to save the others the same look.
    every = {
        "prune-updates": (prune_update_ledger, PRUNE_EVERY),
        "live-boards": (refresh_boards, BOARD_REFRESH_EVERY),
        "completed-phases": (led(push_completed_everywhere), COMPLETED_PHASES_EVERY),
        "due-syntheses": (led(push_due_syntheses), DUE_SYNTHESES_EVERY),
        "review-sweep": (led(show_review_queue), REVIEW_SWEEP_EVERY),
        "outbox": (wake_outbox, OUTBOX_EVERY),
        "workers": (take_over_gone_workers, WORKER_BEAT),
        "retention": (erase_expired, RETENTION_EVERY),
    }
    for name, (job, interval) in every.items():
        application.job_queue.run_repeating(job, interval=interval, first=interval, name=name)
    # At start: what was due while the bot was down (sent late), and what was in flight.
    application.job_queue.run_once(
        wake_outbox, when=0, name="outbox-start", job_kwargs={"misfire_grace_time": None}
    )
