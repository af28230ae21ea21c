"""The emulated Telegram world: the bot's identity, users and their chats, files, queues.

Kept apart from the HTTP layer so the method handlers (methods.py) and the emulated
users (users.py) share one plain object, and tests can reach everything through
`BotApiEmulator`.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from typing import Any

from tgemu.errors import ApiError, CallTimedOut, ServerFailed
from tgemu.models import ApiCall
from tgemu.ratelimit import SlidingWindow
from tgemu.spec import ApiSpec, load_spec
from tgemu.updates import UpdateQueue
from tgemu.users import EmulatedUser

ScopeKey = tuple[tuple[str, Any], ...]
CommandsKey = tuple[ScopeKey, str]
DEFAULT_SCOPE: ScopeKey = (("type", "default"),)
# setWebhook's max_connections when not given.
DEFAULT_MAX_CONNECTIONS = 40


@dataclass
class PlannedFailure:
    """Calls still to fail: the next `times` of `method` (any, if None) in the chat of
    `chat_id` (any, if None); `status` None times them out, else a 5xx answers them."""

    times: int
    method: str | None
    chat_id: int | None
    status: int | None

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method is None and method == "getUpdates":
            return False  # the long poll fails only when named
        return (self.method in (None, method)) and (self.chat_id in (None, chat_id))


@dataclass
class StoredFile:
    """A file Telegram would keep: uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes | None  # None for a photo sent by URL (the emulator fetches nothing)
    file_name: str | None = None
    mime_type: str | None = None

    def to_telegram(self) -> dict[str, Any]:
        """The Bot API `File` object, as getFile returns it."""
        file: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_path": self.file_path,
        }
        if self.data is not None:
            file["file_size"] = len(self.data)
        return file


def scope_key(scope: dict[str, Any] | None) -> ScopeKey:
    """A hashable form of a BotCommandScope, the key of `BotApiEmulator.commands`."""
    if not scope:
        return DEFAULT_SCOPE
    return tuple(sorted(scope.items()))


