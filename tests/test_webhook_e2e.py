"""End to end by webhook: the real Application behind the emulator's stand-in for the load
balancer, one worker or two on the same database."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from telegram.ext import Application

from bot.app import build_application, is_handling_updates, running_webhook
from bot.handlers.flood import FLOOD_KEY
from bot.outbox import PACE_SHARE
from bot.pacing import EvenRateLimiter
from bot.runtime import RUNTIME_KEY
from bot.settings import Settings
from bot.webhook import SECRET_HEADER, WebhookServer, webhook_secret
from flows.journey import Journey
from tests import stored
from tests.conftest import create_workshop, stored_answers
from tests.helpers import answer_prompts, onboard, reflection, until
from tgemu import BotApiEmulator

ORIGIN = "https://bot.example.org"
URL = f"{ORIGIN}/telegram"


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """Telegram retries a failed delivery after a while; here, soon."""
    async with BotApiEmulator(webhook_retry_delay=0.2, webhook_timeout=5.0) as emu:
        yield emu


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    return replace(settings, webhook_url=URL, webhook_listen=("127.0.0.1", 0))


@asynccontextmanager
async def worker(
    settings: Settings, emulator: BotApiEmulator, *, grace: float = 10.0
) -> AsyncIterator[WebhookServer]:
    """A fresh Application on the settings' database, receiving updates by webhook."""
    application = build_application(settings)
    unwatch = emulator.watch(lambda: is_handling_updates(application))
    try:
        async with running_webhook(application, grace=grace) as server:
            yield server
    finally:
        unwatch()


def local(server: WebhookServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def row_counts(database: str) -> dict[str, int]:
    with stored.connect(database) as conn:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in stored.tables(database)
        }


def assert_nothing_refused(emulator: BotApiEmulator) -> None:
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []
    # Updates came by webhook only: the bot never polled.
    assert not any(c.method == "getUpdates" for c in emulator.calls)


async def test_a_participant_answers_phase_one_over_webhooks(
    webhook_settings: Settings, emulator: BotApiEmulator, journey: Journey
) -> None:
    async with worker(webhook_settings, emulator) as server:
        emulator.route_webhook(ORIGIN, [local(server)])
        registered = [c for c in emulator.calls if c.method == "setWebhook"]
        assert len(registered) == 1 and registered[0].ok
        params = registered[0].params
        assert params["url"] == URL and params["secret_token"] == webhook_secret(webhook_settings)
        assert "message" in params["allowed_updates"]
        assert "callback_query" in params["allowed_updates"]
        assert params["max_connections"] == 40

        code = await create_workshop(emulator)
        camille = emulator.user(1001, first_name="Camille", language_code="fr")
        category = journey.categories[0]
        await onboard(emulator, camille, code, category=category.label["fr"], language="fr")
        assert "Moment 1 sur 9" in (camille.last.text or "")
        expected = await answer_prompts(emulator, camille, journey.live_prompts(), "fr")
        assert "Phase 2" in (camille.last.text or "")
    assert stored_answers(webhook_settings.database, 1001) == expected
    assert emulator.deliveries and all(d.ok for d in emulator.deliveries)
    assert all(d.target == local(server) for d in emulator.deliveries)
    assert_nothing_refused(emulator)
    # Stopping one worker leaves the webhook in place for the others.
    assert not any(c.method == "deleteWebhook" for c in emulator.calls)
    assert emulator.state.webhook is not None


