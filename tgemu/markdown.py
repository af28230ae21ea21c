"""Telegram's MarkdownV2 and legacy Markdown parse modes.

Modelled on the official client library's parser, with its error messages, so a
reserved character left unescaped ("Character '.' is reserved and must be escaped
with the preceding '\\'") is refused as it is by Telegram. Not emulated: expandable
block quotations ("**>" ... "||") in MarkdownV2, and the legacy mode's mentions.
"""

from __future__ import annotations

from dataclasses import dataclass

from tgemu.entities import EntityParseError, FormattedText, TextBuilder, byte_offset

_RESERVED_V2 = "_*[]()~`>#+-=|{}.!"
_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "code": "Code",
    "pre": "Pre",
}


@dataclass
class _Open:
    kind: str
    start: int  # UTF-16 offset in the shown text
    at: int  # byte offset in the source, for error messages
    language: str | None = None
    first_part: int = 0  # index in the builder's parts where the content begins


def _is_escape(source: str, index: int) -> bool:
    return source[index] == "\\" and index + 1 < len(source) and 0 < ord(source[index + 1]) <= 126


def _ends(kind: str, source: str, index: int) -> bool:
    """Whether the character at `index` closes the innermost open entity of `kind`."""
    char, following = source[index], source[index + 1 : index + 2]
    return {
        "bold": char == "*",
        "italic": char == "_" and following != "_",
        "underline": char == "_" and following == "_",
        "strikethrough": char == "~",
        "spoiler": char == "|" and following == "|",
        "text_link": char == "]",
        "custom_emoji": char == "]",
        "code": char == "`",
        "pre": source.startswith("```", index),
    }[kind]


def parse_markdown_v2(source: str) -> FormattedText:
    """Parse `source` as MarkdownV2; raise `EntityParseError` where Telegram would."""
    out = TextBuilder()
    stack: list[_Open] = []
    quote_start: int | None = None
    index = 0
    while index < len(source):
        char = source[index]
        if _is_escape(source, index):
            out.emit(source[index + 1])
            index += 2
            continue
        in_code = bool(stack) and stack[-1].kind in ("code", "pre")
        if not in_code and char == ">" and (index == 0 or source[index - 1] == "\n"):
            if quote_start is None:
                quote_start = out.offset
            index += 1
            continue
        if char == "\n" and quote_start is not None and not source.startswith(">", index + 1):
            out.add_entity("blockquote", quote_start)
            quote_start = None
        if char not in ("`" if in_code else _RESERVED_V2):
            out.emit(char)
            index += 1
            continue
        if stack and _ends(stack[-1].kind, source, index):
            index = _close_v2(source, index, stack.pop(), out)
        else:
            index = _open_v2(source, index, stack, out)
    if quote_start is not None:
        out.add_entity("blockquote", quote_start)
    if stack:
        name = _ENTITY_NAMES[stack[-1].kind]
        raise EntityParseError(f"Can't find end of {name} entity at byte offset {stack[-1].at}")
    return out.build()


def _open_v2(source: str, index: int, stack: list[_Open], out: TextBuilder) -> int:
    """Open the entity starting at `source[index]`; return the index after its marker."""
    char, following = source[index], source[index + 1 : index + 2]
    at = byte_offset(source, index)
    if char == "_":
        kind, width = ("underline", 2) if following == "_" else ("italic", 1)
    elif char in "*~[":
        kind, width = {"*": "bold", "~": "strikethrough", "[": "text_link"}[char], 1
    elif char == "|" and following == "|":
        kind, width = "spoiler", 2
    elif char == "!" and following == "[":
        kind, width = "custom_emoji", 2
    elif char == "`" and source.startswith("```", index):
        return _open_pre(source, index, stack, out)
    elif char == "`":
        kind, width = "code", 1
    else:
        raise EntityParseError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )
    stack.append(_Open(kind, out.offset, at, first_part=len(out.parts)))
    return index + width


def _open_pre(source: str, index: int, stack: list[_Open], out: TextBuilder) -> int:
    at = byte_offset(source, index)
    index += 3
    language_end = index
    while (
        language_end < len(source)
        and not source[language_end].isspace()
        and source[language_end] != "`"
    ):
        language_end += 1
    language = None
    if language_end != index and language_end < len(source) and source[language_end] != "`":
        language, index = source[index:language_end], language_end
    if source.startswith(("\r\n", "\n\r"), index):
        index += 2
    elif source.startswith(("\n", "\r"), index):
        index += 1
    stack.append(_Open("pre", out.offset, at, language))
    return index


def _close_v2(source: str, index: int, entity: _Open, out: TextBuilder) -> int:
    """Close `entity` at `source[index]`; return the index after its end marker."""
    if entity.kind == "pre":
        out.add_entity("pre", entity.start, language=entity.language)
        return index + 3
    if entity.kind in ("underline", "spoiler"):
        out.add_entity(entity.kind, entity.start)
        return index + 2
    if entity.kind not in ("text_link", "custom_emoji"):
        out.add_entity(entity.kind, entity.start)
        return index + 1
    index += 1  # past "]"
    if not source.startswith("(", index):
        if entity.kind == "custom_emoji":
            raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
        # Without "(url)", Telegram takes the link's own text as its URL.
        shown = "".join(out.parts[entity.first_part :])
        if shown:
            out.add_entity("text_link", entity.start, url=shown)
        return index
    url_start = index + 1
    url: list[str] = []
    index = url_start
    while index < len(source) and source[index] != ")":
        if _is_escape(source, index):
            url.append(source[index + 1])
            index += 2
        else:
            url.append(source[index])
            index += 1
    if index >= len(source):
        raise EntityParseError(
            f"Can't find end of a URL at byte offset {byte_offset(source, url_start)}"
        )
    target = "".join(url)
    if entity.kind == "custom_emoji":
        emoji_id = target.removeprefix("tg://emoji?id=")
        if emoji_id == target or not emoji_id.isdigit():
            raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
        out.add_entity("custom_emoji", entity.start, custom_emoji_id=emoji_id)
    elif target:
        out.add_entity("text_link", entity.start, url=target)
    return index + 1


def parse_markdown(source: str) -> FormattedText:
    """Parse `source` as the legacy Markdown mode (no nesting, fewer escapes)."""
    out = TextBuilder()
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and source[index + 1 : index + 2] in ("_", "*", "`", "["):
            out.emit(source[index + 1])
            index += 2
            continue
        if char not in "_*`[":
            out.emit(char)
            index += 1
            continue
        begin = index
        index += 1
        language = None
        end_marker = "]" if char == "[" else char
        if source.startswith("``", index) and char == "`":
            end_marker, index = "```", index + 2
            language_end = index
            while language_end < len(source) and not source[language_end].isspace():
                language_end += 1
            if language_end != index and "`" not in source[index:language_end]:
                language, index = source[index:language_end], language_end
            if source.startswith("\n", index):
                index += 1
        end = source.find(end_marker, index)
        if end == -1:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {byte_offset(source, begin)}"
            )
        start = out.offset
        out.emit(source[index:end])
        index = end + len(end_marker)
        if char == "[":
            if source.startswith("(", index):
                close = source.find(")", index)
                if close == -1:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {byte_offset(source, index + 1)}"
                    )
                url = source[index + 1 : close]
                index = close + 1
                if url:
                    out.add_entity("text_link", start, url=url)
        elif end_marker == "```":
            out.add_entity("pre", start, language=language)
        else:
            out.add_entity({"*": "bold", "_": "italic", "`": "code"}[char], start)
    return out.build()