class EmulatorState:
    """Everything the emulator remembers between calls."""

    def __init__(
        self,
        *,
        token: str,
        bot_username: str,
        bot_id: int,
        bot_first_name: str,
        chat_rate: tuple[int, float] | None,
        global_rate: tuple[int, float] | None,
        retry_after: int,
        first_update_id: int | None,
    ) -> None:
        self.spec: ApiSpec = load_spec()
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_first_name = bot_first_name
        self.retry_after = retry_after
        self._chat_window = SlidingWindow(*chat_rate) if chat_rate else None
        self._global_window = SlidingWindow(*global_rate) if global_rate else None
        start = first_update_id if first_update_id is not None else random.randint(10**5, 10**6)
        self.updates = UpdateQueue(start, self.spec.update_types())
        self.users: dict[int, EmulatedUser] = {}
        self.known_chats: set[int] = set()
        self.blocked: set[int] = set()
        self.failures: list[PlannedFailure] = []  # in the order they were asked for
        self.calls: list[ApiCall] = []
        self.rejected: list[ApiCall] = []
        self.timed_out: list[ApiCall] = []
        self.failed: list[ApiCall] = []  # answered with a planned 5xx
        self.commands: dict[CommandsKey, list[dict[str, str]]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}  # (name|description|..., language)
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: dict[str, Any] | None = None
        # The last failed webhook delivery: (unix time, Telegram's message); kept after
        # later successes, as getWebhookInfo's last_error_date and last_error_message.
        self.webhook_error: tuple[int, str] | None = None
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, int] = {}  # unanswered query id -> user id
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_numbers = itertools.count(1)
        self._query_numbers = itertools.count(1)
        self.in_flight = 0  # calls being answered (getUpdates excluded)
        self.last_activity = 0.0  # time.monotonic() of the last call or update

    # The bot and its users.

    def bot_user(self) -> dict[str, Any]:
        """The bot as a Bot API `User` (the `from` of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        language_code: str | None = "fr",
        username: str | None = None,
        last_name: str | None = None,
    ) -> EmulatedUser:
        """The user with this id, created on first use (later arguments are ignored)."""
        if user_id not in self.users:
            if user_id <= 0:
                raise ValueError("a user id must be positive")
            self.users[user_id] = EmulatedUser(
                self,
                user_id,
                first_name=first_name,
                language_code=language_code,
                username=username,
                last_name=last_name,
            )
        return self.users[user_id]

    def private_chat(self, chat_id: int | str) -> EmulatedUser:
        """The private chat `chat_id` names, if a user has ever written to the bot there."""
        user: EmulatedUser | None = None
        if isinstance(chat_id, int):
            user = self.users.get(chat_id)
        elif chat_id.startswith("@"):
            name = chat_id[1:].lower()
            user = next(
                (u for u in self.users.values() if (u.username or "").lower() == name), None
            )
        if user is None or user.id not in self.known_chats:
            raise ApiError.bad_request("chat not found")
        return user

    def writable_chat(self, chat_id: int | str) -> EmulatedUser:
        """A chat the bot may post to: known, and the user has not blocked the bot."""
        user = self.private_chat(chat_id)
        if user.id in self.blocked:
            raise ApiError.forbidden("bot was blocked by the user")
        return user

    # Updates.

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for the bot, learning the private chat it comes from."""
        self._learn(update)
        self.touch()
        return self.updates.push(update)

    def _learn(self, update: dict[str, Any]) -> None:
        for key, payload in update.items():
            if key == "update_id" or not isinstance(payload, dict):
                continue
            sender = payload.get("from") or payload.get("user")
            chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
            if isinstance(sender, dict) and not sender.get("is_bot") and "id" in sender:
                self.user(
                    int(sender["id"]),
                    first_name=sender.get("first_name", "Test"),
                    language_code=sender.get("language_code"),
                    username=sender.get("username"),
                    last_name=sender.get("last_name"),
                )
            if isinstance(chat, dict) and chat.get("type") == "private" and "id" in chat:
                self.user(int(chat["id"]), first_name=chat.get("first_name", "Test"))
                self.known_chats.add(int(chat["id"]))

    def next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat, shared by the user's and the bot's messages."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def new_callback_query(self, user_id: int) -> str:
        query_id = f"{self.bot_id}{next(self._query_numbers):012d}"
        self.callback_queries[query_id] = user_id
        return query_id

    # Files.

    def store_file(
        self,
        data: bytes | None,
        *,
        kind: str,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        number = next(self._file_numbers)
        extension = (file_name or "").rpartition(".")[2] if "." in (file_name or "") else "bin"
        stored = StoredFile(
            file_id=f"{kind[:2].upper()}ACAgQAAx{self.bot_id}-{number:06d}",
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"{kind}s/file_{number}.{extension}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, file_path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == file_path), None)

    # Time-outs, flood limits and idleness.

    def admit_message(self, chat_id: int, method: str) -> None:
        """A message to send or edit in `chat_id` passed Telegram's checks: time it out
        (`CallTimedOut`) or fail it (`ServerFailed`) if that is due, else count it against
        the flood limits."""
        failure = self._due_failure(method, chat_id, timeouts=True)
        if failure is not None and failure.status is None:
            raise CallTimedOut
        if failure is not None:
            raise ServerFailed(failure.status or 500)
        self.spend_rate(chat_id)

    def admit_call(self, method: str, chat_id: int | None) -> None:
        """Any other call, its parameters checked: fail it with a 5xx if one is due."""
        failure = self._due_failure(method, chat_id, timeouts=False)
        if failure is not None:
            raise ServerFailed(failure.status or 500)

    def _due_failure(
        self, method: str, chat_id: int | None, *, timeouts: bool
    ) -> PlannedFailure | None:
        """The first planned failure this call meets, counted down (time-outs apply only
        to message calls)."""
        for failure in self.failures:
            if (timeouts or failure.status is not None) and failure.matches(method, chat_id):
                failure.times -= 1
                if failure.times == 0:
                    self.failures.remove(failure)
                return failure
        return None

    def spend_rate(self, chat_id: int) -> None:
        """Count one message sent or edited in `chat_id`, or refuse it with 429."""
        now = time.monotonic()
        over_chat = self._chat_window is not None and not self._chat_window.allows(chat_id, now)
        over_all = self._global_window is not None and not self._global_window.allows(None, now)
        if over_chat or over_all:
            raise ApiError.too_many_requests(self.retry_after)
        if self._chat_window is not None:
            self._chat_window.record(chat_id, now)
        if self._global_window is not None:
            self._global_window.record(None, now)

    def touch(self) -> None:
        self.last_activity = time.monotonic()