async def test_a_request_without_the_secret_changes_nothing(
    webhook_settings: Settings, emulator: BotApiEmulator
) -> None:
    async with worker(webhook_settings, emulator) as server:
        emulator.route_webhook(ORIGIN, [local(server)])
        await create_workshop(emulator)
        before = row_counts(webhook_settings.database)
        calls = len(emulator.calls)
        organiser = emulator.user(500)
        forged = {
            "update_id": 999_999_999,
            "message": {
                "message_id": 77,
                "date": int(time.time()),
                "chat": organiser.as_chat(),
                "from": organiser.as_user(),
                "text": "/newsession Forged",
                "entities": [{"type": "bot_command", "offset": 0, "length": 11}],
            },
        }
        secret = webhook_secret(webhook_settings)
        async with aiohttp.ClientSession() as session:

            async def post(headers: dict[str, str], **body: object) -> int:
                async with session.post(
                    f"{local(server)}/telegram", headers=headers, **body
                ) as response:
                    return response.status

            assert await post({}, json=forged) == 403
            assert await post({SECRET_HEADER: "wrong"}, json=forged) == 403
            assert await post({SECRET_HEADER: secret[:-1]}, json=forged) == 403
            assert await post({SECRET_HEADER: "é" + secret}, json=forged) == 403
            # The right secret and a body that is not an update: 400.
            assert await post({SECRET_HEADER: secret}, data=b"{not json") == 400
            assert await post({SECRET_HEADER: secret}, json=[1, 2]) == 400
            assert await post({SECRET_HEADER: secret}, json={"message": {}}) == 400
            assert await post({SECRET_HEADER: secret}, json={"update_id": "x"}) == 400
            await emulator.wait_idle()
            assert len(emulator.calls) == calls  # the bot called nothing
            assert row_counts(webhook_settings.database) == before
            # The same update with the secret is handled: the refusals were the secret's.
            assert await post({SECRET_HEADER: secret}, json=forged) == 200
            await emulator.wait_idle()
            assert len(emulator.calls) > calls
            assert row_counts(webhook_settings.database)["workshops"] == before["workshops"] + 1
    assert_nothing_refused(emulator)


async def test_the_update_in_hand_when_a_worker_stops_is_handled_once_by_another(
    webhook_settings: Settings, emulator: BotApiEmulator, journey: Journey
) -> None:
    """The worker stops while its reply to a typed answer is held (as by a slow network):
    after the grace period the update is left unanswered, Telegram delivers it again, to
    the next worker, and the answer is stored once."""
    first_text = next(i for i, p in enumerate(journey.live_prompts()) if p.kind == "text")
    prompt = journey.live_prompts()[first_text]
    camille = emulator.user(1001, first_name="Camille", language_code="fr")
    database = webhook_settings.database
    async with worker(webhook_settings, emulator, grace=0.2) as first:
        emulator.route_webhook(ORIGIN, [local(first)])
        code = await create_workshop(emulator)
        category = journey.categories[0]
        await onboard(emulator, camille, code, category=category.label["fr"], language="fr")
        await answer_prompts(emulator, camille, journey.live_prompts()[:first_text], "fr")
        emulator.time_out(camille.id)  # its next reply in that chat gets no answer
        shown = len(camille.messages)
        update_id = await camille.send(reflection(prompt, "fr"))
        await until(lambda: len(emulator.timed_out) == 0 and emulator.state.in_flight > 0)
    # The first worker is gone without answering that update.
    assert [d.ok for d in emulator.deliveries if d.update_id == update_id] == [False]
    assert len(camille.messages) == shown
    async with worker(webhook_settings, emulator) as second:
        emulator.route_webhook(ORIGIN, [local(second)])
        await until(lambda: len(camille.messages) > shown)
        await emulator.wait_idle()
    # Failed while no worker was up (as many times as the second took to start), then
    # answered once.
    outcomes = [d.ok for d in emulator.deliveries if d.update_id == update_id]
    assert outcomes[-1] and outcomes.count(True) == 1
    assert stored_answers(database, 1001)[prompt.id] == reflection(prompt, "fr")
    with stored.connect(database) as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM answers WHERE question_id = ?", (prompt.id,)
        ).fetchone()
        (claimed,) = conn.execute(
            "SELECT COUNT(*) FROM processed_updates WHERE update_id = ?", (update_id,)
        ).fetchone()
    assert (count, claimed) == (1, 1)
    assert prompt.id not in (camille.last.text or "")  # the participant moved on
    assert_nothing_refused(emulator)


