"""The live screen in a real browser: Debian's Chromium, headless, driven by Playwright
(no browser of its own), against the real bot, the emulator, a real SQLite file and the
screen's server on 127.0.0.1. The page loads without a console error, shows the join QR
code and the counts, follows an answer and then a room vote within two seconds without
reloading, and never holds a participant's Telegram id, first name or username. Its
screenshots, at a projector's 1920×1080 and a phone's 390 px, are kept as test artefacts
(`COOPBOT_TEST_ARTIFACTS`, else `test-artifacts/`).

Without Chromium the test skips, unless `COOPBOT_REQUIRE_BROWSER=1` (CI), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.settings import Settings
from flows.journey import Journey
from tests.conftest import ORGANISER_ID, bot_running, create_workshop
from tests.helpers import (
    VOTE_LABELS,
    Plan,
    in_lockstep,
    plan_onboarding,
    plan_phase_one,
    plan_phase_two,
)
from tests.test_screen_e2e import screen_settings
from tgemu import BotApiEmulator, EmulatedUser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
SCREEN_URL = re.compile(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]+")
FIRST_USER = 73_912_850  # Telegram ids long enough never to be a count on the page
VOTE_DATA = re.compile(r"^v:(\d+):[adp]$")
WITHIN = 2000  # ms: how soon the page must show an answer or a vote
# Before the page's own script: every event the stream delivers is kept, to be scanned.
RECORD_EVENTS = """
window.__received = [];
const Native = window.EventSource;
window.EventSource = class extends Native {
  constructor(url, options) {
    super(url, options);
    this.addEventListener("message", (event) => window.__received.push(event.data));
  }
};
"""


def artefacts() -> Path:
    folder = Path(os.environ.get("COOPBOT_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium from the system, or a skip that says what is missing (a failure
    when COOPBOT_REQUIRE_BROWSER=1)."""
    required = os.environ.get("COOPBOT_REQUIRE_BROWSER") == "1"
    missing = (
        "Debian's chromium (apt-get install chromium)"
        if CHROMIUM is None
        else "Playwright for Python (pip install -e '.[dev]')"
        if importlib.util.find_spec("playwright") is None
        else None
    )
    if missing is not None:
        reason = f"the browser test needs {missing}"
        if required:
            pytest.fail(reason + ", and COOPBOT_REQUIRE_BROWSER=1 asks for it")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


async def test_the_screen_follows_the_room_in_chromium(
    emulator: BotApiEmulator, settings: Settings, journey: Journey, browser: Any
) -> None:
    organiser = emulator.user(ORGANISER_ID)
    async with bot_running(screen_settings(settings), emulator):
        code = await create_workshop(emulator, "Atelier du grand écran")
        for command in ("/review off", "/caucus off"):  # statements straight to the agora
            await organiser.send(command)
            await emulator.wait_idle()
        await organiser.send("/ecran")
        await emulator.wait_idle()
        found = [SCREEN_URL.search(m.text or "") for m in organiser.messages]
        url = next(match.group(0) for match in reversed(found) if match)

        page = await browser.new_page(viewport={"width": 1920, "height": 1080})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        loads: list[str] = []
        page.on("load", lambda _: loads.append(page.url))
        bodies: list[str] = []
        await page.add_init_script(RECORD_EVENTS)
        response = await page.goto(url, wait_until="load")
        assert response is not None and response.status == 200
        bodies.append(await response.text())
        await page.evaluate("window.__loadedOnce = 'still the first load'")
        await page.wait_for_function("() => window.__received.length > 0", timeout=WITHIN)
        assert await page.locator("svg[data-join-qr]").is_visible()
        assert (await page.locator("[data-joined-total]").inner_text()).strip() == "0"

        # Six people, three elected officials and three officers, join and answer the
        # first question: the page counts them. Then one answers the second, which takes
        # them to the second moment: the page shows it within two seconds.
        plans = six_people(emulator, journey, code)
        first_moves = [Plan(p.user, p.language, p.category, p.steps[:5]) for p in plans]
        await in_lockstep(emulator, first_moves)
        await page.wait_for_function(
            "() => document.querySelector('[data-joined-total]').textContent.trim() === '6'",
            timeout=WITHIN,
        )
        assert await page.locator('[data-joined="elu"]').inner_text() == "3"
        version = await screen_version(page)
        started = time.monotonic()
        await plans[0].steps[5]()
        await page.wait_for_function(
            f"() => Number(document.getElementById('screen').dataset.version) > {version}",
            timeout=WITHIN,
        )
        answered_in = time.monotonic() - started
        assert await page.locator("main#screen").get_attribute("data-phase") == "phase1"

        # Everyone through both phases; the room's agora opens on the page.
        plans[0].steps[5:6] = []
        for plan in plans:
            plan.steps[:5] = []
        await in_lockstep(emulator, plans)
        await organiser.send("/agora room")
        await emulator.wait_idle()
        await page.wait_for_function(
            "() => document.getElementById('screen').dataset.phase === 'agora'", timeout=WITHIN
        )
        assert await page.locator("[data-statement]").is_visible()

        # The officers vote (an author among them agreed by writing it), the last one
        # apart: their group's tally, hidden under three voters, appears within two seconds.
        officers = [p for p in plans if p.category == "agent" and ballot(p.user) is not None]
        assert len(officers) >= 2
        for plan in officers[:-1]:
            await vote(plan, "agree")
        await emulator.wait_idle()
        assert await page.locator('[data-tally="agent"].hidden').count() == 1
        started = time.monotonic()
        await vote(officers[-1], "disagree")
        shown = await page.wait_for_selector('[data-tally="agent"][data-agree]', timeout=WITHIN)
        voted_in = time.monotonic() - started
        assert shown is not None
        figures = [await shown.get_attribute(f"data-{k}") for k in ("agree", "disagree", "pass")]
        assert sum(int(f or 0) for f in figures) == 3 and figures[1] != "0"
        assert int(await page.locator("[data-votes-total]").inner_text()) >= 3

        # One page load, never a reload: what the script set at load is still there.
        assert loads == [url]
        assert await page.evaluate("window.__loadedOnce") == "still the first load"
        # A projector does not scroll: the room's vote fits 1920×1080.
        height = await page.evaluate("[document.documentElement.scrollHeight, innerHeight]")
        assert height[0] <= height[1], height
        # Votes in words beside their colours.
        figures_text = await page.locator('[data-tally="agent"] .figures').inner_text()
        assert "1 pas\u00a0d'accord" in figures_text, figures_text
        folder = artefacts()
        await page.screenshot(path=str(folder / "screen-1920x1080.png"))
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=str(folder / "screen-390.png"), full_page=True)
        # Nothing wider than the phone: no sideways scrolling, no text cut off.
        widths = await page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], widths
        received: list[str] = await page.evaluate("window.__received")
        bodies += [*received, await page.content()]
        await page.close()
    assert errors == []
    assert answered_in < WITHIN / 1000 and voted_in < WITHIN / 1000
    seen = "\n".join(bodies)
    assert len(received) >= 3 and "data-join-qr" in seen
    for plan in plans:
        user = plan.user
        for secret in (str(user.id), user.first_name, user.username or str(user.id)):
            assert secret not in seen, secret


