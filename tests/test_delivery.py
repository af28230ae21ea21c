"""The delivery policy: what each answer of Telegram leads to, without sleeping or a network.

`deliver` is driven by a scripted stand-in for one Bot API call and a `sleep` that records
the waits; the Courier by a stub bot with the same method names as `telegram.Bot`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.delivery import Courier, Delivered, Policy, Status, Tally, deliver

CHAT = 42


class Call:
    """One Bot API call as Telegram would answer it: each answer in turn, then "ok"."""

    def __init__(self, *answers: TelegramError) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.answers:
            raise self.answers.pop(0)
        return "ok"


class Waits(list[float]):
    """An injected sleep: remembers how long it was asked to wait, and returns at once."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.delivery"]


async def test_a_blocked_chat_is_unreachable_after_one_call_logged_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call, waits = Call(Forbidden("Forbidden: bot was blocked by the user")), Waits()
    delivered = await deliver(CHAT, "sendMessage", call, sleep=waits)
    assert delivered.status is Status.UNREACHABLE and not delivered.ok
    assert call.calls == 1 and waits == []
    assert [r.levelno for r in records(caplog)] == [logging.INFO]


async def test_a_flood_limit_waits_as_told_then_sends() -> None:
    call, waits = Call(RetryAfter(7)), Waits()
    delivered = await deliver(CHAT, "sendMessage", call, sleep=waits)
    assert delivered == Delivered(CHAT, Status.SENT, "ok")
    assert call.calls == 2 and waits == [7]


async def test_a_flood_limit_given_as_a_timedelta_is_read_in_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB then gives retry_after as a timedelta
    error = RetryAfter(timedelta(seconds=7))
    assert isinstance(error.retry_after, timedelta)
    waits = Waits()
    assert (await deliver(CHAT, "sendMessage", Call(error), sleep=waits)).ok
    assert waits == [7.0]


async def test_a_long_flood_limit_is_capped() -> None:
    waits = Waits()
    policy = Policy(max_retry_after=60.0)
    await deliver(CHAT, "sendMessage", Call(RetryAfter(3600)), policy=policy, sleep=waits)
    assert waits == [60.0]


async def test_flood_limits_every_time_fail_after_the_bounded_attempts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call, waits = Call(*(RetryAfter(1) for _ in range(10))), Waits()
    delivered = await deliver(
        CHAT, "sendMessage", call, policy=Policy(rate_limit_attempts=3), sleep=waits
    )
    assert delivered.status is Status.FAILED and isinstance(delivered.error, RetryAfter)
    assert call.calls == 3 and waits == [1, 1]
    assert [r.levelno for r in records(caplog)] == [logging.WARNING]


async def test_a_timeout_then_success_is_sent_after_one_backoff() -> None:
    call, waits = Call(TimedOut()), Waits()
    delivered = await deliver(CHAT, "sendMessage", call, sleep=waits)
    assert delivered.status is Status.SENT and delivered.result == "ok"
    assert call.calls == 2 and waits == [0.5]


@pytest.mark.parametrize("error", [TimedOut, lambda: NetworkError("connection reset")])
async def test_the_network_failing_every_time_fails_after_the_attempts_with_backoff(
    error: Any, caplog: pytest.LogCaptureFixture
) -> None:
    call, waits = Call(*(error() for _ in range(10))), Waits()
    delivered = await deliver(CHAT, "sendMessage", call, policy=Policy(attempts=3), sleep=waits)
    assert delivered.status is Status.FAILED
    assert call.calls == 3 and waits == [0.5, 1.0]
    assert [r.levelno for r in records(caplog)] == [logging.WARNING]


