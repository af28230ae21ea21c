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

from bot.delivery import Status
from bot.runtime import Runtime
from bot.views import broadcasts, decantation, mailings, reminders, sessions
from bot.views.chat import Chat, broadcast_chat
from flows.kinds import DeliveryStatus, MailingKind
from storage.outbox import Claimed

log = logging.getLogger(__name__)

# Deliveries in flight at once: the most a crash can double.
SENDS_AT_ONCE = 8
# Telegram's limit in one chat: about one message a second.
CHAT_SPACING = 1.0
# Standing mailings (invitations, session reminders, décantations) take newcomers this often.
SWEEP_EVERY = 5.0
# A sender's progress message is edited at most this often.
PROGRESS_EVERY = 2.0

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


class Outbox:
    """The sender's state in this process: its task, the chats' last sends, the reports'
    last edits."""

    def __init__(self, state: Runtime, bot: Bot, *, at_once: int = SENDS_AT_ONCE) -> None:
        self.state = state
        self.bot = bot
        self.at_once = at_once
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._last_in_chat: dict[int, float] = {}
        self._progress_at: dict[int, float] = {}
        self._swept_at = float("-inf")

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Look for due deliveries now (a no-op while a look is under way, which looks
        again before it stops)."""
        if self.busy:
            self._again = True
            return
        self._task = asyncio.create_task(self._pump(), name="coopbot-outbox")

    async def stop(self) -> None:
        """Stop sending (at shutdown): what is in flight stays claimed, and goes again,
        marked doubled, at the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _pump(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the outbox stopped on an error; the next tick starts it again")

    async def _run(self) -> None:
        service = self.state.outbox
        loop = asyncio.get_running_loop()
        in_flight: set[asyncio.Task[None]] = set()
        touched: set[int] = set()
        while True:
            self._again = False
            await service.open_due()
            if loop.time() - self._swept_at >= SWEEP_EVERY:
                self._swept_at = loop.time()
                await service.sweep()
            free = self.at_once - len(in_flight)
            if free > 0:
                for item in await service.claim(free):
                    touched.add(item.mailing.id)
                    in_flight.add(asyncio.create_task(self._send(item)))
            if not in_flight:
                await self._report(touched, final_only=True)
                if not self._again:
                    return
                continue
            _, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            await self._report(touched, final_only=False)

    async def _send(self, item: Claimed) -> None:
        service = self.state.outbox
        chat_id = item.delivery.user_id
        language = item.participant.language if item.participant else None
        chat = broadcast_chat(self.state, self.bot, chat_id, language)
        loop = asyncio.get_running_loop()
        wait = self._last_in_chat.get(chat_id, float("-inf")) + CHAT_SPACING - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_in_chat[chat_id] = loop.time()
        sender = SENDERS[MailingKind(item.mailing.kind)]
        try:
            message_id = await sender(chat, item)
        except Exception:
            log.exception("sending delivery %s failed", item.delivery.id)
            await service.settle(item, DeliveryStatus.FAILED)
            return
        status = DeliveryStatus.SKIPPED if chat.outcome is None else _STATUS[chat.outcome]
        await service.settle(item, status, message_id)

    async def _report(self, touched: set[int], *, final_only: bool) -> None:
        """Edit the senders' progress messages (at most every PROGRESS_EVERY seconds each)
        and send the final reports of the mailings that are done."""
        service = self.state.outbox
        loop = asyncio.get_running_loop()
        for mailing in await service.finished():
            touched.discard(mailing.id)
            if mailing.report_chat_id is not None:
                await mailings.show_progress(self.state, self.bot, mailing, final=True)
        if final_only:
            return
        for mailing_id in list(touched):
            if loop.time() - self._progress_at.get(mailing_id, float("-inf")) < PROGRESS_EVERY:
                continue
            self._progress_at[mailing_id] = loop.time()
            current = await service.mailing(mailing_id)
            if current is not None and current.report_chat_id is not None:
                await mailings.show_progress(self.state, self.bot, current, final=False)
