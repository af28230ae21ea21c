"""The live screen's links end to end: a button under an old address never touches the
one in use (the room's projector must not go dark because someone scrolled up), and two
facilitators asking at once get one link."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram.ext import Application

from bot.settings import Settings
from tests.conftest import ORGANISER_ID, create_workshop, facilitator_code
from tests.test_screen_e2e import (
    NEW_LINK,
    REVOKE,
    fr,
    rows,
    screen_bot,  # noqa: F401  (the fixture)
    screen_link,
)
from tgemu import BotApiEmulator

FACILITATOR_ID = 71_001


def live(database: Path) -> list[str]:
    return [
        row[0] for row in rows(database, "SELECT token FROM screen_links WHERE revoked_at IS NULL")
    ]


async def test_buttons_under_an_old_address_leave_the_one_in_use(
    emulator: BotApiEmulator,
    screen_bot: Application,  # noqa: F811
    settings: Settings,
) -> None:
    """Two facilitators each hold the address with its buttons; one replaces it. The
    other's buttons, under the replaced address, neither revoke nor replace the new one."""
    database = settings.database
    organiser = emulator.user(ORGANISER_ID)
    code = await create_workshop(emulator)
    facilitator = emulator.user(FACILITATOR_ID, first_name="Fac", language_code="fr")
    await facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()

    first = await screen_link(emulator, organiser, f"/screen {code}")
    organisers_copy = organiser.messages[-2]  # the address and its buttons
    assert await screen_link(emulator, facilitator, f"/screen {code}") == first
    await facilitator.press(NEW_LINK, message=facilitator.messages[-2])
    await emulator.wait_idle()
    [second] = live(database)
    assert second not in first

    # "New link" under the replaced address: nothing issued, the press says where to look.
    await organiser.press(NEW_LINK, message=organisers_copy)
    await emulator.wait_idle()
    assert live(database) == [second]
    answers = [c for c in emulator.calls if c.method == "answerCallbackQuery"]
    assert "/ecran" in str(answers[-1].params.get("text"))

    # "Revoke" under a replaced address: that one was revoked already; the one in use stays.
    now = await screen_link(emulator, organiser, f"/screen {code}")
    assert second in now
    organisers_copy = organiser.messages[-2]
    await facilitator.press(NEW_LINK, message=facilitator.messages[-2])
    await emulator.wait_idle()
    [third] = live(database)
    await organiser.press(REVOKE, message=organisers_copy)
    await emulator.wait_idle()
    assert live(database) == [third]
    said = fr("The link to the live screen of «{title}» was already revoked.").format(
        title="Atelier de la vallée"
    )
    shown = organiser.bot_message(organisers_copy.message_id)
    assert shown is not None and shown.text == said and not shown.buttons
    assert len(rows(database, "SELECT id FROM screen_links")) == 3  # one per "new link"


async def test_two_facilitators_asking_at_once_get_one_link(
    emulator: BotApiEmulator,
    screen_bot: Application,  # noqa: F811
    settings: Settings,
) -> None:
    organiser = emulator.user(ORGANISER_ID)
    code = await create_workshop(emulator)
    facilitator = emulator.user(FACILITATOR_ID, first_name="Fac", language_code="fr")
    await facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    await asyncio.gather(organiser.send(f"/screen {code}"), facilitator.send(f"/screen {code}"))
    await emulator.wait_idle()
    [token] = live(settings.database)
    for user in (organiser, facilitator):
        assert any(token in (m.text or "") for m in user.messages)
    assert len(rows(settings.database, "SELECT id FROM screen_links")) == 1
