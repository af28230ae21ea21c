"""The live screen across two webhook workers on one PostgreSQL database: a page open on
one worker follows a vote the other handled at once, not at its next look, and a Mini
App's ticket issued by one worker opens the event stream on the other, once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest
from telegram.ext import Application

from bot.app import build_application, is_handling_updates, running_webhook
from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings
from bot.web.hub import REFRESH
from bot.web.server import TICKET_LIFE
from bot.webhook import WebhookServer
from flows.journey import Journey
from storage.db import utc_now
from tests import stored
from tests.conftest import ORGANISER_ID, create_workshop
from tests.helpers import answer_prompts, onboard, until
from tests.test_screen_e2e import (
    FIRST_USER,
    EventStream,
    Received,
    _quoted,
    init_data,
    joined,
    web_of,
)
from tgemu import BotApiEmulator

ORIGIN = "https://bot.example.org"


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """Telegram retries a failed delivery after a while; here, soon."""
    async with BotApiEmulator(webhook_retry_delay=0.2, webhook_timeout=5.0) as emu:
        yield emu


@pytest.fixture
def workers_settings(settings: Settings, server_database: str) -> Settings:
    """Webhook workers on one PostgreSQL database, each with its web server."""
    return replace(
        settings,
        database=server_database,
        webhook_url=f"{ORIGIN}/telegram",
        webhook_listen=("127.0.0.1", 0),
        web_listen=("127.0.0.1", 0),
        messages_per_second=1000,
    )


@asynccontextmanager
async def worker(
    settings: Settings, emulator: BotApiEmulator
) -> AsyncIterator[tuple[Application, WebhookServer]]:
    """A fresh Application on the settings' database, receiving updates by webhook."""
    application = build_application(settings)
    unwatch = emulator.watch(lambda: is_handling_updates(application))
    try:
        async with running_webhook(application) as server:
            yield application, server
    finally:
        unwatch()


def local(server: WebhookServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def rows(database: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    with stored.connect(database) as conn:
        return [tuple(row) for row in conn.execute(sql, args).fetchall()]


def runtime(application: Application) -> Runtime:
    state: Runtime = application.bot_data[RUNTIME_KEY]
    return state


async def test_a_page_on_one_worker_follows_an_answer_handled_by_the_other(
    workers_settings: Settings, emulator: BotApiEmulator, journey: Journey
) -> None:
    database = workers_settings.database
    async with (
        worker(workers_settings, emulator) as (one, _),
        worker(workers_settings, emulator) as (_, two),
    ):
        # Every update goes to the second worker; the page is open on the first, which
        # handles none of them.
        emulator.route_webhook(ORIGIN, [local(two)])
        organiser = emulator.user(ORGANISER_ID)
        code = await create_workshop(emulator)
        await organiser.send("/screen")
        await emulator.wait_idle()
        [(token,)] = rows(database, "SELECT token FROM screen_links")
        page = web_of(one)
        received = Received()
        async with (
            aiohttp.ClientSession() as session,
            EventStream(session, f"{page.base_url}/s/{token}/events", received) as stream,
        ):
            first = await stream.next_where(lambda e: True)
            assert first["phase"] == "joining"
            user = emulator.user(FIRST_USER, first_name="Prénomunique")
            await onboard(emulator, user, code, category="Élu ou élue", language="fr")
            joining = await stream.next_where(
                lambda e: e["phase"] == "phase1" and joined(e, "elu") == "—", within=REFRESH + 1
            )
            # Every answer of the first moment but its last, then the last one, which
            # takes the participant to the second moment: the page changes.
            moment = [p for p in journey.live_prompts() if p.moment_number == 1]
            await answer_prompts(emulator, user, moment[:-1], "fr")
            # Right after a look of the first worker's own (its tick, without the other's
            # word): its next tick is seconds away.
            passes = page.hub.passes
            await until(lambda: page.hub.passes > passes, REFRESH + 1)
            last = stream.events[-1]
            sent = time.monotonic()
            answering = asyncio.create_task(answer_prompts(emulator, user, moment[-1:], "fr"))
            moved = await stream.next_where(
                lambda e: e["version"] > last["version"], within=REFRESH + 1
            )
            shown = time.monotonic() - sent
            await answering
        # Not a timing benchmark: a bound that the first worker's own tick (every REFRESH
        # s) would miss, met only because the second worker told it.
        assert shown < 2.0, shown
        assert joining["version"] > first["version"]
        assert moved["html"] != last["html"] and moved["phase"] == "phase1"
        assert rows(database, "SELECT COUNT(*) FROM answers") == [(len(moment),)]
    # Every update went to the second worker.
    assert {d.target for d in emulator.deliveries} == {local(two)}
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []


async def test_a_ticket_one_worker_issued_opens_the_stream_on_the_other_once(
    workers_settings: Settings, emulator: BotApiEmulator
) -> None:
    database = workers_settings.database
    async with (
        worker(workers_settings, emulator) as (one, server),
        worker(workers_settings, emulator) as (two, _),
    ):
        emulator.route_webhook(ORIGIN, [local(server)])
        organiser = emulator.user(ORGANISER_ID)
        await create_workshop(emulator)
        [(workshop_id,)] = rows(database, "SELECT id FROM workshops")
        signed = init_data(emulator.token, organiser)
        issuer, other = (f"{web_of(w).base_url}/app/{workshop_id}" for w in (one, two))
        received = Received()
        async with aiohttp.ClientSession() as session:

            async def ticket() -> str:
                status, body = await received.post(session, f"{issuer}/ticket", signed)
                assert status == 200
                return str(json.loads(body)["ticket"])

            # Issued by the first, used on the second: the stream opens, once.
            events = f"{other}/events?ticket={_quoted(await ticket())}"
            async with EventStream(session, events, received) as stream:
                event = await stream.next_where(lambda e: True)
                assert event["phase"] == "joining" and "data-join-qr" in event["html"]
                assert (await received.get(session, events))[0] == 403
                used_on_issuer = events.replace(other, issuer)
                assert (await received.get(session, used_on_issuer))[0] == 403
            assert rows(database, "SELECT COUNT(*) FROM screen_tickets") == [(0,)]

            # One used after its life, on the other worker: refused.
            late = f"{other}/events?ticket={_quoted(await ticket())}"
            runtime(two).clock = lambda: utc_now() + TICKET_LIFE + timedelta(seconds=1)
            assert (await received.get(session, late))[0] == 403
            # The expired ones go when the next one is issued.
            runtime(one).clock = lambda: utc_now() + TICKET_LIFE + timedelta(seconds=1)
            fresh = await ticket()
            assert rows(database, "SELECT ticket FROM screen_tickets") == [(fresh,)]
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []
