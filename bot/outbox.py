"""The outbox's one sender: claims what is due, sends it, settles it, reports.

A job wakes it every second (`bot/jobs.py`) and a confirmed broadcast wakes it at once.
It opens the mailings whose time has come, gives the standing ones their newcomers, and
keeps at most `SENDS_AT_ONCE` deliveries in flight: each is claimed in the database
(`sending`) before its call to Telegram and settled after, so that a crash can only
repeat the calls in flight at that instant (counted as "possibly doubled" in the report).
The pace is python-telegram-bot's rate limiter's (`COOPBOT_MESSAGES_PER_SECOND` overall)
and, here, at most one message a second to one chat; what Telegram answers is handled by
`bot.delivery` (429 waits, 403 marks the person unreachable and moves on).

What each kind of mailing says is written by its view (`SENDERS`); the progress and the
final report of a reminder, broadcast or follow-up, by `bot.views.mailings`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.delivery import Status
from bot.faults import Kind, kind_of
from bot.runtime import Runtime
from bot.views import broadcasts, decantation, mailings, reminders, sessions
from bot.views.chat import Chat, broadcast_chat
from flows.kinds import DeliveryStatus, MailingKind
from storage.outbox import Claimed

log = logging.getLogger(__name__)

# Deliveries in flight at once: the most a crash can double.
SENDS_AT_ONCE = 8
# Telegram's limit in one chat: about one message a second (a margin for the network's
# jitter: a 429 makes python-telegram-bot's rate limiter hold every call for a second).
CHAT_SPACING = 1.1
# Standing mailings (invitations, session reminders, décantations) take newcomers this often.
SWEEP_EVERY = 2.0
# At a clean stop, the sends in flight have this long to be answered and recorded.
STOP_GRACE = 10.0
# A sender's progress message is edited at most this often (each edit costs a send).
PROGRESS_EVERY = 3.0
# The sender claims deliveries at its own even pace, a little under
# COOPBOT_MESSAGES_PER_SECOND: the bot's limiter (`bot/pacing.py`) spaces every send, but
# what is claimed and not yet sent would wait in its queue, and a restart marks every
# claimed delivery as perhaps shown twice; claiming at the pace of sending keeps those few.
PACE_SHARE = 0.96

# Sends one delivery to its recipient's chat (a `Chat` under the delivery policy, in their
# language) and returns the id of the message shown, or None when nothing was sent (the
# chat's `outcome` then says why, or nothing was due).
Sender = Callable[[Chat, Claimed], Awaitable[int | None]]

SENDERS: dict[MailingKind, Sender] = {
    MailingKind.REMINDER: reminders.send_reminder,
    MailingKind.BROADCAST: broadcasts.send_broadcast,
    MailingKind.FOLLOWUP: decantation.send_followup,
    MailingKind.INVITATION: sessions.send_invitation,
    MailingKind.SESSION_REMINDER: sessions.send_session_reminder,
    MailingKind.DECANTATION: decantation.send_decantation,
    MailingKind.DECANTATION_REMINDER: decantation.send_decantation_reminder,
}

_STATUS = {
    Status.SENT: DeliveryStatus.SENT,
    Status.UNREACHABLE: DeliveryStatus.UNREACHABLE,
    Status.FAILED: DeliveryStatus.FAILED,
}


class Pace:
    """An even pace of `rate` messages a second. A turn taken late does not push the next
    ones back, within `slack` seconds (the work between two sends: a claim, a commit),
    and after a pause `slack` worth of turns may go at once: any n turns in a row span at
    least n / `rate` - `slack` seconds, which is what keeps them under Telegram's limit
    over any second."""

    def __init__(self, rate: float, *, slack: float = 0.0) -> None:
        self.interval = 1.0 / rate
        self.slack = max(slack, 0.0)
        self._next = float("-inf")

    @classmethod
    def under(cls, limit: float) -> Pace:
        """The pace for a limit of `limit` messages a second, with its margin: a quarter of
        a turn's catching up, or the margin's worth of turns when that is more."""
        rate = limit * PACE_SHARE
        return cls(rate, slack=max(0.25, limit - rate - 1) / rate)

    def _start(self, now: float) -> float:
        return max(self._next, now - self.slack)

    def available(self, now: float, limit: int) -> int:
        """How many messages may go now (at most `limit`)."""
        start = self._start(now)
        if start > now:
            return 0
        return min(limit, int((now - start) / self.interval) + 1)

    def wait(self, now: float) -> float:
        """Seconds until the next message may go."""
        return max(self._start(now) - now, 0.0)

    def take(self, now: float, count: int = 1) -> None:
        self._next = self._start(now) + count * self.interval

    async def slot(self) -> None:
        """Wait for the next message's turn, and take it."""
        loop = asyncio.get_running_loop()
        delay = self.wait(loop.time())
        if delay > 0:
            await asyncio.sleep(delay)
        self.take(loop.time())


class Outbox:
    """The sender's state in this process: its task, its pace, the chats' last sends, the
    reports' last edits."""

    def __init__(self, state: Runtime, bot: Bot, *, at_once: int = SENDS_AT_ONCE) -> None:
        self.state = state
        self.bot = bot
        self.at_once = at_once
        self.pace = Pace.under(state.settings.messages_per_second)
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._last_in_chat: dict[int, float] = {}
        self._progress_at: dict[int, float] = {}
        self._swept_at = float("-inf")
        self._in_flight: set[asyncio.Task[None]] = set()  # sends under way, for a clean stop

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def share(self, workers: int) -> None:
        """`workers` processes send with the same token: this one claims at its share of
        the limit."""
        shared = Pace.under(self.state.settings.messages_per_second / max(workers, 1))
        self.pace.interval, self.pace.slack = shared.interval, shared.slack

    def wake(self) -> None:
        """Look for due deliveries now (a no-op while a look is under way, which looks
        again before it stops)."""
        if self.busy:
            self._again = True
            return
        self._task = asyncio.create_task(self._pump(), name="coopbot-outbox")

    async def stop(self) -> None:
        """Stop sending (at shutdown): nothing more is claimed, and the calls in flight are
        given `STOP_GRACE` seconds to be answered and settled, so that a clean stop doubles
        nothing (one still unanswered then stays claimed, and goes again, marked doubled,
        at the next start)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=STOP_GRACE)
            for task in self._in_flight:
                task.cancel()
            self._in_flight = set()

    async def _pump(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            kind = kind_of(error)  # a locked or full database: a fault, not a bug
            if kind is Kind.UNEXPECTED:
                log.exception("the outbox stopped on an error; the next tick starts it again")
            else:
                log.warning(
                    "the outbox stopped (%s: %s); the next tick starts it again", kind, error
                )
            self.state.faults.count(kind, where="outbox", error=error)

    async def _run(self) -> None:
        """Claim deliveries only as the pace lets them go, so that a claimed delivery is
        one actually on its way (the window a crash can double), and keep the slots full."""
        service = self.state.outbox
        loop = asyncio.get_running_loop()
        in_flight = self._in_flight
        touched: set[int] = set()
        look, exhausted = True, False
        while True:
            if look or self._again:
                look, self._again, exhausted = False, False, False
                await service.open_due()
                if loop.time() - self._swept_at >= SWEEP_EVERY:
                    self._swept_at = loop.time()
                    await service.sweep()
            free = self.at_once - len(in_flight)
            ready = self.pace.available(loop.time(), free) if free > 0 and not exhausted else 0
            if ready:
                batch = await service.claim_batch(ready)
                exhausted = batch.exhausted
                if batch.sendable:
                    self.pace.take(loop.time(), len(batch.sendable))
                for item in batch.sendable:
                    self._touch(item, touched)
                    in_flight.add(asyncio.create_task(self._send(item)))
            if not in_flight and exhausted:
                await self._report(touched, final_only=True)
                if self._again:
                    continue
                return
            waiting = exhausted or len(in_flight) >= self.at_once
            timeout = None if waiting else max(self.pace.wait(loop.time()), 0.001)
            if in_flight:
                done, _ = await asyncio.wait(
                    in_flight, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                in_flight -= done
                if done:
                    await self._report(touched, final_only=False)
            else:
                await asyncio.sleep(timeout or 0.001)

    def _touch(self, item: Claimed, touched: set[int]) -> None:
        """A mailing's first delivery: its sender's chat was just written to (the preview
        edited on confirmation, outside this pace), so that message takes a turn, and the
        first progress message keeps Telegram's pace in that chat."""
        mailing = item.mailing
        if mailing.id in touched:
            return
        touched.add(mailing.id)
        now = asyncio.get_running_loop().time()
        self._progress_at.setdefault(mailing.id, now)
        if mailing.report_chat_id is not None:
            self.pace.take(now)
            last = self._last_in_chat.get(mailing.report_chat_id, float("-inf"))
            self._last_in_chat[mailing.report_chat_id] = max(last, now)

    async def _send(self, item: Claimed) -> None:
        service = self.state.outbox
        chat_id = item.delivery.user_id
        language = item.participant.language if item.participant else None
        chat = broadcast_chat(self.state, self.bot, chat_id, language)
        await self._chat_turn(chat_id)
        sender = SENDERS[MailingKind(item.mailing.kind)]
        try:
            message_id = await sender(chat, item)
        except Exception:
            log.exception("sending delivery %s failed", item.delivery.id)
            await service.settle(item, DeliveryStatus.FAILED)
            return
        status = DeliveryStatus.SKIPPED if chat.outcome is None else _STATUS[chat.outcome]
        # The network or the flood control, not a refusal: once more, a while later.
        passing = status is DeliveryStatus.FAILED and _passing(chat.error)
        if passing and await service.postpone(item, maybe_shown=isinstance(chat.error, TimedOut)):
            return
        await service.settle(item, status, message_id)

    async def _chat_turn(self, chat_id: int) -> None:
        """Wait until this chat's last message is CHAT_SPACING old, and take the turn."""
        loop = asyncio.get_running_loop()
        wait = self._last_in_chat.get(chat_id, float("-inf")) + CHAT_SPACING - loop.time()
        if wait > 0:
            self._last_in_chat[chat_id] = loop.time() + wait
            await asyncio.sleep(wait)
        self._last_in_chat[chat_id] = loop.time()

    async def _report(self, touched: set[int], *, final_only: bool) -> None:
        """Edit the senders' progress messages (at most every PROGRESS_EVERY seconds each,
        and never sooner than CHAT_SPACING after the chat's last message) and send the
        final reports of the mailings that are done. Each takes its turn in the pace."""
        service = self.state.outbox
        loop = asyncio.get_running_loop()
        for mailing in await service.finished():
            touched.discard(mailing.id)
            self._progress_at.pop(mailing.id, None)
            if mailing.report_chat_id is not None:
                await self._chat_turn(mailing.report_chat_id)
                await self.pace.slot()
                await mailings.show_progress(self.state, self.bot, mailing, final=True)
            await service.reported(mailing.id)
        if final_only:
            return
        for mailing_id in list(touched):
            now = loop.time()
            if now - self._progress_at.get(mailing_id, now) < PROGRESS_EVERY:
                continue
            current = await service.mailing(mailing_id)
            if current is None or current.report_chat_id is None:
                continue
            chat_id = current.report_chat_id
            if now - self._last_in_chat.get(chat_id, float("-inf")) < CHAT_SPACING:
                continue
            self._progress_at[mailing_id] = now
            self._last_in_chat[chat_id] = now
            await self.pace.slot()
            await mailings.show_progress(self.state, self.bot, current, final=False)


def _passing(error: TelegramError | None) -> bool:
    """Whether a failure may pass: a network error or a flood limit, not a refusal (a
    `BadRequest` is one, though python-telegram-bot makes it a `NetworkError`)."""
    return isinstance(error, NetworkError | RetryAfter) and not isinstance(error, BadRequest)