async def test_two_workers_behind_a_load_balancer_handle_each_update_once(
    webhook_settings: Settings, emulator: BotApiEmulator, journey: Journey
) -> None:
    async with (
        worker(webhook_settings, emulator) as one,
        worker(webhook_settings, emulator) as two,
    ):
        emulator.route_webhook(ORIGIN, [local(one), local(two)])
        code = await create_workshop(emulator)
        people = [
            emulator.user(2001 + n, first_name=f"P{n}", language_code=language)
            for n, language in enumerate(["fr", "en", "fr", "en"])
        ]
        expected: dict[int, dict[str, str]] = {}
        for n, person in enumerate(people):
            category = journey.categories[n % len(journey.categories)]
            language = person.language_code or "fr"
            await onboard(
                emulator, person, code, category=category.label[language], language=language
            )
            expected[person.id] = await answer_prompts(
                emulator, person, journey.live_prompts()[:4], language
            )
    for person in people:
        assert stored_answers(webhook_settings.database, person.id) == expected[person.id]
    delivered = [d.update_id for d in emulator.deliveries if d.ok]
    assert len(delivered) == len(set(delivered))  # each update answered once
    assert all(d.ok for d in emulator.deliveries)
    targets = {d.target for d in emulator.deliveries}
    assert targets == {local(one), local(two)}  # both workers took their share
    assert_nothing_refused(emulator)


async def test_coopbot_run_webhook_serves_until_sigterm(
    tmp_path: Path, emulator: BotApiEmulator
) -> None:
    """`coopbot run --webhook` (a process of its own) registers the webhook, answers an
    update that came through it, and on SIGTERM stops, leaving the webhook registered."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": emulator.token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "COOPBOT_DB": str(tmp_path / "bot.sqlite3"),
        "COOPBOT_WEBHOOK_SECRET": "a-secret_of-the-deployment",
    }
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--webhook",
        "--listen",
        f"127.0.0.1:{port}",
        "--public-url",
        URL,
        env=environment,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await until(lambda: any(c.method == "setWebhook" for c in emulator.calls), 60)
        (registered,) = [c for c in emulator.calls if c.method == "setWebhook"]
        assert registered.params["secret_token"] == "a-secret_of-the-deployment"
        emulator.route_webhook(ORIGIN, [f"http://127.0.0.1:{port}"])
        camille = emulator.user(1001, first_name="Camille", language_code="en")
        await camille.send("/help")
        await until(lambda: len(camille.messages) >= 1, 30)
    finally:
        bot.send_signal(signal.SIGTERM)
        _, error = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode == 0, error.decode()
    assert "Traceback" not in error.decode()
    assert all(d.ok for d in emulator.deliveries)
    assert not any(c.method in ("deleteWebhook", "getUpdates") for c in emulator.calls)
    assert emulator.state.webhook is not None


async def test_two_workers_share_telegrams_limit(
    webhook_settings: Settings, emulator: BotApiEmulator, server_database: str
) -> None:
    """Each worker keeps to its share of the messages a second once both said they are
    alive, and to the whole again once the other stopped. A user's own limits (the flood
    control, wrong join codes) are each worker's whole: a load balancer need not spread one
    user's updates evenly, and a share would slow down whoever it did not."""
    shared = replace(
        webhook_settings, database=server_database, flood_limit=20, messages_per_second=30
    )
    async with worker(shared, emulator) as one:
        first = one.application
        emulator.route_webhook(ORIGIN, [local(one)])
        await create_workshop(emulator)  # an update through: the flood window exists

        async def beat(application: Application) -> None:
            assert application.job_queue is not None
            (job,) = application.job_queue.get_jobs_by_name("workers")
            await job.run(application)

        def shares(application: Application) -> tuple[int, float, int | None, int]:
            """Workers counted, the pace's share, a user's updates and wrong codes allowed."""
            state = application.bot_data[RUNTIME_KEY]
            limiter = application.bot.rate_limiter
            assert isinstance(limiter, EvenRateLimiter)
            flood = application.bot_data.get(FLOOD_KEY)  # made at a worker's first update
            return (
                state.workers_sharing,
                round(limiter.overall.interval * limiter.rate, 6),
                flood.limit if flood is not None else None,
                state.service.wrong_codes.limit,
            )

        await beat(first)
        assert shares(first) == (1, 1.0, 20, 10)
        async with worker(shared, emulator) as two:
            await beat(two.application)
            await beat(first)
            assert shares(first) == (2, 2.0, 20, 10)
            assert shares(two.application) == (2, 2.0, None, 10)
            sender = first.bot_data[RUNTIME_KEY].sender
            assert sender.pace.interval == pytest.approx(2 / (30 * PACE_SHARE))
        # The second stopped, and said so: the first has the whole limit again at once.
        await beat(first)
        assert shares(first) == (1, 1.0, 20, 10)
