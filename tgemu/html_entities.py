"""Telegram's HTML parse mode, strictly: exactly the supported tags and entities.

A hand-written scanner rather than `html.parser`, because the standard parser forgives
what Telegram refuses (unknown tags, a bare "<", unclosed or crossed tags). Error
messages follow Telegram's ("Unsupported start tag "script" at byte offset 0", ...).

One rule is stricter than Telegram's server: a "&" that does not start one of the
supported entities (&lt; &gt; &amp; &quot; &#NN; &#xNN;) is refused, as the Bot API
documentation requires, where the server would quietly keep it. Attributes Telegram
ignores (an `a` tag's `title`, ...) are ignored here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tgemu.entities import EntityParseError, FormattedText, TextBuilder, byte_offset

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
SUPPORTED_TAGS = frozenset(
    {*_SIMPLE_TAGS, "span", "a", "code", "pre", "blockquote", "tg-emoji", "tg-time"}
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z]{1,8}));")
_DATE_TIME_FORMAT = re.compile(r"r|w?[dD]?[tT]?")


@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the shown text where the tag's content begins
    attributes: dict[str, str] = field(default_factory=dict)
    language: str | None = None  # set on a <pre> by its inner <code class="language-x">


def parse_html(source: str) -> FormattedText:
    """Parse `source` as Telegram's HTML; raise `EntityParseError` where Telegram would."""
    out = TextBuilder()
    stack: list[_OpenTag] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "&":
            decoded, index = _decode_entity(source, index)
            out.emit(decoded)
        elif char != "<":
            stop = _next_special(source, index)
            out.emit(source[index:stop])
            index = stop
        elif source.startswith("</", index):
            index = _close_tag(source, index, stack, out)
        else:
            index = _open_tag(source, index, stack, out)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.build()


def _next_special(source: str, index: int) -> int:
    found = [pos for pos in (source.find("&", index), source.find("<", index)) if pos != -1]
    return min(found) if found else len(source)


def _decode_entity(source: str, index: int) -> tuple[str, int]:
    """The character an entity at `source[index]` stands for, and the index after it."""
    match = _ENTITY.match(source, index)
    if match:
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            if name in _NAMED_ENTITIES:
                return _NAMED_ENTITIES[name], match.end()
        else:
            code = int(decimal) if decimal is not None else int(hexadecimal, 16)
            if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code), match.end()
    raise EntityParseError(
        f'Unsupported HTML entity or unescaped "&" at byte offset {byte_offset(source, index)}'
        ' (write "&amp;" for a literal "&")'
    )


def _skip_spaces(source: str, index: int) -> int:
    while index < len(source) and source[index].isspace():
        index += 1
    return index


def _open_tag(source: str, start: int, stack: list[_OpenTag], out: TextBuilder) -> int:
    """Read a start tag at `source[start]` ("<"), push it, return the index after ">"."""
    at = byte_offset(source, start)
    index = start + 1
    while index < len(source) and not source[index].isspace() and source[index] != ">":
        index += 1
    name = source[start + 1 : index].lower()
    if name not in SUPPORTED_TAGS:
        raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {at}')
    attributes: dict[str, str] = {}
    while True:
        index = _skip_spaces(source, index)
        if index >= len(source):
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        if source[index] == ">":
            index += 1
            break
        name_end = index
        while (
            name_end < len(source)
            and not source[name_end].isspace()
            and source[name_end] not in "=>"
        ):
            name_end += 1
        attribute = source[index:name_end].lower()
        if not attribute:
            raise EntityParseError(
                f'Empty attribute name in the tag "{name}" at byte offset '
                f"{byte_offset(source, index)}"
            )
        index = _skip_spaces(source, name_end)
        if index < len(source) and source[index] == "=":
            value, index = _attribute_value(source, _skip_spaces(source, index + 1), at)
        elif name == "blockquote" and attribute == "expandable":
            value = ""
        else:
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{name}" at '
                f"byte offset {byte_offset(source, index)}"
            )
        attributes[attribute] = value
    stack.append(_checked_tag(name, attributes, out.offset, at))
    return index


def _attribute_value(source: str, index: int, tag_at: int) -> tuple[str, int]:
    """An attribute value (quoted or not), entities decoded; and the index after it."""
    if index >= len(source):
        raise EntityParseError(f"Unclosed start tag at byte offset {tag_at}")
    if source[index] in "'\"":
        end = source.find(source[index], index + 1)
        if end == -1:
            raise EntityParseError(f"Unclosed start tag at byte offset {tag_at}")
        raw, after = source[index + 1 : end], end + 1
    else:
        end = index
        while end < len(source) and not source[end].isspace() and source[end] != ">":
            end += 1
        raw, after = source[index:end], end
    decoded: list[str] = []
    position = 0
    while position < len(raw):
        if raw[position] == "&":
            char, position = _decode_entity(raw, position)
            decoded.append(char)
        else:
            decoded.append(raw[position])
            position += 1
    return "".join(decoded), after


def _checked_tag(name: str, attributes: dict[str, str], start: int, at: int) -> _OpenTag:
    """Apply the per-tag attribute rules Telegram enforces."""
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
        raise EntityParseError(
            f'Tag "tg-emoji" must have a numeric attribute "emoji-id" at byte offset {at}'
        )
    if name == "tg-time":
        if not re.fullmatch(r"-?[0-9]+", attributes.get("unix", "")):
            raise EntityParseError(
                f'Tag "tg-time" must have an integer attribute "unix" at byte offset {at}'
            )
        if not _DATE_TIME_FORMAT.fullmatch(attributes.get("format", "")):
            raise EntityParseError(f"Invalid date and time format at byte offset {at}")
    return _OpenTag(name, start, attributes)


def _close_tag(source: str, start: int, stack: list[_OpenTag], out: TextBuilder) -> int:
    """Read an end tag at `source[start]` ("</"), emit its entity, return the index after it."""
    at = byte_offset(source, start)
    end = source.find(">", start)
    if end == -1:
        raise EntityParseError(f"Unclosed end tag at byte offset {at}")
    name = source[start + 2 : end].strip().lower()
    if not stack:
        raise EntityParseError(f'Unexpected end tag "</{name}>" at byte offset {at}')
    tag = stack.pop()
    if name != tag.name:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {at}, expected "</{tag.name}>", found "</{name}>"'
        )
    _emit_entity(tag, stack, out)
    return end + 1


def _emit_entity(tag: _OpenTag, stack: list[_OpenTag], out: TextBuilder) -> None:
    attributes = tag.attributes
    if tag.name in _SIMPLE_TAGS:
        out.add_entity(_SIMPLE_TAGS[tag.name], tag.start)
    elif tag.name == "span":
        out.add_entity("spoiler", tag.start)
    elif tag.name == "a":
        if attributes.get("href"):
            out.add_entity("text_link", tag.start, url=attributes["href"])
    elif tag.name == "code":
        language = attributes.get("class", "").removeprefix("language-") or None
        if stack and stack[-1].name == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            stack[-1].language = stack[-1].language or language
        else:
            out.add_entity("code", tag.start)
    elif tag.name == "pre":
        out.add_entity("pre", tag.start, language=tag.language)
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
        out.add_entity(kind, tag.start)
    elif tag.name == "tg-emoji":
        out.add_entity("custom_emoji", tag.start, custom_emoji_id=attributes["emoji-id"])
    elif tag.name == "tg-time":
        out.add_entity(
            "date_time",
            tag.start,
            unix_time=int(attributes["unix"]),
            date_time_format=attributes.get("format") or None,
        )
