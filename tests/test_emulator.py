"""The Bot API emulator answers a real python-telegram-bot client the way Telegram would."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tgemu import ApiCall, BotApiEmulator, EmulatedUser, SentMessage
from tgemu.errors import NOT_MODIFIED, QUERY_TOO_OLD
from tgemu.html_entities import parse_html
from tgemu.markdown import parse_markdown, parse_markdown_v2
from tgemu.users import TINY_PNG

CHAT = 1001
# Loaded once: reading the CA bundle for every client would dominate the run time.
TLS = ssl.create_default_context()


def request(read_timeout: float = 5.0) -> HTTPXRequest:
    """python-telegram-bot's HTTP client; 5 s is its own default read timeout."""
    return HTTPXRequest(read_timeout=read_timeout, httpx_kwargs={"verify": TLS})


def client(
    emu: BotApiEmulator, token: str | None = None, *, read_timeout: float = 5.0
) -> telegram.Bot:
    """A plain client (no rate limiter, no defaults) for the emulator."""
    return telegram.Bot(
        token or emu.token,
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
        request=request(read_timeout),
        get_updates_request=request(),
    )


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(first_update_id=1000) as emulator:
        yield emulator


@pytest.fixture
async def tg(emu: BotApiEmulator) -> AsyncIterator[telegram.Bot]:
    async with client(emu) as bot:
        yield bot


@pytest.fixture
async def alice(emu: BotApiEmulator) -> EmulatedUser:
    """A user who has written to the bot, so the bot may write to her."""
    user = emu.user(CHAT, first_name="Alice", language_code="fr")
    await user.send("hello")
    return user


async def raw(
    emu: BotApiEmulator,
    method: str,
    *,
    token: str | None = None,
    **body: Any,
) -> tuple[int, dict[str, Any]]:
    """A request python-telegram-bot would never send; returns (HTTP status, JSON body)."""
    url = f"{emu.base_url}{token or emu.token}/{method}"
    async with httpx.AsyncClient(verify=TLS) as http:
        response = await http.post(url, **body)
    return response.status_code, response.json()


