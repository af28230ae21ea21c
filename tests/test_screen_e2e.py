"""The live screen end to end: the real bot, the emulator, a real SQLite file and the real
web server on 127.0.0.1, read with an HTTP client as a browser would. `/screen` gives the
address (refused, changing nothing, to anyone else), the page and its event stream follow
an answer and a vote within two seconds, a revoked or unknown link answers 404, the Mini
App's stream opens only on init data Telegram signed for a facilitator, and nothing the
server sent holds a participant's Telegram id, first name or username."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from html import escape
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from telegram.ext import Application

from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings
from bot.web.hub import DEBOUNCE
from flows.journey import Journey
from reports.text import translator
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop, facilitator_code
from tests.helpers import (
    VOTE_LABELS,
    Plan,
    in_lockstep,
    onboard,
    plan_onboarding,
    plan_phase_one,
    plan_phase_two,
)
from tgemu import BotApiEmulator, EmulatedUser

fr = translator("fr")
NEW_LINK = "🔄 " + fr("New link")
REVOKE = "🚫 " + fr("Revoke")
SCREEN_URL = re.compile(r"(http://127\.0\.0\.1:\d+)/s/([A-Za-z0-9_-]+)")
FIRST_USER = 81_234_560  # participants' Telegram ids: long enough never to be a count
REFUSED = "Seule l'équipe d'animation"


def rows(database: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with stored.connect(database) as conn:
        return conn.execute(sql, args).fetchall()


def screen_settings(settings: Settings, **changes: Any) -> Settings:
    """The bot with its web server on a free port of 127.0.0.1, sending fast."""
    return replace(settings, web_listen=("127.0.0.1", 0), messages_per_second=1000, **changes)


def web_of(application: Application) -> Any:
    state: Runtime = application.bot_data[RUNTIME_KEY]
    assert state.web is not None
    return state.web


class Received:
    """Every byte the server sent to the test: pages, 404s and event streams."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def get(self, session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
        async with session.get(url) as response:
            body = await response.read()
        self.chunks.append(body)
        return response.status, body.decode()

    async def post(self, session: aiohttp.ClientSession, url: str, data: str) -> tuple[int, str]:
        async with session.post(url, data=data.encode()) as response:
            body = await response.read()
        self.chunks.append(body)
        return response.status, body.decode()

    def scan(self, users: list[EmulatedUser], names: list[str]) -> None:
        """No participant's Telegram id, first name or username anywhere in what came."""
        seen = b"".join(self.chunks).decode()
        assert len(seen) > 1000  # the pages and events were read
        for user in users:
            assert str(user.id) not in seen
        for name in names:
            assert name not in seen, name


