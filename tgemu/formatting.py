"""Message texts and captions as Telegram receives them: parsed, trimmed, length-checked.

Lengths are counted in UTF-16 code units, the unit the Bot API uses for entity
offsets. For text without characters outside the Basic Multilingual Plane this is the
number of Python characters; an emoji outside it counts twice. This is the stricter
of the two readings of "4096 characters", so a text the emulator accepts is not
refused by Telegram for its length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tgemu.entities import EntityParseError, FormattedText, utf16_len
from tgemu.errors import ApiError
from tgemu.html_entities import parse_html
from tgemu.markdown import parse_markdown, parse_markdown_v2

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_PARSERS: dict[str, Callable[[str], FormattedText]] = {
    "html": parse_html,
    "markdownv2": parse_markdown_v2,
    "markdown": parse_markdown,
}


def parse_text(
    text: str, parse_mode: str | None, entities: Sequence[dict[str, Any]] | None = None
) -> FormattedText:
    """Apply `parse_mode` (case-insensitive, like Telegram) or take explicit `entities`."""
    if parse_mode:
        parser = _PARSERS.get(parse_mode.lower())
        if parser is None:
            raise ApiError.bad_request("unsupported parse_mode")
        try:
            parsed = parser(text)
        except EntityParseError as error:
            raise ApiError.bad_request(f"can't parse entities: {error}") from None
    else:
        parsed = FormattedText(text, tuple(entities or ()))
    return parsed.trimmed()


def message_text(
    text: str, parse_mode: str | None, entities: Sequence[dict[str, Any]] | None = None
) -> FormattedText:
    """A message text: 1-4096 characters after entity parsing."""
    parsed = parse_text(text, parse_mode, entities)
    if not parsed.text:
        raise ApiError.bad_request("message text is empty")
    if utf16_len(parsed.text) > MAX_TEXT_LENGTH:
        raise ApiError.bad_request("message is too long")
    return parsed


def caption_text(
    caption: str | None, parse_mode: str | None, entities: Sequence[dict[str, Any]] | None = None
) -> FormattedText | None:
    """A media caption: 0-1024 characters after entity parsing; None when absent or empty."""
    if caption is None:
        return None
    parsed = parse_text(caption, parse_mode, entities)
    if utf16_len(parsed.text) > MAX_CAPTION_LENGTH:
        raise ApiError.bad_request("message caption is too long")
    return parsed if parsed.text else None