def six_people(emulator: BotApiEmulator, journey: Journey, code: str) -> list[Plan]:
    """Three elected officials and three officers, one of each answering in English, each
    planned through both phases (a request to the other group and a commitment)."""
    plans = []
    for index in range(6):
        language = "en" if index % 3 == 2 else "fr"
        user = emulator.user(
            FIRST_USER + index,
            first_name=f"Navigatrice{index}",
            username=f"chromium_user_{index}",
            language_code=language,
        )
        plan = Plan(user, language, "elu" if index < 3 else "agent")
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        plans.append(plan)
    return plans


def ballot(user: EmulatedUser) -> Any:
    """The participant's message offering a vote on the room's statement, if any (none on
    their own statement: they agreed by writing it)."""
    return next(
        (
            m
            for m in reversed(user.messages)
            if any(VOTE_DATA.match(data or "") for line in m.buttons for _, data in line)
        ),
        None,
    )


async def vote(plan: Plan, value: str) -> None:
    await plan.user.press(VOTE_LABELS[plan.language][value], message=ballot(plan.user))


async def screen_version(page: Any) -> int:
    return int(await page.locator("main#screen").get_attribute("data-version") or 0)


async def test_the_mini_app_shows_the_screen_to_a_facilitator_only(
    emulator: BotApiEmulator, settings: Settings, browser: Any
) -> None:
    """Opened as Telegram opens a Mini App (the signed init data in the address's
    fragment), the page trades it for a ticket and shows the workshop; with init data
    that does not hold, it stays empty. No address the browser asked for holds it."""
    from tests.test_screen_e2e import init_data, rows, web_of

    organiser = emulator.user(ORGANISER_ID, first_name="Orga")
    stranger = emulator.user(FIRST_USER + 99, first_name="Inconnue")
    async with bot_running(screen_settings(settings), emulator) as application:
        await create_workshop(emulator, "Atelier du grand écran")
        [(workshop_id,)] = rows(settings.database, "SELECT id FROM workshops")
        app = f"{web_of(application).base_url}/app/{workshop_id}"
        for user, shown in ((organiser, True), (stranger, False)):
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            errors: list[str] = []
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
            asked: list[str] = []
            page.on("request", lambda request, asked=asked: asked.append(request.url))
            signed = init_data(emulator.token, user)
            await page.goto(f"{app}#tgWebAppData={quote(signed, safe='')}&tgWebAppVersion=8.0")
            if shown:
                await page.wait_for_selector("svg[data-join-qr]", timeout=WITHIN * 2)
                assert await page.locator("main#screen").get_attribute("data-phase") == "joining"
            else:
                await page.wait_for_function(
                    "() => document.querySelector('main#screen').dataset.phase === 'gone'",
                    timeout=WITHIN * 2,
                )
                assert await page.locator("svg[data-join-qr]").count() == 0
            assert errors == []
            assert not any("tgWebAppData" in url or "hash=" in url for url in asked)
            await page.close()