async def drain(bot: telegram.Bot) -> None:
    """Fetch and confirm every queued update."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)


def last_rejection(emu: BotApiEmulator) -> ApiCall:
    assert emu.rejected, "nothing was rejected"
    return emu.rejected[-1]


def build_app(emu: BotApiEmulator, rate_limiter: AIORateLimiter | None = None) -> Application:
    builder = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .request(request())
        .get_updates_request(request())
    )
    if rate_limiter is not None:
        return builder.rate_limiter(rate_limiter).build()
    return builder.build()


@asynccontextmanager
async def polling(application: Application) -> AsyncIterator[Application]:
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=1, poll_interval=0)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


# Identity, long polling and offsets.


async def test_get_me_describes_the_bot(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    me = await tg.get_me()
    assert (me.id, me.username, me.is_bot) == (emu.bot_id, emu.bot_username, True)
    assert emu.calls[-1].method == "getMe" and emu.calls[-1].ok
    assert emu.base_url.endswith("/bot") and emu.base_file_url.endswith("/file/bot")


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(tg.get_updates(timeout=10))
    await emu.wait_polling(timeout=2)
    update_id = await emu.user(CHAT).send("/start abc")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 2
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None and message.text == "/start abc"
    assert message.chat.type == "private" and message.from_user is not None
    assert message.from_user.language_code == "fr"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]


async def test_long_poll_returns_nothing_after_its_timeout(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    started = time.monotonic()
    assert await tg.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3


async def test_an_offset_confirms_earlier_updates(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    user = emu.user(CHAT)
    first, second = await user.send("one"), await user.send("two")
    assert second == first + 1 and first == 1000
    assert [u.update_id for u in await tg.get_updates()] == [first, second]
    # Not confirmed yet: handed out again.
    assert [u.update_id for u in await tg.get_updates(limit=1)] == [first]
    assert [u.update_id for u in await tg.get_updates(offset=second)] == [second]
    assert await tg.get_updates(offset=second + 1) == ()
    assert await tg.get_updates() == ()


async def test_allowed_updates_filters_what_is_delivered(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    await drain(tg)
    await tg.send_message(CHAT, "pick", reply_markup=_keyboard(("Yes", "yes")))
    await alice.send("ignored")
    pressed = await alice.press("Yes")
    updates = await tg.get_updates(allowed_updates=["callback_query"])
    assert [u.update_id for u in updates] == [pressed]


async def test_stopping_answers_a_waiting_poll_at_once() -> None:
    emulator = BotApiEmulator()
    await emulator.start()
    poll = asyncio.create_task(raw(emulator, "getUpdates", data={"timeout": "30"}))
    await emulator.wait_polling(timeout=2)
    started = time.monotonic()
    await emulator.stop()
    status, body = await asyncio.wait_for(poll, 3)
    assert (status, body) == (200, {"ok": True, "result": []})
    assert time.monotonic() - started < 2


async def test_a_second_poller_terminates_the_first_with_409(emu: BotApiEmulator) -> None:
    first = asyncio.create_task(raw(emu, "getUpdates", data={"timeout": "5"}))
    await emu.wait_polling(timeout=2)
    second = asyncio.create_task(raw(emu, "getUpdates", data={"timeout": "0"}))
    status, body = await asyncio.wait_for(first, 3)
    assert status == 409 and body["description"].startswith("Conflict: terminated by other")
    assert (await second)[1] == {"ok": True, "result": []}


async def test_an_active_webhook_forbids_get_updates(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    with pytest.raises(BadRequest):
        await tg.set_webhook("http://insecure.example")
    assert await tg.set_webhook("https://example.org/hook")
    assert (await tg.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict):
        await tg.get_updates()
    assert await tg.delete_webhook()
    assert await tg.get_updates() == ()


# Requests Telegram would refuse.


async def test_a_wrong_token_is_unauthorized(emu: BotApiEmulator) -> None:
    status, body = await raw(emu, "getMe", token="123456:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    with pytest.raises(InvalidToken):
        async with client(emu, token="123456:WRONG"):
            pass  # initialising calls getMe
    assert [c.error_code for c in emu.rejected] == [401, 401]


async def test_unknown_methods_are_not_found_and_known_ones_not_emulated_say_so(
    emu: BotApiEmulator,
) -> None:
    not_found = {"ok": False, "error_code": 404, "description": "Not Found"}
    assert await raw(emu, "sendMesage") == (404, not_found)
    assert await raw(emu, "sendmessage") == (404, not_found)  # method names are case-sensitive
    status, body = await raw(emu, "sendPoll", data={"chat_id": "1"})
    assert status == 400
    assert body["description"] == "Bad Request: method not supported by the emulator"
    assert [c.method for c in emu.rejected] == ["sendMesage", "sendmessage", "sendPoll"]


@pytest.mark.parametrize(
    ("data", "description"),
    [
        ({"chat_id": "1001", "text": "hi", "colour": "red"}, "unknown parameter colour"),
        ({"text": "hi"}, 'parameter "chat_id" is required'),
        ({"chat_id": "1001"}, "message text is empty"),
        (
            {"chat_id": "1001", "text": "hi", "disable_notification": "yes"},
            'parameter "disable_notification" must be of type Boolean',
        ),
        (
            {"chat_id": "1001", "text": "hi", "message_thread_id": "1.5"},
            'parameter "message_thread_id" must be of type Integer',
        ),
        (
            {"chat_id": "1001", "text": "hi", "reply_markup": "{not json"},
            "can't parse reply keyboard markup JSON object",
        ),
        (
            {"chat_id": "1001", "text": "hi", "entities": '{"type": "bold"}'},
            "entities must be an Array",
        ),
        (
            {"chat_id": "1001", "text": "hi", "reply_markup": '{"inline_keyboard": [["x"]]}'},
            "reply_markup.inline_keyboard[0][0] must be a JSON object (InlineKeyboardButton)",
        ),
        (
            {"chat_id": "1001", "text": "hi", "reply_markup": '{"inline_keyboard": [], "x": 1}'},
            'reply_markup: unknown field "x" in InlineKeyboardMarkup',
        ),
    ],
)
async def test_parameters_are_checked_against_the_api_description(
    emu: BotApiEmulator, alice: EmulatedUser, data: dict[str, str], description: str
) -> None:
    status, body = await raw(emu, "sendMessage", data=data)
    assert status == 400
    assert body["description"].startswith("Bad Request: ")
    assert description in body["description"]
    assert last_rejection(emu).method == "sendMessage" and alice.messages == []


@pytest.mark.parametrize(
    ("button", "description"),
    [
        ({"text": "A", "callback_data": "a", "colour": "red"}, 'unknown field "colour"'),
        ({"text": "A"}, "Text buttons are unallowed in the inline keyboard"),
        ({"text": "A", "callback_data": "a", "url": "https://x.org"}, "exactly one of"),
        ({"text": "", "callback_data": "a"}, "button text must be non-empty"),
        ({"text": "A", "callback_data": "é" * 33}, "BUTTON_DATA_INVALID"),  # 66 bytes
        ({"text": "A", "callback_data": ""}, "BUTTON_DATA_INVALID"),
        ({"text": "A", "url": "javascript:alert(1)"}, "Wrong HTTP URL"),
    ],
)
async def test_inline_keyboards_are_checked(
    emu: BotApiEmulator, alice: EmulatedUser, button: dict[str, str], description: str
) -> None:
    markup = json.dumps({"inline_keyboard": [[button]]})
    status, body = await raw(
        emu, "sendMessage", data={"chat_id": str(CHAT), "text": "hi", "reply_markup": markup}
    )
    assert status == 400 and description in body["description"]
    assert description in (last_rejection(emu).error or "")
    assert alice.messages == []


async def test_callback_data_is_limited_in_bytes_not_characters(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    await tg.send_message(CHAT, "ok", reply_markup=_keyboard(("A", "é" * 32)))  # 64 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await tg.send_message(CHAT, "no", reply_markup=_keyboard(("A", "é" * 32 + "x")))
    assert last_rejection(emu).error == "Bad Request: BUTTON_DATA_INVALID"
    assert alice.texts() == ["ok"]


async def test_a_chat_nobody_opened_is_not_found(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    emu.user(2002)  # exists, but never wrote to the bot
    for chat_id in (2002, 999, "@nobody"):
        with pytest.raises(BadRequest, match="Chat not found"):
            await tg.send_message(chat_id, "hi")
    assert [c.error for c in emu.rejected] == ["Bad Request: chat not found"] * 3


async def test_get_chat_knows_private_chats(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    chat = await tg.get_chat(CHAT)
    assert (chat.id, chat.type, chat.first_name) == (CHAT, "private", "Alice")
    with pytest.raises(BadRequest):
        await tg.get_chat(CHAT + 1)
    assert last_rejection(emu).error == "Bad Request: chat not found"


async def test_a_user_who_blocked_the_bot_is_forbidden(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    await tg.send_message(CHAT, "before")
    emu.block(CHAT)
    with pytest.raises(Forbidden):
        await tg.send_message(CHAT, "after")
    with pytest.raises(Forbidden):
        await tg.send_chat_action(CHAT, "typing")
    rejection = last_rejection(emu)
    assert (rejection.error_code, rejection.error) == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert alice.texts() == ["before"] and alice.blocked


async def test_block_can_notify_the_bot(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    emu.block(CHAT, notify=True)
    (update,) = await tg.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"


# Texts, entities and lengths.


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("a &lt; b", "a < b"),
        ("<b>x</b>", "x"),
        ("AT&amp;T", "AT&T"),
        ("&#60;&#x3E;&quot;", '<>"'),
        ('<a href="https://x.org/?a=1&amp;b=2">link</a>', "link"),
        ('<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler>', "s t"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("<blockquote expandable>q</blockquote>", "q"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
        ("<B>upper</B> <strong>s</strong> <i>i</i><em>e</em><u>u</u><ins>n</ins>", "upper s ieun"),
        ("<s>a</s><strike>b</strike><del>c</del> a > b", "abc a > b"),
        ("  \n<b>trimmed</b>\n ", "trimmed"),
    ],
)
async def test_valid_html_is_shown_parsed(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser, source: str, shown: str
) -> None:
    message = await tg.send_message(CHAT, source, parse_mode="HTML")
    assert message.text == shown
    assert (alice.last.text, alice.last.html, alice.last.parse_mode) == (shown, source, "HTML")
    assert emu.rejected == []


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("AT&T", 'Unsupported HTML entity or unescaped "&" at byte offset 2'),
        ("&nbsp;", "Unsupported HTML entity"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y</a>', "Unclosed start tag"),
        ("<span>s</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<tg-emoji>x</tg-emoji>", '"emoji-id"'),
        ("<br/>", 'Unsupported start tag "br/"'),
        ("é<p>", "at byte offset 2"),  # offsets are in UTF-8 bytes
    ],
)
async def test_invalid_html_cannot_be_parsed(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser, source: str, reason: str
) -> None:
    with pytest.raises(BadRequest):
        await tg.send_message(CHAT, source, parse_mode="HTML")
    error = last_rejection(emu).error or ""
    assert error.startswith("Bad Request: can't parse entities: ")
    assert reason in error
    assert alice.messages == []


def test_html_entities_have_utf16_offsets() -> None:
    parsed = parse_html('😀 <b>gras</b> <a href="https://x.org">l</a>')
    assert parsed.text == "😀 gras l"
    assert list(parsed.entities) == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 1, "url": "https://x.org"},
    ]
    pre = parse_html('<pre><code class="language-py">x</code></pre><code>y</code>')
    assert [e["type"] for e in pre.entities] == ["pre", "code"]
    assert pre.entities[0]["language"] == "py"


def test_markdown_modes() -> None:
    parsed = parse_markdown_v2(r"*gras* _it_ __sous__ ~b~ ||s|| [l](https://x.org/\)) a\.b")
    assert parsed.text == "gras it sous b s l a.b"
    assert [e["type"] for e in parsed.entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "text_link",
    ]
    assert parsed.entities[-1]["url"] == "https://x.org/)"
    assert parse_markdown_v2(">quoted\n>lines\nafter").entities[0]["length"] == 12
    assert parse_markdown("*b* _i_ `c` [l](https://x.org)").text == "b i c l"
    with pytest.raises(ValueError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("a.b")
    with pytest.raises(ValueError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*open")
    with pytest.raises(ValueError, match="Can't find end of the entity"):
        parse_markdown("_open")


async def test_parse_modes_are_checked(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    with pytest.raises(BadRequest):
        await tg.send_message(CHAT, "x", parse_mode="BBCode")
    assert last_rejection(emu).error == "Bad Request: unsupported parse_mode"
    with pytest.raises(BadRequest):
        await tg.send_message(CHAT, "1.5 points!", parse_mode="MarkdownV2")
    assert "is reserved" in (last_rejection(emu).error or "")
    await tg.send_message(CHAT, r"*1\.5* points\!", parse_mode="MarkdownV2")
    assert alice.last.text == "1.5 points!" and alice.last.entities[0]["type"] == "bold"


async def test_text_lengths_are_counted_after_parsing(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    await tg.send_message(CHAT, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await tg.send_message(CHAT, "😀" * 2048)  # 4096 UTF-16 code units
    refused = ["x" * 4097, "😀" * 2049, "<b></b>", " \n "]
    for text in refused:
        with pytest.raises(BadRequest):
            await tg.send_message(CHAT, text, parse_mode="HTML")
    assert [c.error for c in emu.rejected] == [
        "Bad Request: message is too long",
        "Bad Request: message is too long",
        "Bad Request: message text is empty",
        "Bad Request: message text is empty",
    ]
    with pytest.raises(BadRequest):
        await tg.send_photo(CHAT, TINY_PNG, caption="c" * 1025)
    assert last_rejection(emu).error == "Bad Request: message caption is too long"
    assert len(alice.messages) == 2


# Editing, deleting, callback queries.


async def test_edits_apply_in_place_and_unchanged_edits_are_refused(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    keyboard = _keyboard(("A", "a"), ("B", "b"))
    sent = await tg.send_message(CHAT, "<b>Q1</b>", parse_mode="HTML", reply_markup=keyboard)
    snapshot = alice.last
    with pytest.raises(BadRequest):
        await tg.edit_message_text(
            "<b>Q1</b>", CHAT, sent.message_id, parse_mode="HTML", reply_markup=keyboard
        )
    assert last_rejection(emu).error == f"Bad Request: {NOT_MODIFIED}"

    # Bold to plain is a change; leaving out reply_markup removes the keyboard.
    await tg.edit_message_text("Q1", CHAT, sent.message_id)
    assert alice.messages[0].text == "Q1" and alice.messages[0].edited == 1
    assert alice.messages[0].buttons == [] and alice.messages[0].message_id == sent.message_id
    assert snapshot.labels == ["A", "B"] and snapshot.edited == 0  # snapshots do not change
    with pytest.raises(BadRequest):
        await tg.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
    await tg.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard)
    assert alice.last.labels == ["A", "B"] and alice.last.edited == 2

    with pytest.raises(BadRequest):
        await tg.edit_message_text("x", CHAT, 9999)
    assert last_rejection(emu).error == "Bad Request: message to edit not found"
    with pytest.raises(BadRequest):
        await tg.edit_message_caption(CHAT, sent.message_id, caption="x")
    assert last_rejection(emu).error == "Bad Request: there is no caption in the message to edit"
    with pytest.raises(BadRequest):
        await tg.delete_message(CHAT, 9999)
    assert last_rejection(emu).error == "Bad Request: message to delete not found"
    assert await tg.delete_message(CHAT, sent.message_id)
    assert alice.messages == []


async def test_callback_queries_are_answered_once(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    await tg.send_message(CHAT, "pick", reply_markup=_keyboard(("Oui", "yes"), ("Non", "no")))
    await drain(tg)
    await alice.press("Oui")
    (update,) = await tg.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "yes" and query.from_user.id == CHAT
    assert isinstance(query.message, telegram.Message) and query.message.text == "pick"
    assert query.message.from_user is not None and query.message.from_user.is_bot
    with pytest.raises(BadRequest):
        await tg.answer_callback_query(query.id, text="x" * 201)
    assert last_rejection(emu).error == "Bad Request: MESSAGE_TOO_LONG"
    assert await tg.answer_callback_query(query.id, text="Noté", show_alert=True)
    for query_id in (query.id, "123"):
        with pytest.raises(BadRequest):
            await tg.answer_callback_query(query_id)
        assert last_rejection(emu).error == f"Bad Request: {QUERY_TOO_OLD}"
    assert alice.callback_answers == [
        {
            "callback_query_id": query.id,
            "text": "Noté",
            "show_alert": True,
            "url": None,
            "cache_time": None,
        }
    ]


async def test_press_finds_buttons_by_label(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    await tg.send_message(CHAT, "old", reply_markup=_keyboard(("Plus tard", "later")))
    await tg.send_message(
        CHAT, "new", reply_markup=_keyboard(("1", "s:1"), ("10", "s:10"), ("✅ J'accepte", "ok"))
    )
    await tg.send_message(CHAT, "no keyboard")
    old, new = alice.messages[0], alice.messages[1]
    await drain(tg)
    assert isinstance(new, SentMessage) and new.labels == ["1", "10", "✅ J'accepte"]
    pressed = [
        await alice.press("1"),  # exact label wins over "10"
        await alice.press("J'accepte"),  # else a label containing it
        await alice.press("Plus tard"),  # found on an older message
        await alice.press("10", message=new),
        await alice.press_data("forged"),
    ]
    queries = [u.callback_query for u in await tg.get_updates(offset=pressed[0])]
    assert all(q is not None and q.message is not None for q in queries)
    data = [(q.data, q.message.message_id) for q in queries if q and q.message]
    ids = old.message_id, new.message_id
    assert data == [
        ("s:1", ids[1]),
        ("ok", ids[1]),
        ("later", ids[0]),
        ("s:10", ids[1]),
        ("forged", ids[1]),
    ]
    assert len({q.id for q in queries if q}) == 5
    with pytest.raises(LookupError, match="available"):
        await alice.press("Peut-être")
    with pytest.raises(LookupError, match="no inline button"):
        await alice.press("Plus tard", message=new)


# A real Application: handlers, rate limiter, redelivery, wait_idle.


async def test_an_application_handles_a_pressed_button(emu: BotApiEmulator) -> None:
    pressed: list[str | None] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and context.args == ["payload"]
        await context.bot.send_message(
            update.effective_chat.id,
            "<b>Prêt ?</b>",
            parse_mode="HTML",
            reply_markup=_keyboard(("✅ Oui", "yes"), ("Non", "no")),
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        pressed.append(query.data)
        await query.answer("Merci")
        await query.edit_message_text("C'est noté.")

    application = build_app(emu)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(button))
    user = emu.user(CHAT, first_name="Camille")
    async with polling(application):
        await user.send("/start payload")
        await emu.wait_idle()
        assert user.last.text == "Prêt ?" and user.last.html == "<b>Prêt ?</b>"
        await user.press("Oui")
        await emu.wait_idle()
    assert pressed == ["yes"]
    assert user.callback_answers[0]["text"] == "Merci"
    assert user.texts() == ["C'est noté."] and user.last.buttons == []
    assert emu.rejected == []


# python-telegram-bot warns about a future type of RetryAfter.retry_after when it reads it.
quiet_retry_after = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@quiet_retry_after
async def test_flood_limits_answer_429_with_retry_after() -> None:
    async with BotApiEmulator(chat_rate=(2, 60), global_rate=(3, 60), retry_after=7) as emu:
        users = [emu.user(uid) for uid in (1, 2)]
        for user in users:
            await user.send("hi")
        async with client(emu) as bot:
            await bot.send_message(1, "a")
            await bot.send_message(1, "b")
            with pytest.raises(RetryAfter):
                await bot.send_message(1, "c")  # over the per-chat limit
            await bot.send_message(2, "d")
            with pytest.raises(RetryAfter):
                await bot.send_message(2, "e")  # over the global limit
            await bot.send_chat_action(2, "typing")  # not a message: not limited
        status, body = await raw(emu, "sendMessage", data={"chat_id": "2", "text": "f"})
    assert status == 429 and body["parameters"] == {"retry_after": 7}
    assert body["description"] == "Too Many Requests: retry after 7"
    assert [c.error_code for c in emu.rejected] == [429, 429, 429]
    assert users[0].texts() == ["a", "b"] and users[1].texts() == ["d"]


@quiet_retry_after
async def test_the_rate_limiter_retries_through_a_429() -> None:
    async with BotApiEmulator(chat_rate=(1, 0.5), retry_after=1) as emu:
        user = emu.user(CHAT)
        await user.send("hi")
        application = build_app(emu, rate_limiter=AIORateLimiter(max_retries=2))
        async with application:
            await application.bot.send_message(CHAT, "one")
            await application.bot.send_message(CHAT, "two")  # 429, waits 1 s, retried
    assert user.texts() == ["one", "two"]
    assert [c.error_code for c in emu.rejected] == [429]


# Time-outs: a call held unanswered, as on a failing network.

# Short, so a held call costs the test a fraction of a second (the default is 5 s).
READ_TIMEOUT = 0.3


async def test_a_timed_out_call_raises_timed_out_and_the_next_one_is_delivered(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    await drain(tg)  # so that wait_idle below waits for the held call only
    emu.time_out(CHAT)
    async with client(emu, read_timeout=READ_TIMEOUT) as bot:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "lost")
        assert READ_TIMEOUT <= time.monotonic() - started < 5  # the client gave up, not us
        await emu.wait_idle()  # the held call ends when its client hangs up
        sent = await bot.send_message(CHAT, "delivered")
    assert alice.texts() == ["delivered"] and sent.message_id == alice.last.message_id
    held, delivered = [c for c in emu.calls if c.method == "sendMessage"]
    assert held.timed_out and not held.ok and held.error_code is None
    assert "timed out" in str(held) and held.params["text"] == "lost"
    assert delivered.ok and not delivered.timed_out
    assert emu.timed_out == [held]
    assert emu.rejected == []  # a time-out is no refusal: the fixtures' check ignores it


async def test_time_outs_hold_only_that_chats_message_calls_and_count_down(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    bob = emu.user(CHAT + 1, first_name="Bob")
    await bob.send("hi")
    await drain(tg)
    first = await tg.send_message(CHAT, "one", reply_markup=_keyboard(("A", "a")))
    emu.time_out(CHAT, times=2)
    emu.time_out(CHAT)  # adds up: three calls
    async with client(emu, read_timeout=READ_TIMEOUT) as bot:
        await bot.send_message(bob.id, "to Bob")  # another chat
        await bot.send_chat_action(CHAT, "typing")  # not a message
        await bot.get_chat(CHAT)
        with pytest.raises(TimedOut):
            await bot.edit_message_text("two", CHAT, first.message_id)
        with pytest.raises(TimedOut):
            await bot.edit_message_reply_markup(CHAT, first.message_id, reply_markup=None)
        with pytest.raises(TimedOut):
            await bot.send_document(CHAT, b"%PDF-1.4", filename="a.pdf")
        await bot.edit_message_text("three", CHAT, first.message_id)
    await emu.wait_idle()
    assert alice.texts() == ["three"] and alice.last.edited == 1 and alice.last.labels == []
    assert bob.texts() == ["to Bob"] and alice.chat_actions == ["typing"]
    assert [c.method for c in emu.timed_out] == [
        "editMessageText",
        "editMessageReplyMarkup",
        "sendDocument",
    ]
    assert emu.rejected == []


async def test_a_call_telegram_would_refuse_is_refused_not_held(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    """A time-out never hides a bad call from `rejected`; it stays due for the next one."""
    emu.time_out(CHAT)
    with pytest.raises(BadRequest):
        await tg.send_message(CHAT, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest):
        await tg.edit_message_text("x", CHAT, 9999)
    assert emu.timed_out == [] and len(emu.rejected) == 2
    await drain(tg)
    async with client(emu, read_timeout=READ_TIMEOUT) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "<b>closed</b>", parse_mode="HTML")
    await emu.wait_idle()
    assert alice.messages == [] and len(emu.timed_out) == 1
    with pytest.raises(ValueError):
        emu.time_out(CHAT, times=0)


async def test_a_planned_server_failure_answers_5xx_and_delivers_nothing(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    """`fail`: the next calls of a method answer 502 "Bad Gateway" (python-telegram-bot
    raises NetworkError), then calls go through again; other methods are untouched."""
    emu.fail(times=2, method="sendMessage")
    with pytest.raises(NetworkError, match="Bad Gateway") as raised:
        await tg.send_message(CHAT, "lost")
    assert not isinstance(raised.value, (BadRequest, TimedOut))
    await tg.send_chat_action(CHAT, "typing")  # another method
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await tg.send_message(CHAT, "lost too")
    sent = await tg.send_message(CHAT, "delivered")
    assert alice.texts() == ["delivered"] and sent.message_id == alice.last.message_id
    assert [(c.method, c.error_code, c.error) for c in emu.failed] == [
        ("sendMessage", 502, "Bad Gateway"),
        ("sendMessage", 502, "Bad Gateway"),
    ]
    assert all(not c.ok and not c.timed_out for c in emu.failed)
    assert emu.rejected == [] and emu.timed_out == []


async def test_server_failures_by_chat_any_method_and_a_bad_call_still_refused(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    bob = emu.user(CHAT + 1, first_name="Bob")
    await bob.send("hi")
    emu.fail(user_id=CHAT, status=500)  # any method, in Alice's chat only
    await tg.send_message(bob.id, "to Bob")
    with pytest.raises(BadRequest):  # refused as Telegram would: the failure stays due
        await tg.send_message(CHAT, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await tg.send_chat_action(CHAT, "typing")
    await tg.send_chat_action(CHAT, "typing")
    emu.fail()  # the next call of any method but the long poll
    await drain(tg)  # getUpdates is not failed unless named
    with pytest.raises(NetworkError):
        await tg.get_me()
    assert [(c.method, c.error_code) for c in emu.failed] == [
        ("sendChatAction", 500),
        ("getMe", 502),
    ]
    assert alice.chat_actions == ["typing"] and bob.texts() == ["to Bob"]
    assert len(emu.rejected) == 1
    with pytest.raises(ValueError):
        emu.fail(status=429)
    with pytest.raises(ValueError):
        emu.fail(method="sendMessages")
    with pytest.raises(ValueError):
        emu.time_out(CHAT, method="getMe")


async def test_a_time_out_of_one_method_lets_the_others_through(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    await drain(tg)
    first = await tg.send_message(CHAT, "one")
    emu.time_out(CHAT, method="sendMessage")
    async with client(emu, read_timeout=READ_TIMEOUT) as bot:
        await bot.edit_message_text("two", CHAT, first.message_id)
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "lost")
    await emu.wait_idle()
    assert alice.texts() == ["two"]
    assert [c.method for c in emu.timed_out] == ["sendMessage"]


async def test_a_held_call_is_hung_up_after_max_hold() -> None:
    """A client that would wait longer than `max_hold` is disconnected: no test hangs."""
    async with BotApiEmulator(max_hold=0.2) as emu:
        user = emu.user(CHAT)
        await user.send("hello")
        emu.time_out(CHAT)
        async with client(emu, read_timeout=30) as bot:
            started = time.monotonic()
            with pytest.raises(NetworkError):
                await bot.send_message(CHAT, "lost")
            assert time.monotonic() - started < 5
            await bot.send_message(CHAT, "delivered")
    assert user.texts() == ["delivered"] and len(emu.timed_out) == 1


async def test_redeliver_sends_the_same_update_id_again(emu: BotApiEmulator) -> None:
    seen: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    application = build_app(emu)
    application.add_handler(MessageHandler(filters.TEXT, record))
    user = emu.user(CHAT)
    async with polling(application):
        update_id = await user.send("once")
        await emu.wait_idle()
        emu.redeliver(update_id)
        await emu.wait_idle()
        later = await user.send("later")
        await emu.wait_idle()
    assert seen == [update_id, update_id, later]
    with pytest.raises(KeyError):
        emu.redeliver(later + 100)


async def test_wait_idle_waits_until_the_bot_is_done(emu: BotApiEmulator) -> None:
    async def slow_echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        for part in ("1", "2", "3"):
            await asyncio.sleep(0.05)
            await update.message.reply_text(update.message.text + part)

    application = build_app(emu)
    application.add_handler(MessageHandler(filters.TEXT, slow_echo))
    user = emu.user(CHAT)
    async with polling(application):
        await user.send("a")
        await emu.wait_idle()
        assert user.texts() == ["a1", "a2", "a3"]


async def test_wait_idle_times_out_when_nobody_fetches(emu: BotApiEmulator) -> None:
    await emu.user(CHAT).send("anyone?")
    with pytest.raises(TimeoutError, match="1 update"):
        await emu.wait_idle(timeout=0.2)


# Files.


async def test_uploaded_photos_and_documents_are_kept(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    sent = await tg.send_photo(CHAT, TINY_PNG, caption="<b>QR</b> code", parse_mode="HTML")
    photo = alice.last
    assert (photo.kind, photo.file_bytes, photo.caption, photo.text) == (
        "photo",
        TINY_PNG,
        "QR code",
        None,
    )
    assert sent.photo[-1].width == 1 and sent.caption == "QR code"
    # The same file again, by file_id, and a download through the file endpoint.
    await tg.send_photo(CHAT, sent.photo[-1].file_id)
    assert alice.last.file_bytes == TINY_PNG
    file = await tg.get_file(sent.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == TINY_PNG

    await tg.send_document(CHAT, b"a;b\n1;2\n", filename="answers.csv")
    assert (alice.last.kind, alice.last.file_name, alice.last.file_bytes) == (
        "document",
        "answers.csv",
        b"a;b\n1;2\n",
    )
    with pytest.raises(BadRequest):
        await tg.send_photo(CHAT, b"not an image")
    assert last_rejection(emu).error == "Bad Request: IMAGE_PROCESS_FAILED"
    with pytest.raises(BadRequest):
        await tg.send_photo(CHAT, "no-such-file-id")
    assert last_rejection(emu).error == "Bad Request: wrong file identifier/HTTP URL specified"


async def test_attach_references_and_stray_file_parts(
    emu: BotApiEmulator, alice: EmulatedUser
) -> None:
    files = {"qr": ("qr.png", TINY_PNG, "image/png")}
    data = {"chat_id": str(CHAT), "photo": "attach://qr"}
    status, _ = await raw(emu, "sendPhoto", data=data, files=files)
    assert status == 200 and alice.last.file_bytes == TINY_PNG
    status, body = await raw(emu, "sendPhoto", data={**data, "photo": "attach://none"}, files=files)
    assert status == 400 and "attached file" in body["description"]
    files["extra"] = ("x.bin", b"x", "application/octet-stream")
    status, body = await raw(emu, "sendPhoto", data=data, files=files)
    assert (status, body["description"]) == (400, "Bad Request: unknown parameter extra")


async def test_json_bodies_and_query_strings_are_accepted(
    emu: BotApiEmulator, alice: EmulatedUser
) -> None:
    body = {
        "chat_id": CHAT,
        "text": "json",
        "disable_notification": True,
        "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    }
    status, answer = await raw(emu, "sendMessage", json=body)
    assert status == 200 and answer["result"]["reply_markup"] == body["reply_markup"]
    async with httpx.AsyncClient(verify=TLS) as http:
        response = await http.get(f"{emu.base_url}{emu.token}/sendMessage?chat_id={CHAT}&text=q")
    assert response.json()["ok"] and alice.texts() == ["json", "q"]
    params = emu.calls[-2].params
    assert params["chat_id"] == CHAT and params["disable_notification"] is True


# Updates the users produce.


async def test_users_produce_realistic_updates(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    user = emu.user(CHAT, first_name="Sam", language_code="en-GB", username="sam")
    await user.send("first")
    await user.send_sticker()
    await user.send_photo()
    await user.send_voice()
    await user.send_document()
    await user.send_location()
    await user.edit_last_text("first, edited")
    updates = await tg.get_updates()
    messages = [u.message for u in updates[:-1]]
    assert all(m is not None and m.chat.id == CHAT for m in messages)
    assert messages[1] and messages[1].sticker and messages[1].sticker.type == "regular"
    assert messages[2] and messages[2].photo and messages[3] and messages[3].voice
    assert messages[4] and messages[4].document and messages[5] and messages[5].location
    assert [m.message_id for m in messages if m] == [1, 2, 3, 4, 5, 6]
    edited = updates[-1].edited_message
    assert edited is not None and edited.text == "first, edited" and edited.message_id == 1
    assert edited.from_user is not None and edited.from_user.username == "sam"
    document = messages[4].document if messages[4] else None
    assert document is not None
    file = await tg.get_file(document.file_id)
    assert (await file.download_as_bytearray()).startswith(b"%PDF")
    with pytest.raises(LookupError):
        await emu.user(4040).edit_last_text("nothing to edit")


async def test_push_update_takes_raw_updates(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    chat = {"id": 77, "type": "private", "first_name": "Raw"}
    message = {"message_id": 1, "date": 0, "chat": chat, "text": "raw"}
    update_id = emu.push_update({"message": {**message, "from": {**chat, "is_bot": False}}})
    assert [u.update_id for u in await tg.get_updates()] == [update_id]
    await tg.send_message(77, "the chat is known now")
    assert emu.user(77).texts() == ["the chat is known now"]


# Command menus.


async def test_command_menus_are_checked_and_stored(
    emu: BotApiEmulator, tg: telegram.Bot, alice: EmulatedUser
) -> None:
    from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

    assert await tg.set_my_commands([BotCommand("start", "Commencer")], language_code="fr")
    assert await tg.set_my_commands([BotCommand("help", "Help")])
    assert await tg.set_my_commands(
        [BotCommand("newsession", "Nouvel atelier")], scope=BotCommandScopeChat(CHAT)
    )
    assert set(emu.commands) == {
        ((("type", "default"),), "fr"),
        ((("type", "default"),), ""),
        ((("chat_id", CHAT), ("type", "chat")), ""),
    }
    fr = await tg.get_my_commands(language_code="fr")
    assert [(c.command, c.description) for c in fr] == [("start", "Commencer")]
    assert await tg.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    assert emu.visible_commands(CHAT)[0]["command"] == "newsession"
    assert emu.visible_commands(9)[0]["command"] == "help"

    refusals: list[tuple[list[BotCommand], dict[str, Any], str]] = [
        ([BotCommand("Start", "x")], {}, "BOT_COMMAND_INVALID"),
        ([BotCommand("x" * 33, "x")], {}, "BOT_COMMAND_INVALID"),
        ([BotCommand("start", "")], {}, "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([BotCommand("start", "d" * 257)], {}, "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([BotCommand(f"c{i}", "d") for i in range(101)], {}, "too many commands"),
        ([BotCommand("start", "x")], {"language_code": "fra"}, "language code"),
        ([BotCommand("start", "x")], {"scope": BotCommandScopeChat(404)}, "chat not found"),
    ]
    for commands, extra, reason in refusals:
        with pytest.raises(BadRequest):
            await tg.set_my_commands(commands, **extra)
        assert reason in (last_rejection(emu).error or "")
    assert len(emu.commands) == 3
    status, body = await raw(
        emu, "setMyCommands", data={"commands": "[]", "scope": '{"type": "everywhere"}'}
    )
    assert status == 400 and "unsupported BotCommandScope" in body["description"]
    assert await tg.delete_my_commands(language_code="fr")
    assert len(emu.commands) == 2


def _keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons]
    )
