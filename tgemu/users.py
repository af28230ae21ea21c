"""Emulated people: they write to the bot, press its buttons, and read its replies.

Each user has a private chat with the bot (chat id == user id). What they do becomes a
realistic update in the emulator's queue; what the bot sends them is kept in
`messages`, edits applied and deletions removed, as the chat looks on their phone.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from tgemu.entities import utf16_len
from tgemu.models import SentMessage

if TYPE_CHECKING:
    from tgemu.state import EmulatorState

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")

# Smallest well-formed files, so a bot that downloads what users send gets real bytes.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f0005000201a0c0b5e20000000049454e44ae426082"
)
TINY_OGG = b"OggS\x00\x02" + bytes(20) + b"\x01\x13OpusHead\x01\x01"
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TINY_WEBP = bytes.fromhex("524946461a000000574542505650384c0d0000002f00000010071011118888fe0700")


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entities Telegram detects in a user's text ("/start payload")."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _COMMAND.finditer(text)
    ]


class EmulatedUser:
    """A Telegram user in a private chat with the bot."""

    def __init__(
        self,
        state: EmulatorState,
        user_id: int,
        *,
        first_name: str,
        language_code: str | None,
        username: str | None,
        last_name: str | None = None,
    ) -> None:
        self._state = state
        self.id = user_id
        self.chat_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self.username = username
        self.messages: list[SentMessage] = []  # the bot's messages, as currently shown
        self.callback_answers: list[dict[str, Any]] = []  # accepted answerCallbackQuery calls
        self.chat_actions: list[str] = []  # sendChatAction actions ("typing", ...)
        self.reply_keyboard: list[list[str]] | None = None  # a shown ReplyKeyboardMarkup
        self.sent: list[dict[str, Any]] = []  # the user's own messages, as Message objects
        self.chat_instance = str(7_000_000_000_000_000_000 + user_id)
        self._arrival = asyncio.Event()
        self.changes = 0  # bot messages arrived or edited: what a benchmark waits on

    def __repr__(self) -> str:
        return f"EmulatedUser({self.id}, {self.first_name!r}, {self.language_code!r})"

    # Reading the chat.

    @property
    def last(self) -> SentMessage:
        """The bot's newest message in this chat."""
        if not self.messages:
            raise LookupError(f"the bot has sent nothing to user {self.id} yet")
        return self.messages[-1]

    def texts(self) -> list[str]:
        """The text (or caption) of each bot message, in order."""
        return [message.shown for message in self.messages]

    @property
    def blocked(self) -> bool:
        return self.id in self._state.blocked

    def bot_message(self, message_id: int) -> SentMessage | None:
        return next((m for m in self.messages if m.message_id == message_id), None)

    async def wait_for_messages(self, count: int) -> SentMessage:
        """Wait until the chat holds at least `count` bot messages; return the newest.
        (Benchmarks use it to time one reply without waiting for the whole bot.)"""
        while len(self.messages) < count:
            self._arrival.clear()
            await self._arrival.wait()
        return self.messages[-1]

    async def wait_for_change(self, since: int) -> None:
        """Wait until a bot message arrived or was edited after `changes` was `since`: the
        next question comes either way (sent, or edited into the pressed one)."""
        while self.changes <= since:
            self._arrival.clear()
            await self._arrival.wait()

    # Kept up to date by the method handlers.

    def add_bot_message(self, message: SentMessage) -> None:
        """A new bot message reaches the chat."""
        self.messages.append(message)
        self.changes += 1
        self._arrival.set()

    def replace_bot_message(self, message: SentMessage) -> None:
        """Put an edited version in place of the message with the same id."""
        for index, current in enumerate(self.messages):
            if current.message_id == message.message_id:
                self.messages[index] = message
                self.changes += 1
                self._arrival.set()
                return
        raise LookupError(f"no message {message.message_id} in chat {self.id}")

    def remove_bot_message(self, message_id: int) -> bool:
        before = len(self.messages)
        self.messages = [m for m in self.messages if m.message_id != message_id]
        return len(self.messages) != before

    def has_message(self, message_id: int) -> bool:
        """Whether the chat holds this message, from the bot or from the user."""
        return self.bot_message(message_id) is not None or any(
            m["message_id"] == message_id for m in self.sent
        )

    # The Bot API objects for this user.

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # Acting. These are coroutines for symmetry with the rest of an async test; they
    # queue an update and return its update_id without waiting for the bot.

    async def send(self, text: str) -> int:
        """Send a text message; a leading "/command" gets its bot_command entity."""
        if not text.strip():
            raise ValueError("Telegram clients do not send empty messages")
        if utf16_len(text) > 4096:
            raise ValueError("Telegram clients split texts longer than 4096 characters")
        fields: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            fields["entities"] = entities
        return self._send_message(fields)

    async def send_sticker(self, emoji: str = "👍") -> int:
        stored = self._state.store_file(TINY_WEBP, kind="sticker", mime_type="image/webp")
        sticker = {
            **self._file_ids(stored.file_id, stored.file_unique_id),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(TINY_WEBP),
        }
        return self._send_message({"sticker": sticker})

    async def send_photo(self, data: bytes = TINY_PNG, *, caption: str | None = None) -> int:
        sizes = []
        for width, height in ((90, 90), (800, 800)):
            stored = self._state.store_file(data, kind="photo", mime_type="image/png")
            sizes.append(
                {
                    **self._file_ids(stored.file_id, stored.file_unique_id),
                    "width": width,
                    "height": height,
                    "file_size": len(data),
                }
            )
        return self._send_message(self._with_caption({"photo": sizes}, caption))

    async def send_voice(self, duration: int = 3) -> int:
        stored = self._state.store_file(TINY_OGG, kind="voice", mime_type="audio/ogg")
        voice = {
            **self._file_ids(stored.file_id, stored.file_unique_id),
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(TINY_OGG),
        }
        return self._send_message({"voice": voice})

    async def send_document(
        self,
        data: bytes = TINY_PDF,
        *,
        file_name: str = "notes.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> int:
        stored = self._state.store_file(
            data, kind="document", file_name=file_name, mime_type=mime_type
        )
        document = {
            **self._file_ids(stored.file_id, stored.file_unique_id),
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        return self._send_message(self._with_caption({"document": document}, caption))

    async def send_location(self, latitude: float = 48.8566, longitude: float = 2.3522) -> int:
        return self._send_message({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_contact(self, phone_number: str = "+33100000000") -> int:
        contact = {"phone_number": phone_number, "first_name": self.first_name, "user_id": self.id}
        return self._send_message({"contact": contact})

    async def edit_last_text(self, new_text: str) -> int:
        """Edit the user's newest text message; the bot gets an edited_message update."""
        for index in range(len(self.sent) - 1, -1, -1):
            original = self.sent[index]
            if "text" in original:
                edited = {k: v for k, v in original.items() if k != "entities"}
                edited.update(text=new_text, edit_date=int(time.time()))
                entities = command_entities(new_text)
                if entities:
                    edited["entities"] = entities
                self.sent[index] = edited
                return self._state.push_update({"edited_message": edited})
        raise LookupError(f"user {self.id} has sent no text message to edit")

    async def press(self, label: str, *, message: SentMessage | None = None) -> int:
        """Press the inline button labelled `label` (exactly, or else containing it).

        Looks on `message` (a snapshot: pressing a button an old client still shows), or
        by default on the newest bot message whose keyboard has such a button.
        """
        candidates = [message] if message is not None else list(reversed(self.messages))
        for candidate in candidates:
            button = _find_button(candidate, label)
            if button is not None:
                if "callback_data" not in button:
                    kind = next(k for k in button if k not in ("text", "style"))
                    raise LookupError(f"button {button['text']!r} is a {kind} button, not data")
                return self._callback(candidate, button["callback_data"])
        raise LookupError(
            f"no inline button {label!r} in chat {self.id}; available: {self._labels(message)}"
        )

    async def press_data(self, callback_data: str, *, message: SentMessage | None = None) -> int:
        """Send a callback query with arbitrary data, as a forged or stale client could."""
        if message is None:
            keyboards = [m for m in self.messages if m.buttons] or self.messages
            message = keyboards[-1] if keyboards else None
        return self._callback(message, callback_data)

    # Helpers.

    def _send_message(self, fields: dict[str, Any]) -> int:
        message: dict[str, Any] = {
            "message_id": self._state.next_message_id(self.id),
            "from": self.as_user(),
            "chat": self.as_chat(),
            "date": int(time.time()),
            **fields,
        }
        self.sent.append(message)
        self._state.known_chats.add(self.id)
        return self._state.push_update({"message": message})

    def _callback(self, message: SentMessage | None, data: str) -> int:
        query: dict[str, Any] = {
            "id": self._state.new_callback_query(self.id),
            "from": self.as_user(),
            "chat_instance": self.chat_instance,
            "data": data,
        }
        if message is not None:
            # Telegram sends the message as it is now; a deleted one as the client had it.
            current = self.bot_message(message.message_id) or message
            query["message"] = current.to_telegram(self._state.bot_user(), self.as_chat())
        return self._state.push_update({"callback_query": query})

    def _labels(self, message: SentMessage | None) -> list[str]:
        if message is not None:
            return message.labels
        keyboards = [m for m in self.messages if m.buttons]
        return keyboards[-1].labels if keyboards else []

    @staticmethod
    def _file_ids(file_id: str, file_unique_id: str) -> dict[str, str]:
        return {"file_id": file_id, "file_unique_id": file_unique_id}

    @staticmethod
    def _with_caption(fields: dict[str, Any], caption: str | None) -> dict[str, Any]:
        if caption:
            fields["caption"] = caption
        return fields


def _find_button(message: SentMessage, label: str) -> dict[str, Any] | None:
    """The button labelled exactly `label`, else the only one containing it."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    buttons = [button for row in rows for button in row]
    exact = [b for b in buttons if b["text"] == label]
    if exact:
        return exact[0]
    partial = [b for b in buttons if label in b["text"]]
    if len(partial) > 1:
        labels = [b["text"] for b in partial]
        raise LookupError(f"{label!r} is ambiguous on message {message.message_id}: {labels}")
    return partial[0] if partial else None