async def test_a_bad_request_fails_at_once_logged_at_warning_with_the_method_and_chat(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call, waits = Call(BadRequest("Can't parse entities: unclosed tag")), Waits()
    delivered = await deliver(CHAT, "sendMessage", call, sleep=waits)
    assert delivered.status is Status.FAILED and isinstance(delivered.error, BadRequest)
    assert call.calls == 1 and waits == []  # not retried, though BadRequest is a NetworkError
    [record] = records(caplog)
    assert record.levelno == logging.WARNING
    assert "sendMessage" in record.getMessage() and str(CHAT) in record.getMessage()


@pytest.mark.parametrize(
    "text",
    [
        "Message is not modified: specified new message content and reply markup are the same",
        "Message to edit not found",
        "Message can't be edited",
    ],
)
async def test_a_harmless_edit_refusal_fails_quietly(
    text: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.delivery")
    call = Call(BadRequest(text))
    delivered = await deliver(CHAT, "editMessageText", call, sleep=Waits())
    assert delivered.status is Status.FAILED and call.calls == 1
    assert [r.levelno for r in records(caplog)] == [logging.DEBUG]


async def test_any_other_telegram_error_fails_logged_at_warning_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = Call(ChatMigrated(-100123))
    delivered = await deliver(CHAT, "sendMessage", call, sleep=Waits())
    assert delivered.status is Status.FAILED and call.calls == 1
    [record] = records(caplog)
    assert record.levelno == logging.WARNING and record.exc_info is not None


async def test_a_tally_counts_a_mixed_broadcast() -> None:
    answers: dict[int, Iterable[TelegramError]] = {
        1: [],
        2: [Forbidden("Forbidden: bot was blocked by the user")],
        3: [TimedOut() for _ in range(5)],
    }
    tally = Tally()
    for chat_id, errors in answers.items():
        tally.count(await deliver(chat_id, "sendMessage", Call(*errors), sleep=Waits()))
    assert tally == Tally(sent=1, unreachable=1, failed=1)


class StubBot:
    """Stands in for telegram.Bot: records each call, raises the errors scripted for it."""

    def __init__(self, *errors: TelegramError | None) -> None:
        self.errors = list(errors)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _answer(self, method: str, chat_id: int, **params: Any) -> Message:
        self.calls.append((method, {"chat_id": chat_id, **params}))
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return Message(len(self.calls), datetime.now(UTC), Chat(chat_id, Chat.PRIVATE))

    async def send_message(self, chat_id: int, text: str, **params: Any) -> Message:
        return self._answer("sendMessage", chat_id, text=text, **params)

    async def send_photo(self, chat_id: int, photo: bytes, **params: Any) -> Message:
        return self._answer("sendPhoto", chat_id, photo=photo, **params)

    async def edit_message_text(self, text: str, *, chat_id: int, **params: Any) -> Message:
        return self._answer("editMessageText", chat_id, text=text, **params)

    async def edit_message_reply_markup(self, *, chat_id: int, **params: Any) -> Message:
        return self._answer("editMessageReplyMarkup", chat_id, **params)


def courier(bot: StubBot) -> Courier:
    return Courier(bot, sleep=Waits())  # type: ignore[arg-type]


async def test_the_courier_sends_every_text_and_caption_as_html() -> None:
    bot = StubBot()
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="y")]])
    send = courier(bot)
    assert (await send.message(CHAT, "<b>Bonjour</b>", reply_markup=keyboard)).ok
    assert (await send.photo(CHAT, b"png", caption="<i>chart</i>")).ok
    assert (await send.edit_text(CHAT, 7, "<b>edited</b>")).ok
    assert (await send.edit_buttons(CHAT, 7, None)).ok
    methods = {method: params for method, params in bot.calls}
    for method in ("sendMessage", "sendPhoto", "editMessageText"):
        assert methods[method]["parse_mode"] == ParseMode.HTML, method
    assert methods["sendMessage"]["reply_markup"] is keyboard
    assert "parse_mode" not in methods["editMessageReplyMarkup"]
    assert methods["editMessageReplyMarkup"]["reply_markup"] is None


async def test_the_courier_sends_several_messages_in_order() -> None:
    bot = StubBot()
    delivered = await courier(bot).messages(CHAT, ["one", "two", "three"])
    assert delivered.status is Status.SENT and delivered.result is not None
    assert [m.message_id for m in delivered.result] == [1, 2, 3]
    assert [params["text"] for _, params in bot.calls] == ["one", "two", "three"]


async def test_the_courier_stops_several_messages_at_the_first_failure() -> None:
    bot = StubBot(None, BadRequest("Message is too long"))
    delivered = await courier(bot).messages(CHAT, ["one", "two", "three"])
    assert delivered.status is Status.FAILED and isinstance(delivered.error, BadRequest)
    assert delivered.result is not None and len(delivered.result) == 1
    assert [params["text"] for _, params in bot.calls] == ["one", "two"]


async def test_the_courier_reports_a_blocked_chat_before_any_message() -> None:
    bot = StubBot(Forbidden("Forbidden: bot was blocked by the user"))
    delivered = await courier(bot).messages(CHAT, ["one", "two"])
    assert delivered.status is Status.UNREACHABLE and delivered.result == []
    assert len(bot.calls) == 1
