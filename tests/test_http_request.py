"""The bot's HTTP client, `AiohttpRequest`, against the Bot API emulator: what it sends,
what Telegram stores, and each failure mapped to the error python-telegram-bot's own
client (`HTTPXRequest`) raises for it."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import telegram
from telegram import InputFile
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.app import build_application, running
from bot.http import AiohttpRequest
from bot.settings import Settings
from tgemu import BotApiEmulator, EmulatedUser

CHAT = 1001
# Short, so a held call costs a fraction of a second (the default is 5 s).
READ_TIMEOUT = 0.3
# Loaded once: reading the CA bundle for every httpx client would dominate the run time.
TLS = ssl.create_default_context()

Make = Callable[..., BaseRequest]


def aiohttp_request(**timeouts: Any) -> BaseRequest:
    return AiohttpRequest(**timeouts)


def httpx_request(**timeouts: Any) -> BaseRequest:
    return HTTPXRequest(**timeouts, httpx_kwargs={"verify": TLS})


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(first_update_id=1000) as emulator:
        yield emulator


@pytest.fixture
async def alice(emu: BotApiEmulator) -> EmulatedUser:
    """A user who has written to the bot, so the bot may write to her."""
    user = emu.user(CHAT, first_name="Alice", language_code="fr")
    await user.send("bonjour")
    return user


def client(base_url: str, token: str, request: BaseRequest) -> telegram.Bot:
    return telegram.Bot(
        token,
        base_url=base_url,
        base_file_url=base_url.removesuffix("/bot") + "/file/bot",
        request=request,
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


async def outcome(make: Make, call: Callable[[telegram.Bot], Awaitable[Any]], **kw: Any) -> Any:
    """What `call` raises through a bot on the request `make` builds (`base_url`, `token`)."""
    base_url, token = kw.pop("base_url"), kw.pop("token")
    async with client(base_url, token, make(**kw)) as bot:
        try:
            await call(bot)
        except TelegramError as error:
            return error
    raise AssertionError("the call was expected to fail")


async def drain(bot: telegram.Bot) -> None:
    """Fetch and confirm every queued update (through the long poll's own request), so
    that `wait_idle` waits for held calls only."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)


async def test_a_message_is_sent_and_its_answer_read(
    emu: BotApiEmulator, alice: EmulatedUser
) -> None:
    text = "Café « à l'ombre » ✅ & <b>"
    async with client(emu.base_url, emu.token, AiohttpRequest()) as bot:
        me = await bot.get_me()  # a call without parameters: no body
        sent = await bot.send_message(CHAT, text, disable_notification=True)
    assert me.username == emu.bot_username
    assert alice.texts() == [text] and sent.message_id == alice.last.message_id
    call = next(c for c in emu.calls if c.method == "sendMessage")
    assert call.ok and call.params["text"] == text and call.params["disable_notification"]
    assert emu.rejected == []


async def test_calls_at_once_share_a_small_pool(emu: BotApiEmulator, alice: EmulatedUser) -> None:
    request = AiohttpRequest(connection_pool_size=2, pool_timeout=None)
    async with client(emu.base_url, emu.token, request) as bot:
        sent = await asyncio.gather(*(bot.send_message(CHAT, f"n°{n}") for n in range(32)))
    assert sorted(alice.texts()) == sorted(f"n°{n}" for n in range(32))
    assert len({m.message_id for m in sent}) == 32


async def test_a_document_is_uploaded_as_multipart_and_kept_by_telegram(
    emu: BotApiEmulator, alice: EmulatedUser, tmp_path: Path
) -> None:
    content = b"%PDF-1.4 synthese\x00\xff" * 100
    on_disk = tmp_path / "bilan.csv"
    on_disk.write_bytes(b"a;b\n1;2\n")
    async with client(emu.base_url, emu.token, AiohttpRequest()) as bot:
        sent = await bot.send_document(
            CHAT,
            InputFile(content, filename="synthèse « finale ».pdf"),
            caption="La <b>synthèse</b>",
            parse_mode="HTML",
        )
        with on_disk.open("rb") as handle:  # a file handle, streamed
            await bot.send_document(CHAT, handle)
        assert sent.document is not None
        file_id = sent.document.file_id
        downloaded = await (await bot.get_file(file_id)).download_as_bytearray()
    first, second = alice.messages[-2:]
    assert first.kind == "document" and first.file_bytes == content
    assert first.file_name == "synthèse « finale ».pdf"  # as written, not percent-encoded
    assert first.caption == "La synthèse" and first.html == "La <b>synthèse</b>"
    assert second.file_name == "bilan.csv" and second.file_bytes == b"a;b\n1;2\n"
    stored = emu.state.files[file_id]
    assert stored.data == content and stored.mime_type == "application/pdf"
    assert bytes(downloaded) == content  # and read back by a GET
    assert emu.rejected == []


@pytest.mark.parametrize(
    "call",
    [
        lambda bot: bot.edit_message_text("plus rien", chat_id=CHAT, message_id=999),
        lambda bot: bot.send_message(999_999, "à personne"),
        lambda bot: bot.send_document(CHAT, BytesIO(b""), filename="vide.txt"),
    ],
    ids=["edit-missing", "chat-missing", "empty-upload"],
)
async def test_a_refused_call_is_bad_request_as_with_httpx(
    emu: BotApiEmulator, alice: EmulatedUser, call: Callable[[telegram.Bot], Awaitable[Any]]
) -> None:
    where = {"base_url": emu.base_url, "token": emu.token}
    ours = await outcome(aiohttp_request, call, **where)
    theirs = await outcome(httpx_request, call, **where)
    assert isinstance(ours, BadRequest) and type(ours) is type(theirs)
    assert ours.message == theirs.message
    refused = [(c.error_code, c.error) for c in emu.rejected]
    assert refused[0] == refused[1] and refused[0][0] == 400
    assert ours.message.lower() in (refused[0][1] or "").lower()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limits_raise_retry_after_as_with_httpx() -> None:
    async with BotApiEmulator(chat_rate=(1, 60), retry_after=7) as emu:
        await emu.user(CHAT).send("bonjour")
        where = {"base_url": emu.base_url, "token": emu.token}

        async def twice(bot: telegram.Bot) -> None:
            await bot.send_message(CHAT, "un")
            await bot.send_message(CHAT, "deux")

        ours = await outcome(aiohttp_request, twice, **where)
        theirs = await outcome(httpx_request, twice, **where)
    assert isinstance(ours, RetryAfter) and isinstance(theirs, RetryAfter)
    assert ours.retry_after == theirs.retry_after and ours.message == theirs.message
    assert "Retry in 7 seconds" in ours.message
    # Ours: "un" sent, "deux" refused; then httpx's "un" refused (the chat's minute is used).
    assert [(c.params["text"], c.error_code) for c in emu.rejected] == [("deux", 429), ("un", 429)]


async def test_a_call_held_past_the_read_timeout_raises_timed_out(
    emu: BotApiEmulator, alice: EmulatedUser
) -> None:
    emu.time_out(CHAT)
    async with client(emu.base_url, emu.token, AiohttpRequest(read_timeout=READ_TIMEOUT)) as bot:
        await drain(bot)
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "perdu")
        assert READ_TIMEOUT <= time.monotonic() - started < 2  # the client gave up, not us
        await emu.wait_idle()  # the held call ends when its client hangs up
        await bot.send_message(CHAT, "arrivé")  # the pool still works
    assert alice.texts() == ["arrivé"]
    assert [c.params["text"] for c in emu.timed_out] == ["perdu"]


