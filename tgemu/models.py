"""What tests read back from the emulator: recorded calls, messages as the user sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (a photo or document sent as bytes)."""

    part: str  # the multipart part's name
    filename: str | None
    content_type: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"UploadedFile({self.part!r}, {self.filename!r}, {len(self.data)} bytes)"


@dataclass
class ApiCall:
    """One request the bot made, as decoded and judged by the emulator."""

    method: str
    params: dict[str, Any]
    ok: bool
    error: str | None = None  # the error description, when refused
    error_code: int | None = None
    result: Any = None
    at: float = 0.0  # time.monotonic() when it was answered (or given up on)
    # Held unanswered by `BotApiEmulator.time_out`: failed, but not refused by Telegram.
    timed_out: bool = False

    def __str__(self) -> str:
        if self.timed_out:
            outcome = f"timed out: {self.error}"
        else:
            outcome = "ok" if self.ok else f"{self.error_code} {self.error}"
        return f"{self.method}({self.params!r}) -> {outcome}"


Buttons = list[list[tuple[str, str | None]]]


@dataclass(frozen=True)
class SentMessage:
    """A bot message in a private chat, as the user sees it at one moment.

    Instances are snapshots: an edit puts a new `SentMessage` at the same position in
    `EmulatedUser.messages`, so a test can keep an old one to press a stale button, as an
    old client would.
    """

    message_id: int
    chat_id: int
    text: str | None  # what the user reads, after entity parsing (None for media)
    caption: str | None
    parse_mode: str | None
    html: str | None  # the text or caption exactly as sent, before entity parsing
    buttons: Buttons = field(default_factory=list)  # rows of (label, callback_data or url)
    kind: str = "text"  # "text" | "photo" | "document"
    file_bytes: bytes | None = field(default=None, repr=False)
    file_name: str | None = None
    edited: int = 0  # how many times the bot edited it
    entities: tuple[dict[str, Any], ...] = ()  # of the text, or of the caption
    reply_markup: dict[str, Any] | None = None  # the inline keyboard, as Telegram returns it
    date: int = 0
    edit_date: int | None = None
    media: Any = None  # the Telegram JSON of the photo sizes or the document

    @property
    def labels(self) -> list[str]:
        """Every inline button label, row by row."""
        return [label for row in self.buttons for label, _ in row]

    @property
    def shown(self) -> str:
        """The text, or the caption of a media message ("" when there is none)."""
        return self.text if self.text is not None else (self.caption or "")

    def to_telegram(self, bot: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
        """The Bot API `Message` object for this message (sent by `bot` in `chat`)."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": bot,
            "chat": chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.kind == "text":
            message["text"] = self.text
            if self.entities:
                message["entities"] = list(self.entities)
        else:
            message[self.kind] = self.media
            if self.caption is not None:
                message["caption"] = self.caption
                if self.entities:
                    message["caption_entities"] = list(self.entities)
        if self.reply_markup is not None:
            message["reply_markup"] = self.reply_markup
        return message
