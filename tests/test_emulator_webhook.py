"""The emulator delivers updates to a webhook the way Telegram does: in order, with the
secret header, again after a failure, within max_connections, through a stand-in for the
load balancer."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram.error import BadRequest, Conflict

from tests.helpers import until
from tgemu import BotApiEmulator

PUBLIC = "https://bot.example.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Receiver:
    """A local webhook endpoint that records what it gets and answers `status`."""

    port: int = 0
    status: int = 200
    hold: asyncio.Event | None = None  # when set, each request waits for it
    received: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # update_id, headers
    paths: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ids(self) -> list[int]:
        return [update_id for update_id, _ in self.received]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold is not None:
                await self.hold.wait()
            self.received.append((int(body["update_id"]), dict(request.headers)))
            self.paths.append(request.path_qs)
            return web.Response(status=self.status)
        finally:
            self.in_flight -= 1


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", receiver.port)
    await site.start()
    receiver.port = int(runner.addresses[0][1])
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        await runner.cleanup()


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(webhook_retry_delay=0.2, webhook_timeout=2.0) as emulator:
        yield emulator


@pytest.fixture
async def tg(emu: BotApiEmulator) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url
    ) as bot:
        yield bot


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def send_texts(emu: BotApiEmulator, texts: list[str], user_id: int = 1001) -> list[int]:
    user = emu.user(user_id)
    return [await user.send(text) for text in texts]


async def test_updates_are_posted_in_order_with_the_secret_header(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    async with receiving(Receiver()) as receiver:
        emu.route_webhook(PUBLIC, [receiver.origin])
        assert await tg.set_webhook(
            f"{PUBLIC}/hook?x=1", secret_token="s3cr3t_-X", max_connections=1
        )
        ids = await send_texts(emu, ["un", "deux", "trois", "quatre"])
        await emu.wait_idle()
        assert receiver.ids == ids
        assert all(headers[SECRET_HEADER] == "s3cr3t_-X" for _, headers in receiver.received)
        assert set(receiver.paths) == {"/hook?x=1"}  # same path and query as registered
        info = await tg.get_webhook_info()
        assert info.pending_update_count == 0 and info.last_error_date is None
        assert [d.ok for d in emu.deliveries] == [True] * 4


async def test_no_secret_header_without_a_secret(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    async with receiving(Receiver()) as receiver:
        emu.route_webhook(PUBLIC, [receiver.origin])
        await tg.set_webhook(PUBLIC)
        await send_texts(emu, ["bonjour"])
        await emu.wait_idle()
        assert len(receiver.received) == 1 and SECRET_HEADER not in receiver.received[0][1]
        assert receiver.paths == ["/"]


async def test_a_500_keeps_the_update_and_it_is_delivered_again(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    async with receiving(Receiver(status=500)) as receiver:
        emu.route_webhook(PUBLIC, [receiver.origin])
        await tg.set_webhook(PUBLIC, max_connections=1)
        (first,) = await send_texts(emu, ["bonjour"])
        await until(lambda: len(receiver.received) >= 1)
        info = await tg.get_webhook_info()
        assert info.pending_update_count == 1
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert info.last_error_date is not None
        assert abs(info.last_error_date.timestamp() - time.time()) < 5
        with pytest.raises(TimeoutError):  # an update still pending is not idle
            await emu.wait_idle(timeout=0.5)
        receiver.status = 200
        await emu.wait_idle()
        assert receiver.ids[-1] == first and len(receiver.ids) >= 2
        assert set(receiver.ids) == {first}
        failed = [d for d in emu.deliveries if not d.ok]
        assert failed and all(d.status == 500 for d in failed)
        # Each retry came after the configured delay.
        starts = [d.started for d in emu.deliveries]
        assert all(b - a >= 0.19 for a, b in itertools.pairwise(starts))
        info = await tg.get_webhook_info()
        assert info.pending_update_count == 0
        # Telegram keeps the last error after later successes.
        assert info.last_error_message is not None


async def test_a_refused_connection_is_retried(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    receiver = Receiver(port=free_port())
    emu.route_webhook(PUBLIC, [receiver.origin])
    await tg.set_webhook(PUBLIC)
    ids = await send_texts(emu, ["un", "deux"])
    await until(lambda: len(emu.deliveries) >= 2)
    info = await tg.get_webhook_info()
    assert info.last_error_message == "Connection refused"
    assert info.pending_update_count == 2
    async with receiving(receiver):  # the bot comes up on that port
        await emu.wait_idle()
        assert receiver.ids == ids
    assert (await tg.get_webhook_info()).pending_update_count == 0


async def test_no_answer_in_time_is_a_failed_delivery(tg: telegram.Bot) -> None:
    async with BotApiEmulator(webhook_retry_delay=0.2, webhook_timeout=0.3) as emu:
        hold = asyncio.Event()
        async with (
            telegram.Bot(emu.token, base_url=emu.base_url) as bot,
            receiving(Receiver(hold=hold)) as receiver,
        ):
            emu.route_webhook(PUBLIC, [receiver.origin])
            await bot.set_webhook(PUBLIC)
            await send_texts(emu, ["bonjour"])
            await until(lambda: len(emu.deliveries) >= 1)
            assert (await bot.get_webhook_info()).last_error_message == "Read timeout expired"
            hold.set()
            await emu.wait_idle()
            assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_an_unrouted_url_fails_without_reaching_the_network(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    await tg.set_webhook("https://nowhere.example.org/hook")
    await send_texts(emu, ["bonjour"])
    await until(lambda: len(emu.deliveries) >= 1)
    assert emu.deliveries[0].target is None
    info = await tg.get_webhook_info()
    assert info.last_error_message == "Failed to resolve host: Name or service not known"
    assert info.pending_update_count == 1


async def test_max_connections_bounds_the_deliveries_in_flight(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    hold = asyncio.Event()
    async with receiving(Receiver(hold=hold)) as receiver:
        emu.route_webhook(PUBLIC, [receiver.origin])
        await tg.set_webhook(PUBLIC, max_connections=3)
        ids = [await emu.user(1001 + n).send("bonjour") for n in range(8)]
        await until(lambda: receiver.in_flight == 3)
        await asyncio.sleep(0.2)  # no fourth one comes while three are unanswered
        assert receiver.in_flight == 3 and emu.webhook_in_flight == 3
        with pytest.raises(TimeoutError):  # deliveries in flight are not idle
            await emu.wait_idle(timeout=0.3)
        hold.set()
        await emu.wait_idle()
        assert receiver.most_in_flight == 3
        assert sorted(receiver.ids) == ids
        assert (await tg.get_webhook_info()).max_connections == 3


async def test_deliveries_go_round_robin_over_two_targets(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    async with receiving(Receiver()) as one, receiving(Receiver()) as two:
        emu.route_webhook(PUBLIC, [one.origin, two.origin])
        await tg.set_webhook(PUBLIC, max_connections=1)
        ids = await send_texts(emu, ["a", "b", "c", "d", "e", "f"])
        await emu.wait_idle()
        assert one.ids == ids[0::2] and two.ids == ids[1::2]
        assert [d.target for d in emu.deliveries] == [one.origin, two.origin] * 3


async def test_a_dead_target_is_skipped_on_the_retry(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    dead = Receiver(port=free_port())
    async with receiving(Receiver()) as alive:
        emu.route_webhook(PUBLIC, [dead.origin, alive.origin])
        await tg.set_webhook(PUBLIC, max_connections=1)
        ids = await send_texts(emu, ["a", "b", "c"])
        await emu.wait_idle()
        assert alive.ids == ids  # each once: the failed tries on the dead one were retried
        assert {d.target for d in emu.deliveries if not d.ok} == {dead.origin}
        assert all(d.error == "Connection refused" for d in emu.deliveries if not d.ok)


async def test_get_updates_is_refused_while_a_webhook_is_set(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    await tg.set_webhook("https://nowhere.example.org/hook")
    (update_id,) = await send_texts(emu, ["bonjour"])
    with pytest.raises(Conflict):
        await tg.get_updates()
    assert await tg.delete_webhook()
    # The update that could not be delivered is still there for the long poll.
    assert [u.update_id for u in await tg.get_updates()] == [update_id]
    info = await tg.get_webhook_info()
    assert info.url == "" and info.last_error_message is None


async def test_set_webhook_checks_its_parameters(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match="https url"):
        await tg.set_webhook("http://bot.example.org")
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await tg.set_webhook(PUBLIC, secret_token="not allowed!")
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await tg.set_webhook(PUBLIC, secret_token="x" * 257)
    with pytest.raises(BadRequest, match=r"(?i)max_connections"):
        await tg.set_webhook(PUBLIC, max_connections=101)
    status, body = await raw_call(emu, "setWebhook", {"url": PUBLIC, "secret": "x"})
    assert status == 400 and "secret" in body["description"]  # unknown parameter
    assert (await tg.get_webhook_info()).url == ""


async def test_allowed_updates_of_the_webhook_filter_deliveries(
    emu: BotApiEmulator, tg: telegram.Bot
) -> None:
    async with receiving(Receiver()) as receiver:
        emu.route_webhook(PUBLIC, [receiver.origin])
        await tg.set_webhook(PUBLIC, allowed_updates=["callback_query"])
        await send_texts(emu, ["ignored"])
        await emu.wait_idle()
        assert receiver.received == []
        assert (await tg.get_webhook_info()).allowed_updates == ("callback_query",)


async def test_a_redelivered_update_is_posted_again(emu: BotApiEmulator, tg: telegram.Bot) -> None:
    async with receiving(Receiver()) as receiver:
        emu.route_webhook(PUBLIC, [receiver.origin])
        await tg.set_webhook(PUBLIC)
        (update_id,) = await send_texts(emu, ["bonjour"])
        await emu.wait_idle()
        emu.redeliver(update_id)
        await emu.wait_idle()
        assert receiver.ids == [update_id, update_id]


async def raw_call(emu: BotApiEmulator, method: str, data: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.base_url}{emu.token}/{method}", json=data) as response,
    ):
        return response.status, await response.json()