class EventStream:
    """An open `text/event-stream`, read in the background: each event's JSON."""

    def __init__(self, session: aiohttp.ClientSession, url: str, received: Received) -> None:
        self.session, self.url, self.received = session, url, received
        self.events: list[dict[str, Any]] = []
        self.comments = 0
        self.ended = False
        self._arrived = asyncio.Event()
        self._response: aiohttp.ClientResponse | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventStream:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        self._response = await self.session.get(self.url, timeout=timeout)
        assert self._response.status == 200
        assert self._response.headers["Content-Type"].startswith("text/event-stream")
        assert self._response.headers["Cache-Control"] == "no-cache"
        self._task = asyncio.get_running_loop().create_task(self._read(self._response))
        return self

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        data: list[str] = []
        try:
            async for line in response.content:
                self.received.chunks.append(line)
                text = line.decode().rstrip("\r\n")
                if text.startswith("data:"):
                    data.append(text[5:].strip())
                elif text.startswith(":"):
                    self.comments += 1
                elif not text and data:
                    self.events.append(json.loads("\n".join(data)))
                    data = []
                    self._arrived.set()
        except aiohttp.ClientError:
            pass
        self.ended = True
        self._arrived.set()

    async def next_where(
        self, check: Callable[[dict[str, Any]], bool], *, within: float = 2.0
    ) -> dict[str, Any]:
        """The first event (already received or coming within `within` s) that passes."""
        deadline = time.monotonic() + within
        seen = 0
        while True:
            for event in self.events[seen:]:
                if check(event):
                    return event
            seen = len(self.events)
            left = deadline - time.monotonic()
            if left <= 0 or self.ended:
                raise AssertionError(f"no such event within {within} s: {self.events[-1:]}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def until_ended(self, *, within: float = 2.0) -> None:
        deadline = time.monotonic() + within
        while not self.ended and time.monotonic() < deadline:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
        assert self.ended

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._response.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def joined(event: dict[str, Any], category: str) -> str | None:
    found = re.search(rf'data-joined="{category}">([^<]*)<', event["html"])
    return found.group(1) if found else None


def total_joined(html: str) -> int:
    found = re.search(r"data-joined-total>([^<]*)<", html)
    assert found is not None
    return int(found.group(1))


def caucus_share(html: str, category: str) -> str | None:
    """The share of its caucus votes a group gave, as the page shows it (a whole number)."""
    found = re.search(rf'data-progress="{category}">.*?Votes exprimés\u00a0: (\d+)', html)
    return found.group(1) if found else None


def consensus_count(html: str) -> str | None:
    """How many statements the one-line summary under the room's vote counts as common
    ground."""
    found = re.search(r"data-consensus-count>([^<]*)<", html)
    return found.group(1) if found else None


def tally(html: str, category: str) -> dict[str, int] | None:
    """A group's tally on the room's statement (None: not shown)."""
    found = re.search(
        rf'data-tally="{category}" data-agree="(\d+)" data-disagree="(\d+)" data-pass="(\d+)"',
        html,
    )
    if found is None:
        return None
    return dict(zip(("agree", "disagree", "pass"), map(int, found.groups()), strict=True))


async def screen_link(emulator: BotApiEmulator, user: EmulatedUser, command: str) -> str:
    """Send `/screen …` and read the page's address in the reply."""
    await user.send(command)
    await emulator.wait_idle()
    texts = [m.text for m in user.messages[-2:] if m.text]
    found = [match for text in texts if (match := SCREEN_URL.search(text))]
    assert found, user.messages[-2:]
    return found[-1].group(0)


async def twelve_through_phase_two(
    emulator: BotApiEmulator, journey: Journey, code: str, first: int
) -> list[Plan]:
    """Twelve participants, three per category, through both phases in lockstep."""
    plans = []
    for index in range(12):
        language = "en" if index % 3 == 2 else "fr"
        user = emulator.user(
            FIRST_USER + first + index,
            first_name=f"Prénomécran{index}",
            username=f"pseudo_ecran_{index}",
            language_code=language,
        )
        plan = Plan(user, language, journey.categories[index % 4].id)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    return plans


@pytest.fixture
async def screen_bot(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[Application]:
    async with bot_running(screen_settings(settings), emulator) as application:
        yield application
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []


async def test_the_page_follows_an_answer_and_a_vote_and_a_revoked_link_is_gone(
    emulator: BotApiEmulator, screen_bot: Application, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    organiser = emulator.user(ORGANISER_ID)
    web = web_of(screen_bot)
    assert web.base_url.startswith("http://127.0.0.1:") and not web.base_url.endswith(":0")
    code = await create_workshop(emulator)
    await organiser.send("/review off")  # the groups' choice (the caucus) stays on
    await emulator.wait_idle()

    # /ecran (the French name): the address, its buttons and its QR code.
    url = await screen_link(emulator, organiser, "/ecran")
    assert url.startswith(web.base_url + "/s/")
    reply = next(m for m in reversed(organiser.messages) if m.text and url in m.text)
    assert reply.labels == [NEW_LINK, REVOKE]  # no Mini App over http
    assert organiser.last.kind == "photo" and organiser.last.file_bytes
    [(token, language)] = rows(database, "SELECT token, language FROM screen_links")
    assert url.endswith(token) and len(token) >= 32 and language == "fr"
    # Asked again: the same address.
    assert await screen_link(emulator, organiser, "/screen") == url
    assert rows(database, "SELECT COUNT(*) FROM screen_links") == [(1,)]

    received = Received()
    users: list[EmulatedUser] = []
    names: list[str] = []
    async with aiohttp.ClientSession() as session:
        status, page = await received.get(session, url)
        assert status == 200
        assert '<main id="screen" data-version="1" data-phase="joining"' in page
        assert "<svg data-join-qr" in page and f"start={code}" in page
        # Who cannot scan reads the command, large, under the code.
        assert f"Ou envoyez /rejoindre <code>{code}</code> à @<b>" in page
        assert total_joined(page) == 0
        assert '<script src="/static/screen.js" defer>' in page
        for asset in ("/static/screen.js", "/static/screen.css"):
            status, body = await received.get(session, web.base_url + asset)
            assert status == 200 and len(body) > 500

        async with EventStream(session, url + "/events", received) as stream:
            first = await stream.next_where(lambda e: True)
            assert first["version"] == 1 and first["phase"] == "joining"

            # One participant joins and answers the first question: the page follows.
            first_user = emulator.user(
                FIRST_USER, first_name="Prénomunique", username="pseudo_unique"
            )
            users.append(first_user)
            names += ["Prénomunique", "pseudo_unique"]
            await onboard(emulator, first_user, code, category="Élu ou élue", language="fr")
            await stream.next_where(lambda e: joined(e, "elu") == "—")  # one: hidden
            sent = time.monotonic()
            await first_user.press("3")
            moved = await stream.next_where(lambda e: e["phase"] == "phase1")
            assert time.monotonic() - sent < 2.0
            assert moved["version"] > first["version"]
            # The headcount counts them; their group, of one, shows no figure.
            assert total_joined(moved["html"]) == 1
            assert "<svg data-join-qr" in moved["html"]

            # Twelve more, three per category, through both phases; then the room.
            plans = await twelve_through_phase_two(emulator, journey, code, first=1)
            users += [plan.user for plan in plans]
            names += [n for p in plans for n in (p.user.first_name, p.user.username or "")]
            await stream.next_where(lambda e: joined(e, "agent") == "3")
            # Through phase 2, the groups choose their statements: each group's progress.
            # (once the agents' own share shows: groups reach their caucus in any order)
            caucus = await stream.next_where(
                lambda e: e["phase"] == "caucus" and caucus_share(e["html"], "agent") is not None
            )
            assert 'data-progress="agent"' in caucus["html"]
            assert caucus_share(caucus["html"], "agent") == "0"
            # One member gives their group one vote of the twelve it may give (three
            # members, six statements, none on their own): the page follows.
            agent = next(p for p in plans if p.category == "agent")
            [(caucus_message,)] = rows(
                database,
                "SELECT caucus_message_id FROM participants WHERE user_id = ?",
                agent.user.id,
            )
            ballot = agent.user.bot_message(caucus_message)
            await agent.user.press(VOTE_LABELS[agent.language]["agree"], message=ballot)
            voted = await stream.next_where(
                lambda e: caucus_share(e["html"], "agent") not in (None, "0")
            )
            assert caucus_share(voted["html"], "agent") == "8"
            await organiser.send("/agora room")
            await emulator.wait_idle()
            room = await stream.next_where(lambda e: "data-statement=" in e["html"])
            assert room["phase"] == "agora"
            [(statement_id, number, text, source)] = rows(
                database,
                "SELECT s.id, s.number, s.text, s.source_category FROM statements s"
                " JOIN workshops w ON w.room_statement_id = s.id",
            )
            assert f'data-statement="{number}"' in room["html"]
            assert "data-votes-total>" in room["html"]

            # Everyone votes but the last member of a group: that group stays hidden until
            # the vote that makes it three, which the page shows within two seconds.
            voters = [p for p in plans if p.category != source]
            last = voters[-1]
            passes, burst = web.hub.passes, time.monotonic()
            for plan in plans:
                if plan is last:
                    continue
                message = await phone_showing(database, plan.user, statement_id)
                if message is not None:
                    await plan.user.press(VOTE_LABELS[plan.language]["agree"], message=message)
            await emulator.wait_idle()
            # The votes came as a burst: the page was recomputed once per debounce, at
            # most, not once per vote.
            assert web.hub.passes - passes <= (time.monotonic() - burst) / DEBOUNCE + 1
            before = await stream.next_where(lambda e: tally(e["html"], source) is not None)
            assert tally(before["html"], last.category) is None
            # Three groups of three agree: common ground, counted in the line under the vote.
            await stream.next_where(lambda e: consensus_count(e["html"]) == "1")
            message = await phone_showing(database, last.user, statement_id)
            assert message is not None
            sent = time.monotonic()
            await last.user.press(VOTE_LABELS[last.language]["disagree"], message=message)
            after = await stream.next_where(lambda e: tally(e["html"], last.category) is not None)
            assert time.monotonic() - sent < 2.0
            assert tally(after["html"], last.category) == {"agree": 2, "disagree": 1, "pass": 0}
            assert escape(text) in after["html"]  # as everyone reads it, escaped
            # That group no longer mostly agrees: the statement leaves the common ground.
            # The agora's summary, cached while votes come, follows within about a second
            # of the last vote (not only once the next votes come or the room moves on).
            await stream.next_where(lambda e: consensus_count(e["html"]) == "0", within=1.5)
            assert time.monotonic() - sent < 1.5

            # Revoked: the page and its stream are gone; the open stream ends.
            await organiser.press(REVOKE, message=reply)
            await emulator.wait_idle()
            revoked = fr(
                "The link to the live screen of «{title}» is revoked: the address no longer "
                "opens and any screen showing it goes blank. {command} creates a new one."
            ).format(title="Atelier de la vallée", command="/ecran")
            shown = organiser.bot_message(reply.message_id)
            assert shown is not None and shown.text == revoked and not shown.buttons
            await stream.until_ended()

        # No page open now, so nothing else looks: the agora's summary, just computed, is
        # reused a moment after a vote changed it (not settled), and recomputed at the
        # next look, as the votes have stopped (the hub makes that look half a second on).
        [(workshop_id,)] = rows(database, "SELECT id FROM workshops")
        screens = web.state.screens
        screens.forget(workshop_id)
        fresh = await screens.snapshot(workshop_id)
        assert fresh.settled and len(fresh.summary.consensus) == 0
        message = await phone_showing(database, last.user, statement_id)
        assert message is not None  # a vote can be changed while it is open
        await last.user.press(VOTE_LABELS[last.language]["agree"], message=message)
        await emulator.wait_idle()
        stale = await screens.snapshot(workshop_id)
        assert not stale.settled and stale.summary == fresh.summary
        settled = await screens.snapshot(workshop_id)
        assert settled.settled and len(settled.summary.consensus) == 1
        for address in (url, url + "/events", web.base_url + "/s/" + "x" * 32):
            status, body = await received.get(session, address)
            assert status == 404 and len(body) < 100 and "screen" not in body.lower()

        # A new link: a new address that works, the old one still 404.
        await organiser.send("/screen")
        await emulator.wait_idle()
        renewed_url = SCREEN_URL.search(organiser.messages[-2].text or "")
        assert renewed_url is not None and renewed_url.group(0) != url
        await organiser.press(NEW_LINK, message=organiser.messages[-2])
        await emulator.wait_idle()
        newest = SCREEN_URL.search(organiser.messages[-2].text or "")
        assert newest is not None and newest.group(0) not in (url, renewed_url.group(0))
        assert (await received.get(session, renewed_url.group(0)))[0] == 404
        status, page = await received.get(session, newest.group(0))
        assert status == 200 and 'data-phase="agora"' in page
        assert rows(database, "SELECT COUNT(*) FROM screen_links WHERE revoked_at IS NULL") == [
            (1,)
        ]
        # The audit: the first link, its revocation, then the two new ones.
        assert rows(
            database,
            "SELECT action FROM audit WHERE action LIKE 'screen%' ORDER BY id",
        ) == [("screen_link",), ("screen_revoked",), ("screen_link",), ("screen_link",)]
    received.scan(users, names)


async def phone_showing(database: Path, user: EmulatedUser, statement_id: int) -> Any:
    """The participant's one agora message, if it offers a vote on the statement."""
    [(message_id,)] = rows(
        database, "SELECT offer_message_id FROM participants WHERE user_id = ?", user.id
    )
    message = user.bot_message(message_id) if message_id is not None else None
    offered = message is not None and any(
        (data or "").startswith(f"v:{statement_id}:") for row in message.buttons for _, data in row
    )
    return message if offered else None


async def test_screen_is_refused_to_a_participant_and_to_another_workshops_facilitator(
    emulator: BotApiEmulator, screen_bot: Application, settings: Settings
) -> None:
    database = settings.database
    organiser = emulator.user(ORGANISER_ID)
    code = await create_workshop(emulator, "Atelier du plateau")
    await create_workshop(emulator, "Atelier de la rivière")
    other = emulator.user(FIRST_USER + 50, first_name="Animatrice")
    await other.send(f"/start {facilitator_code(organiser)}")  # facilitates the second one
    await emulator.wait_idle()
    participant = emulator.user(FIRST_USER + 51, first_name="Participant")
    await onboard(emulator, participant, code, category="Élu ou élue", language="fr")

    for user, command in (
        (participant, "/screen"),
        (participant, f"/screen {code}"),
        (other, f"/ecran {code}"),
        (other, "/screen nonsense"),
    ):
        await user.send(command)
        await emulator.wait_idle()
        assert REFUSED in (user.last.text or ""), (command, user.last.text)
        assert not SCREEN_URL.search(user.last.text or "")
    assert rows(database, "SELECT COUNT(*) FROM screen_links") == [(0,)]
    # Facilitating two workshops, the organiser is asked which one.
    await organiser.send("/screen")
    await emulator.wait_idle()
    assert f"/ecran {code}" in (organiser.last.text or "")
    assert rows(database, "SELECT COUNT(*) FROM screen_links") == [(0,)]

    # A link's buttons pressed by someone else (a forwarded message) change nothing.
    url = await screen_link(emulator, organiser, f"/screen {code}")
    [(link_id,)] = rows(database, "SELECT id FROM screen_links")
    for data in (f"scr:{link_id}:r", f"scr:{link_id}:n"):
        await other.press_data(data)
        await emulator.wait_idle()
        assert REFUSED in (other.last.text or "")
    assert rows(database, "SELECT token, revoked_at FROM screen_links") == [
        (url.rpartition("/")[2], None)
    ]
    await other.press_data(f"scr:{link_id}:zz")  # a forged button
    await emulator.wait_idle()
    assert rows(database, "SELECT COUNT(*) FROM screen_links") == [(1,)]


def init_data(token: str, user: EmulatedUser, *, age: float = 60.0) -> str:
    """Init data as Telegram signs it for a Mini App opened by `user`."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user.id, "first_name": user.first_name}),
        "auth_date": str(int(time.time() - age)),
    }
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    lines = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    fields["hash"] = hmac.new(secret, lines.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


async def test_the_mini_app_opens_only_for_the_workshops_facilitators(
    emulator: BotApiEmulator, settings: Settings
) -> None:
    public = "https://screen.example.org"
    tuned = screen_settings(settings, public_url=public)
    received = Received()
    async with aiohttp.ClientSession() as session, contextlib.AsyncExitStack() as pages:
        async with bot_running(tuned, emulator) as application:
            web = web_of(application)
            organiser = emulator.user(ORGANISER_ID)
            code = await create_workshop(emulator)
            participant = emulator.user(FIRST_USER + 60, first_name="Participante")
            await onboard(emulator, participant, code, category="Élu ou élue", language="fr")
            [(workshop_id,)] = rows(settings.database, "SELECT id FROM workshops")

            # Over https, /screen also offers the page as a Mini App (tgemu accepts it).
            await organiser.send("/screen")
            await emulator.wait_idle()
            reply = organiser.messages[-2]
            assert f"{public}/s/" in (reply.text or "")
            assert reply.reply_markup is not None
            first = reply.reply_markup["inline_keyboard"][0][0]
            assert first["web_app"] == {"url": f"{public}/app/{workshop_id}"}

            app = f"{web.base_url}/app/{workshop_id}"
            status, shell = await received.get(session, app)
            assert status == 200 and "data-app-events" in shell and "data-join-qr" not in shell
            # The init data goes in a request's body, for a ticket; never in an address.
            for refused in (
                "",
                init_data(emulator.token, participant),  # not a facilitator
                init_data("123:another-bot", organiser),  # forged
                init_data(emulator.token, organiser, age=25 * 3600),  # stale
                init_data(emulator.token, organiser).replace("query_id=AAH", "query_id=BBH"),
                "x" * 10_000,  # too long to be Telegram's
            ):
                status, body = await received.post(session, f"{app}/ticket", refused)
                assert status == 403 and "ticket" not in body
            signed = init_data(emulator.token, organiser)
            status, body = await received.post(session, f"{app}/ticket", signed)
            assert status == 200
            ticket = json.loads(body)["ticket"]
            # A ticket opens its own workshop's stream only, and once.
            other = f"{web.base_url}/app/{workshop_id + 1}/events?ticket={_quoted(ticket)}"
            assert (await received.get(session, other))[0] == 403
            status, body = await received.post(session, f"{app}/ticket", signed)
            ticket = json.loads(body)["ticket"]
            events = f"{app}/events?ticket={_quoted(ticket)}"
            stream = await pages.enter_async_context(EventStream(session, events, received))
            event = await stream.next_where(lambda e: True)
            assert event["phase"] == "phase1" and "data-join-qr" in event["html"]
            assert (await received.get(session, events))[0] == 403  # used already
            assert (await received.get(session, f"{app}/events?init={_quoted(signed)}"))[0] == 403
            stopping = time.monotonic()
        # The bot stopped with the page open: its stream ended, at once and cleanly.
        await stream.until_ended()
        assert time.monotonic() - stopping < 5.0
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []
    received.scan([participant], ["Participante"])


def _quoted(value: str) -> str:
    return quote(value, safe="")


async def test_without_a_web_server_screen_says_so(
    emulator: BotApiEmulator, bot: Application
) -> None:
    organiser = emulator.user(ORGANISER_ID)
    await create_workshop(emulator)
    await organiser.send("/ecran")
    await emulator.wait_idle()
    assert organiser.last.text == fr(
        "The live screen is not available: the bot runs without its web server "
        "(COOPBOT_WEB_LISTEN is not set)."
    )
    assert not SCREEN_URL.search(organiser.last.text or "")
