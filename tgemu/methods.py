"""The Bot API methods the emulator implements, on already type-checked parameters.

Each handler takes the decoded parameters of one call and returns its `result`, or
raises `ApiError` with Telegram's wording. Results are shaped like Telegram's objects
so python-telegram-bot's `de_json` builds the same classes it would in production.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from tgemu.errors import NOT_MODIFIED, QUERY_TOO_OLD, ApiError
from tgemu.formatting import caption_text, message_text
from tgemu.models import Buttons, SentMessage, UploadedFile
from tgemu.state import DEFAULT_MAX_CONNECTIONS, EmulatorState, StoredFile, scope_key
from tgemu.users import EmulatedUser

Params = dict[str, Any]
Handler = Callable[[Params], Any]

# Methods that post or change a message, and so count against flood limits.
RATE_LIMITED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "copyMessage",
        "forwardMessage",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_LANGUAGE_CODE = re.compile(r"[a-z]{2}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_MAX_UPLOAD = 50 * 1024 * 1024
_MAX_PHOTO = 10 * 1024 * 1024
_BOT_TEXT_LIMITS = {"name": 64, "description": 512, "short_description": 120}


class BotMethods:
    """The implemented methods, by Bot API name."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.ok,
            "close": self.ok,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setMyName": lambda p: self.set_bot_text("name", p),
            "getMyName": lambda p: self.get_bot_text("name", p),
            "setMyDescription": lambda p: self.set_bot_text("description", p),
            "getMyDescription": lambda p: self.get_bot_text("description", p),
            "setMyShortDescription": lambda p: self.set_bot_text("short_description", p),
            "getMyShortDescription": lambda p: self.get_bot_text("short_description", p),
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "getChat": self.get_chat,
            "getFile": self.get_file,
            "sendMessage": self.send_message,
            "sendPhoto": lambda p: self.send_file("photo", p),
            "sendDocument": lambda p: self.send_file("document", p),
            "sendChatAction": self.send_chat_action,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
        }

    def supports(self, method: str) -> bool:
        return method in self.handlers

    async def call(self, method: str, params: Params) -> Any:
        handler = self.handlers.get(method)
        if handler is None:
            raise ApiError.bad_request("method not supported by the emulator")
        result = handler(params)
        if isinstance(result, Awaitable):
            result = await result
        return result

    # The bot itself.

    def ok(self, params: Params) -> bool:
        return True

    def get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.state.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def set_bot_text(self, kind: str, params: Params) -> bool:
        language = self._language(params.get("language_code"))
        text = params.get(kind, "")
        if len(text) > _BOT_TEXT_LIMITS[kind]:
            raise ApiError.bad_request(f"bot {kind.replace('_', ' ')} is too long")
        self.state.bot_texts[(kind, language)] = text
        return True

    def get_bot_text(self, kind: str, params: Params) -> dict[str, str]:
        language = self._language(params.get("language_code"))
        texts = self.state.bot_texts
        value = texts.get((kind, language), texts.get((kind, ""), ""))
        if kind == "name" and not value:
            value = self.state.bot_first_name
        return {kind: value}

    def set_chat_menu_button(self, params: Params) -> bool:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            chat_id = self.state.private_chat(chat_id).id
        self.state.menu_buttons[chat_id] = params.get("menu_button", {"type": "default"})
        return True

    def get_chat_menu_button(self, params: Params) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            chat_id = self.state.private_chat(chat_id).id
        buttons = self.state.menu_buttons
        return buttons.get(chat_id, buttons.get(None, {"type": "default"}))

    # Updates and webhooks.

    async def get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.state.webhook is not None:
            raise ApiError.conflict(
                "can't use getUpdates method while webhook is active; use deleteWebhook to "
                "delete the webhook first"
            )
        return await self.state.updates.get(
            offset=params.get("offset"),
            limit=params.get("limit", 100),
            wait=params.get("timeout", 0),
            allowed_updates=params.get("allowed_updates"),
        )

    def set_webhook(self, params: Params) -> bool:
        url = params["url"]
        if url and not url.startswith("https://"):
            raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise ApiError.bad_request("bad webhook: secret token contains unallowed characters")
        connections = params.get("max_connections", DEFAULT_MAX_CONNECTIONS)
        if not 1 <= connections <= 100:
            raise ApiError.bad_request("bad webhook: max_connections must be from 1 to 100")
        if params.get("drop_pending_updates"):
            self.state.updates.drop_pending()
        self.state.updates.allow(params.get("allowed_updates"))
        self.state.webhook = (
            {k: v for k, v in params.items() if k != "certificate"} if url else None
        )
        self.state.updates.wake()  # delivery starts (or stops)
        return True

    def delete_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self.state.updates.drop_pending()
        self.state.webhook = None
        self.state.updates.wake()
        return True

    def get_webhook_info(self, params: Params) -> dict[str, Any]:
        webhook = self.state.webhook or {}
        info: dict[str, Any] = {
            "url": webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.state.updates.pending,
        }
        if webhook and self.state.webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.state.webhook_error
        if webhook:
            info["max_connections"] = webhook.get("max_connections", DEFAULT_MAX_CONNECTIONS)
        if "allowed_updates" in webhook:
            info["allowed_updates"] = webhook["allowed_updates"]
        return info

    # Command menus.

    def _commands_key(self, params: Params) -> tuple[Any, str]:
        scope = params.get("scope")
        if scope is not None and "chat_id" in scope:
            user = self.state.private_chat(scope["chat_id"])
            scope = {**scope, "chat_id": user.id}
            if "user_id" in scope and scope["user_id"] not in self.state.users:
                raise ApiError.bad_request("user not found")
        return scope_key(scope), self._language(params.get("language_code"))

    def set_my_commands(self, params: Params) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise ApiError.bad_request("too many commands: at most 100")
        key = self._commands_key(params)
        if commands:
            self.state.commands[key] = [dict(c) for c in commands]
        else:
            self.state.commands.pop(key, None)
        return True

    def get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return list(self.state.commands.get(self._commands_key(params), []))

    def delete_my_commands(self, params: Params) -> bool:
        self.state.commands.pop(self._commands_key(params), None)
        return True

    @staticmethod
    def _language(code: str | None) -> str:
        if code and not _LANGUAGE_CODE.fullmatch(code):
            raise ApiError.bad_request(
                f'language code "{code}" is invalid: two lowercase letters (ISO 639-1) or empty'
            )
        return code or ""

    # Chats and files.

    def get_chat(self, params: Params) -> dict[str, Any]:
        user = self.state.private_chat(params["chat_id"])
        return {
            **user.as_chat(),
            "accent_color_id": user.id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def get_file(self, params: Params) -> dict[str, Any]:
        stored = self.state.files.get(params["file_id"])
        if stored is None:
            raise ApiError.bad_request("invalid file_id")
        return stored.to_telegram()

    def send_chat_action(self, params: Params) -> bool:
        user = self.state.writable_chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise ApiError.bad_request("wrong parameter action in request")
        user.chat_actions.append(params["action"])
        return True

    # Sending.

    def send_message(self, params: Params) -> dict[str, Any]:
        user = self.state.writable_chat(params["chat_id"])
        text = message_text(params["text"], params.get("parse_mode"), params.get("entities"))
        buttons, markup = self._markup(params.get("reply_markup"))
        self._check_reply(user, params.get("reply_parameters"))
        self.state.admit_message(user.id, "sendMessage")
        message = SentMessage(
            message_id=self.state.next_message_id(user.id),
            chat_id=user.id,
            text=text.text,
            caption=None,
            parse_mode=params.get("parse_mode"),
            html=params["text"],
            buttons=buttons,
            entities=text.entities,
            reply_markup=markup,
            date=int(time.time()),
        )
        return self._post(user, message, params.get("reply_markup"))

    def send_file(self, kind: str, params: Params) -> dict[str, Any]:
        user = self.state.writable_chat(params["chat_id"])
        caption = caption_text(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        stored = self._input_file(kind, params[kind])
        buttons, markup = self._markup(params.get("reply_markup"))
        self._check_reply(user, params.get("reply_parameters"))
        self.state.admit_message(user.id, "sendPhoto" if kind == "photo" else "sendDocument")
        message = SentMessage(
            message_id=self.state.next_message_id(user.id),
            chat_id=user.id,
            text=None,
            caption=caption.text if caption else None,
            parse_mode=params.get("parse_mode"),
            html=params.get("caption"),
            buttons=buttons,
            kind=kind,
            file_bytes=stored.data,
            file_name=stored.file_name,
            entities=caption.entities if caption else (),
            reply_markup=markup,
            date=int(time.time()),
            media=_media_json(kind, stored),
        )
        return self._post(user, message, params.get("reply_markup"))

    def _post(
        self, user: EmulatedUser, message: SentMessage, markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        user.add_bot_message(message)
        if markup is not None and "keyboard" in markup:
            user.reply_keyboard = [[b["text"] for b in row] for row in markup["keyboard"]]
        elif markup is not None and markup.get("remove_keyboard"):
            user.reply_keyboard = None
        return message.to_telegram(self.state.bot_user(), user.as_chat())

    def _input_file(self, kind: str, value: UploadedFile | str) -> StoredFile:
        """Store an upload, or find the file a file_id names; a URL is taken on trust."""
        if isinstance(value, str):
            known = self.state.files.get(value)
            if known is not None:
                return known
            if value.startswith(("http://", "https://")):
                return self.state.store_file(None, kind=kind, file_name=value.rsplit("/", 1)[-1])
            raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
        if not value.data:
            raise ApiError.bad_request("file must be non-empty")
        if len(value.data) > (_MAX_PHOTO if kind == "photo" else _MAX_UPLOAD):
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo" and not _looks_like_image(value.data):
            raise ApiError.bad_request("IMAGE_PROCESS_FAILED")
        return self.state.store_file(
            value.data, kind=kind, file_name=value.filename, mime_type=value.content_type
        )

    def _check_reply(self, user: EmulatedUser, reply: dict[str, Any] | None) -> None:
        if reply is None or reply.get("allow_sending_without_reply"):
            return
        if not user.has_message(reply["message_id"]):
            raise ApiError.bad_request("message to be replied not found")

    @staticmethod
    def _markup(markup: dict[str, Any] | None) -> tuple[Buttons, dict[str, Any] | None]:
        """The inline keyboard to show and return (other keyboards attach to the chat)."""
        if markup is None or "inline_keyboard" not in markup:
            return [], None
        rows = [row for row in markup["inline_keyboard"] if row]
        if not rows:
            return [], None
        buttons = [[(b["text"], b.get("callback_data", b.get("url"))) for b in row] for row in rows]
        return buttons, {"inline_keyboard": rows}

    # Editing and deleting.

    def _message_to_edit(self, params: Params) -> tuple[EmulatedUser, SentMessage]:
        if "inline_message_id" in params:
            raise ApiError.bad_request("inline messages are not supported by the emulator")
        if "chat_id" not in params:
            raise ApiError.bad_request('parameter "chat_id" is required')
        if "message_id" not in params:
            raise ApiError.bad_request("message identifier is not specified")
        user = self.state.writable_chat(params["chat_id"])
        message = user.bot_message(params["message_id"])
        if message is None:
            raise ApiError.bad_request("message to edit not found")
        return user, message

    def _apply_edit(
        self, user: EmulatedUser, current: SentMessage, edited: SentMessage, method: str
    ) -> dict[str, Any]:
        if _content(current) == _content(edited):
            raise ApiError.bad_request(NOT_MODIFIED)
        self.state.admit_message(user.id, method)
        edited = replace(edited, edited=current.edited + 1, edit_date=int(time.time()))
        user.replace_bot_message(edited)
        return edited.to_telegram(self.state.bot_user(), user.as_chat())

    def edit_message_text(self, params: Params) -> dict[str, Any]:
        user, current = self._message_to_edit(params)
        if current.kind != "text":
            raise ApiError.bad_request("there is no text in the message to edit")
        text = message_text(params["text"], params.get("parse_mode"), params.get("entities"))
        buttons, markup = self._markup(params.get("reply_markup"))
        edited = replace(
            current,
            text=text.text,
            html=params["text"],
            parse_mode=params.get("parse_mode"),
            entities=text.entities,
            buttons=buttons,
            reply_markup=markup,
        )
        return self._apply_edit(user, current, edited, "editMessageText")

    def edit_message_caption(self, params: Params) -> dict[str, Any]:
        user, current = self._message_to_edit(params)
        if current.kind == "text":
            raise ApiError.bad_request("there is no caption in the message to edit")
        caption = caption_text(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        buttons, markup = self._markup(params.get("reply_markup"))
        edited = replace(
            current,
            caption=caption.text if caption else None,
            html=params.get("caption"),
            parse_mode=params.get("parse_mode"),
            entities=caption.entities if caption else (),
            buttons=buttons,
            reply_markup=markup,
        )
        return self._apply_edit(user, current, edited, "editMessageCaption")

    def edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        user, current = self._message_to_edit(params)
        buttons, markup = self._markup(params.get("reply_markup"))
        edited = replace(current, buttons=buttons, reply_markup=markup)
        return self._apply_edit(user, current, edited, "editMessageReplyMarkup")

    def delete_message(self, params: Params) -> bool:
        user = self.state.private_chat(params["chat_id"])
        if not user.remove_bot_message(params["message_id"]):
            raise ApiError.bad_request("message to delete not found")
        return True

    def delete_messages(self, params: Params) -> bool:
        user = self.state.private_chat(params["chat_id"])
        if not 1 <= len(params["message_ids"]) <= 100:
            raise ApiError.bad_request("message_ids must list 1-100 messages")
        for message_id in params["message_ids"]:
            user.remove_bot_message(message_id)
        return True

    # Callback queries.

    def answer_callback_query(self, params: Params) -> bool:
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        user_id = self.state.callback_queries.pop(params["callback_query_id"], None)
        if user_id is None:
            raise ApiError.bad_request(QUERY_TOO_OLD)
        self.state.users[user_id].callback_answers.append(
            {
                "callback_query_id": params["callback_query_id"],
                "text": text,
                "show_alert": params.get("show_alert", False),
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
            }
        )
        return True


def _content(message: SentMessage) -> str:
    """What "message is not modified" compares: shown text, entities and keyboard."""
    return json.dumps(
        [message.text, message.caption, list(message.entities), message.reply_markup],
        sort_keys=True,
    )


def _looks_like_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _image_size(data: bytes | None) -> tuple[int, int]:
    """Width and height from a PNG header; a plausible size for anything else."""
    if data and data.startswith(b"\x89PNG") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 800, 600


def _media_json(kind: str, stored: StoredFile) -> Any:
    ids = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
    size = {"file_size": len(stored.data)} if stored.data is not None else {}
    if kind == "photo":
        width, height = _image_size(stored.data)
        return [{**ids, "width": width, "height": height, **size}]
    document = {**ids, **size}
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    return document
