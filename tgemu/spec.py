"""Every call checked against the Bot API's machine-readable description (api.json).

`ApiSpec.decode` turns the request's raw parameters (strings from a form, values from
a JSON body, uploaded file parts) into typed Python values, refusing what Telegram
would refuse: an unknown parameter, a missing required one, a value of the wrong type,
or a JSON object whose structure does not match its type (unknown fields included).
A few rules that the description states only in prose (a button has exactly one
action, callback data is 1-64 bytes, ...) are added in `_RULES`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tgemu.errors import ApiError
from tgemu.models import UploadedFile

_ARRAY = "Array of "
_SCALARS = frozenset({"Integer", "Float", "Boolean", "True", "String", "InputFile"})
_INTEGER = re.compile(r"-?[0-9]+")
_DISCRIMINATOR = re.compile(r'(?:must be|always) "?([A-Za-z_]+)"?')
_ATTACH = "attach://"


@dataclass(frozen=True)
class Field:
    """One parameter of a method, or one field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str


class _Mismatch(Exception):
    """A value does not have one candidate type; the message says where and why."""


class ApiSpec:
    """The Bot API's methods and types, and the checks derived from them."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data.get("version", "")
        self.methods: dict[str, dict[str, Field]] = {
            name: _fields(method.get("fields", [])) for name, method in data["methods"].items()
        }
        self.types: dict[str, Mapping[str, Any]] = data["types"]
        self.type_fields = {
            name: _fields(spec.get("fields", [])) for name, spec in self.types.items()
        }
        self.discriminators = {
            name: found for name in self.types if (found := self._discriminator(name)) is not None
        }

    def _discriminator(self, type_name: str) -> tuple[str, str] | None:
        """For a subtype such as BotCommandScopeChat, its tag: ("type", "chat")."""
        for field in self.type_fields[type_name].values():
            if field.name in ("type", "status", "source") and field.required:
                match = _DISCRIMINATOR.search(field.description)
                if match:
                    return field.name, match.group(1)
        return None

    def update_types(self) -> frozenset[str]:
        """The update kinds a bot can list in `allowed_updates`."""
        return frozenset(self.type_fields["Update"]) - {"update_id"}

    def decode(
        self,
        method: str,
        raw: Mapping[str, Any],
        uploads: Mapping[str, UploadedFile],
        into: dict[str, Any],
    ) -> dict[str, Any]:
        """Check and type every parameter of a call to `method`, filling `into` as it goes.

        `into` keeps what was decoded before an error, so a refused call is recorded
        with as much typed detail as possible.
        """
        fields = self.methods[method]
        for name in raw:
            if name not in fields:
                raise ApiError.bad_request(f"unknown parameter {name}")
        decoder = _Decoder(self, uploads)
        for field in fields.values():
            value = raw.get(field.name)
            if value is None and field.name in uploads:
                value = uploads[field.name]
            if value is None:
                if field.required:
                    detail = "message text is empty" if field.name == "text" else None
                    raise ApiError.bad_request(detail or f'parameter "{field.name}" is required')
                continue
            into[field.name] = decoder.parameter(field, value)
        for name in uploads:
            if name not in decoder.used:
                raise ApiError.bad_request(f"unknown parameter {name}")
        return into


class _Decoder:
    """Decodes the parameters of one call, keeping track of the file parts it used."""

    def __init__(self, spec: ApiSpec, uploads: Mapping[str, UploadedFile]) -> None:
        self.spec = spec
        self.uploads = uploads
        self.used: set[str] = set()

    def parameter(self, field: Field, value: Any) -> Any:
        """A top-level parameter: form strings are parsed, then checked like JSON values."""
        if isinstance(value, UploadedFile):
            if "InputFile" not in field.types:
                raise ApiError.bad_request(f'parameter "{field.name}" can\'t be a file')
            self.used.add(value.part)
            return value
        mismatches: list[tuple[str, _Mismatch]] = []
        for type_name in field.types:
            try:
                return self._top_level(field.name, type_name, value)
            except _Mismatch as mismatch:
                mismatches.append((type_name, mismatch))
        raise ApiError.bad_request(self._best_mismatch(field.name, value, mismatches))

    def _top_level(self, name: str, type_name: str, value: Any) -> Any:
        if isinstance(value, str) and type_name in _SCALARS:
            return self._from_string(name, type_name, value)
        if isinstance(value, str):  # an object or array, JSON-serialised
            try:
                value = json.loads(value)
            except ValueError:
                what = "reply keyboard markup" if name == "reply_markup" else name
                raise _Mismatch(f"can't parse {what} JSON object") from None
        self.check(value, type_name, name)
        return value

    def _from_string(self, name: str, type_name: str, value: str) -> Any:
        if type_name == "Integer" and _INTEGER.fullmatch(value):
            return int(value)
        if type_name == "Float":
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                return number
        if type_name in ("Boolean", "True") and value in ("true", "false"):
            if type_name == "True" and value != "true":
                raise _Mismatch(f'parameter "{name}" can only be true')
            return value == "true"
        if type_name == "String":
            return value
        if type_name == "InputFile" and value.startswith(_ATTACH):
            return self._attachment(value)
        raise _Mismatch(f'parameter "{name}" must be of type {type_name}, got {value!r}')

    def _attachment(self, reference: str) -> UploadedFile:
        part = reference.removeprefix(_ATTACH)
        if part not in self.uploads:
            raise ApiError.bad_request(f'can\'t find the attached file "{part}"')
        self.used.add(part)
        return self.uploads[part]

    def _best_mismatch(self, path: str, value: Any, mismatches: list[tuple[str, _Mismatch]]) -> str:
        """The error worth showing when a value matches none of its candidate types."""
        messages = {str(mismatch) for _, mismatch in mismatches}
        if len(messages) == 1:
            return messages.pop()
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if isinstance(value, dict):
            objects = [(t, m) for t, m in mismatches if t in self.spec.type_fields]
            if objects:
                keys = set(value)

                def overlap(item: tuple[str, _Mismatch]) -> int:
                    return len(keys & set(self.spec.type_fields[item[0]]))

                return str(max(objects, key=overlap)[1])
        names = " or ".join(t for t, _ in mismatches)
        return f'parameter "{path}" must be of type {names}'

    def check(self, value: Any, type_name: str, path: str) -> None:
        """Check a decoded JSON value against a type expression such as "Array of X"."""
        if type_name.startswith(_ARRAY):
            if not isinstance(value, list):
                raise _Mismatch(f"{path} must be an Array")
            for index, item in enumerate(value):
                self.check(item, type_name.removeprefix(_ARRAY), f"{path}[{index}]")
            return
        if type_name in _SCALARS:
            self._check_scalar(value, type_name, path)
            return
        if not isinstance(value, dict):
            raise _Mismatch(f"{path} must be a JSON object ({type_name})")
        spec = self.spec.types[type_name]
        if "subtypes" in spec:
            self._check_subtypes(value, type_name, spec["subtypes"], path)
            return
        fields = self.spec.type_fields[type_name]
        for key in value:
            if key not in fields:
                raise _Mismatch(f'{path}: unknown field "{key}" in {type_name}')
        tag = self.spec.discriminators.get(type_name)
        if tag is not None and value.get(tag[0]) != tag[1]:
            raise _Mismatch(f'{path}: {type_name} must have {tag[0]} "{tag[1]}"')
        for field in fields.values():
            if value.get(field.name) is None:
                if field.required:
                    raise _Mismatch(f'{path}: field "{field.name}" of {type_name} is required')
                continue
            self._check_union(value[field.name], field.types, f"{path}.{field.name}")
        rule = _RULES.get(type_name)
        if rule is not None:
            rule(value, path)

    def _check_scalar(self, value: Any, type_name: str, path: str) -> None:
        valid = {
            "Integer": isinstance(value, int) and not isinstance(value, bool),
            "Float": isinstance(value, int | float) and not isinstance(value, bool),
            "Boolean": isinstance(value, bool),
            "True": value is True,
            "String": isinstance(value, str),
            "InputFile": isinstance(value, str),
        }[type_name]
        if not valid:
            raise _Mismatch(f"{path} must be of type {type_name}")
        if type_name == "InputFile" and value.startswith(_ATTACH):
            self._attachment(value)

    def _check_subtypes(
        self, value: dict[str, Any], type_name: str, subtypes: list[str], path: str
    ) -> None:
        candidates = [
            subtype
            for subtype in subtypes
            if (tag := self.spec.discriminators.get(subtype)) is None or value.get(tag[0]) == tag[1]
        ]
        if not candidates:
            tags = sorted({tag[1] for s in subtypes if (tag := self.spec.discriminators.get(s))})
            raise _Mismatch(f"{path}: unsupported {type_name}; expected one of {', '.join(tags)}")
        first: _Mismatch | None = None
        for subtype in candidates:
            try:
                self.check(value, subtype, path)
                return
            except _Mismatch as mismatch:
                first = first or mismatch
        assert first is not None
        raise first

    def _check_union(self, value: Any, types: tuple[str, ...], path: str) -> None:
        mismatches: list[tuple[str, _Mismatch]] = []
        for type_name in types:
            try:
                self.check(value, type_name, path)
                return
            except _Mismatch as mismatch:
                mismatches.append((type_name, mismatch))
        raise _Mismatch(self._best_mismatch(path, value, mismatches))


def _fields(raw: list[Mapping[str, Any]]) -> dict[str, Field]:
    return {
        f["name"]: Field(f["name"], tuple(f["types"]), bool(f["required"]), f["description"])
        for f in raw
    }


# Rules the description states in prose; they run once a value has the right shape.

_BUTTON_PRESENTATION = frozenset({"text", "icon_custom_emoji_id", "style"})
_BUTTON_STYLES = frozenset({"danger", "success", "primary"})
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def _inline_button(button: dict[str, Any], path: str) -> None:
    if not button["text"].strip():
        raise ApiError.bad_request(f"inline keyboard button text must be non-empty ({path})")
    actions = [key for key in button if key not in _BUTTON_PRESENTATION]
    if not actions:
        raise ApiError.bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise ApiError.bad_request(
            f"can't parse inline keyboard button: exactly one of {', '.join(actions)} "
            f"must be used ({path})"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
        raise ApiError.bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not url.startswith(("http://", "https://", "tg://")):
        raise ApiError.bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    if button.get("style") is not None and button["style"] not in _BUTTON_STYLES:
        raise ApiError.bad_request(f"inline keyboard button style is invalid ({path})")


def _inline_keyboard(markup: dict[str, Any], path: str) -> None:
    count = sum(len(row) for row in markup["inline_keyboard"])
    if count > 100:
        raise ApiError.bad_request(f"too many inline keyboard buttons: {count} (at most 100)")


def _keyboard_button(button: dict[str, Any], path: str) -> None:
    if not button["text"].strip():
        raise ApiError.bad_request(f"keyboard button text must be non-empty ({path})")


def _bot_command(command: dict[str, Any], path: str) -> None:
    if not _COMMAND.fullmatch(command["command"]):
        raise ApiError.bad_request("BOT_COMMAND_INVALID")
    if not 1 <= len(command["description"].strip()) <= 256:
        raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


_RULES: dict[str, Callable[[dict[str, Any], str], None]] = {
    "InlineKeyboardButton": _inline_button,
    "InlineKeyboardMarkup": _inline_keyboard,
    "KeyboardButton": _keyboard_button,
    "BotCommand": _bot_command,
}


@functools.cache
def load_spec() -> ApiSpec:
    """The Bot API description shipped next to this module, parsed once per process."""
    text = resources.files("tgemu").joinpath("api.json").read_text(encoding="utf-8")
    return ApiSpec(json.loads(text))