async def test_a_call_s_own_timeout_overrides_the_default_and_none_means_no_limit() -> None:
    async with BotApiEmulator(max_hold=1.0) as emu:
        user = emu.user(CHAT)
        await user.send("bonjour")
        emu.time_out(CHAT, times=2)
        async with client(emu.base_url, emu.token, AiohttpRequest(read_timeout=30)) as bot:
            await drain(bot)
            started = time.monotonic()
            with pytest.raises(TimedOut):  # DEFAULT_NONE would have waited 30 s
                await bot.send_message(CHAT, "un", read_timeout=READ_TIMEOUT)
            assert time.monotonic() - started < 1.0
            await emu.wait_idle()
            started = time.monotonic()
            # No read limit: waits until the emulator hangs up after `max_hold`.
            with pytest.raises(NetworkError) as hung_up:
                await bot.send_message(CHAT, "deux", read_timeout=None)
            assert time.monotonic() - started >= 1.0
        assert not isinstance(hung_up.value, TimedOut)
    assert user.texts() == []


async def test_an_upload_the_server_does_not_read_times_out() -> None:
    """A stalled write: the server takes the connection and never reads the body."""
    held: list[asyncio.StreamWriter] = []

    async def never_read(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    big = InputFile(b"\0" * 64_000_000, filename="trop.bin")  # beyond the socket buffers
    async with (
        server,
        AiohttpRequest(
            read_timeout=0.2, media_write_timeout=0.3, connect_timeout=0.2, pool_timeout=0.2
        ) as request,
    ):
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await request.post(
                f"http://127.0.0.1:{port}/bot123:abc/sendDocument",
                RequestData([RequestParameter.from_input("document", big)]),
            )
        assert time.monotonic() - started < 3  # pool + connect + write + read, not for ever
        for writer in held:
            writer.close()


async def test_a_full_pool_times_out_without_sending(
    emu: BotApiEmulator, alice: EmulatedUser
) -> None:
    emu.time_out(CHAT)
    request = AiohttpRequest(connection_pool_size=1, read_timeout=2.0)
    async with client(emu.base_url, emu.token, request) as bot:
        held = asyncio.ensure_future(bot.send_message(CHAT, "tient la connexion"))
        await asyncio.sleep(0.2)  # it has the only connection
        with pytest.raises(TimedOut, match="Pool or connect timeout"):
            await bot.send_message(CHAT, "attend", pool_timeout=0.1, connect_timeout=0.1)
        with pytest.raises(TimedOut):
            await held
    assert "attend" not in [c.params.get("text") for c in emu.calls]


async def test_a_refused_connection_raises_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AiohttpRequest() as request:
        started = time.monotonic()
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot123:abc/getMe")
        assert time.monotonic() - started < 1  # refused at once, not timed out
    assert not isinstance(raised.value, TimedOut)
    assert "ClientConnectorError" in raised.value.message


async def test_the_proxy_named_by_the_environment_is_used(
    emu: BotApiEmulator, alice: EmulatedUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with httpx: HTTP_PROXY and its kin carry the calls (here the emulator plays the
    proxy, and answers for a host that does not exist), NO_PROXY skips them."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://{emu.host}:{emu.port}")
    async with client("http://api.telegram.invalid/bot", emu.token, AiohttpRequest()) as bot:
        await bot.send_message(CHAT, "par le proxy")
    assert alice.texts() == ["par le proxy"]
    with socket.socket() as probe:  # a proxy nobody listens on
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{probe.getsockname()[1]}")
    monkeypatch.setenv("NO_PROXY", emu.host)
    async with client(emu.base_url, emu.token, AiohttpRequest()) as bot:
        await bot.send_message(CHAT, "en direct")
    assert alice.texts() == ["par le proxy", "en direct"]


async def test_the_session_is_opened_in_initialize_and_closed_by_shutdown(
    emu: BotApiEmulator, alice: EmulatedUser
) -> None:
    request = AiohttpRequest()
    assert request.is_closed and request.read_timeout == 5.0
    await request.initialize()
    session = request._session
    assert session is not None and not request.is_closed
    await request.initialize()  # twice: the same session
    assert request._session is session
    await request.shutdown()
    assert request.is_closed and session.closed
    await request.shutdown()  # twice: nothing to do
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{emu.base_url}{emu.token}/getMe")
    async with request:  # a new session after a shutdown
        assert not request.is_closed
        assert await request.post(f"{emu.base_url}{emu.token}/getMe")
    assert request.is_closed


async def test_the_bot_speaks_aiohttp_by_default_and_closes_it_on_stop(
    settings: Settings, emulator: BotApiEmulator
) -> None:
    application = build_application(settings)
    calls, polls = application.bot.request, application.bot._request[0]
    assert isinstance(calls, AiohttpRequest) and isinstance(polls, AiohttpRequest)
    assert calls is not polls
    async with running(application):
        assert not calls.is_closed and not polls.is_closed
        user = emulator.user(2002, language_code="fr")
        await user.send("/help")
        await emulator.wait_idle()
        assert user.texts()  # answered through aiohttp
        assert any(c.method == "getUpdates" and c.ok for c in emulator.calls)
    assert calls.is_closed and polls.is_closed
    assert emulator.rejected == []


async def test_a_request_given_to_the_bot_is_used_for_its_calls(
    settings: Settings, emulator: BotApiEmulator
) -> None:
    given = httpx_request(read_timeout=1.0)
    application = build_application(settings, request=given)
    assert application.bot.request is given
    assert isinstance(application.bot._request[0], AiohttpRequest)
