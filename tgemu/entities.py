"""Formatted text as Telegram stores it: plain text plus entities with UTF-16 offsets.

The parsers for HTML and Markdown build on `TextBuilder`, so every parse mode produces
the same shape: what the user sees (`FormattedText.text`) and the `MessageEntity`
dictionaries a client would render, with offsets and lengths in UTF-16 code units as
in the Bot API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Telegram trims these from both ends of a message text or caption.
_TRIMMED = " \t\n\r\x0b\x0c"


class EntityParseError(ValueError):
    """The text does not parse in its parse mode; the message mirrors Telegram's."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and length limits."""
    return len(text.encode("utf-16-le")) // 2


def byte_offset(source: str, index: int) -> int:
    """UTF-8 byte offset of `source[index]`, the unit of Telegram's parse error positions."""
    return len(source[:index].encode("utf-8"))


@dataclass(frozen=True)
class FormattedText:
    """A message text after entity parsing: what is shown, and how it is decorated."""

    text: str
    entities: tuple[dict[str, Any], ...] = ()

    def trimmed(self) -> FormattedText:
        """Strip leading and trailing whitespace and clip entities, as Telegram does."""
        stripped = self.text.strip(_TRIMMED)
        if stripped == self.text:
            return self
        if not stripped:
            return FormattedText("")
        head = utf16_len(self.text[: len(self.text) - len(self.text.lstrip(_TRIMMED))])
        size = utf16_len(stripped)
        clipped: list[dict[str, Any]] = []
        for entity in self.entities:
            start = max(entity["offset"] - head, 0)
            end = min(entity["offset"] + entity["length"] - head, size)
            if end > start:
                clipped.append({**entity, "offset": start, "length": end - start})
        return FormattedText(stripped, tuple(clipped))


@dataclass
class TextBuilder:
    """Accumulates shown text and entities while a parser walks its source."""

    parts: list[str] = field(default_factory=list)
    offset: int = 0  # current position in UTF-16 code units
    entities: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.offset += utf16_len(text)

    def add_entity(self, kind: str, start: int, **extra: Any) -> None:
        """Record an entity from `start` to the current offset; empty ones are dropped."""
        if self.offset > start:
            entity: dict[str, Any] = {"type": kind, "offset": start, "length": self.offset - start}
            entity.update({key: value for key, value in extra.items() if value is not None})
            self.entities.append(entity)

    def build(self) -> FormattedText:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return FormattedText("".join(self.parts), tuple(ordered))
