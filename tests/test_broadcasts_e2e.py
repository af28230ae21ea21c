"""Broadcasts end to end (/broadcast, /annonce): the preview and its count, one
confirmation whatever the double taps and redeliveries, everyone once, the sender's report
(with a participant who blocked the bot), a cancelled preview, and every refusal."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from reports.text import number, translator
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop, facilitator_code
from tests.helpers import onboard
from tgemu import BotApiEmulator, EmulatedUser

FR, EN = translator("fr"), translator("en")
TEXT = "La salle change : <rendez-vous> au 2e étage & merci !"


def mailings(database: Path) -> list[sqlite3.Row]:
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM mailings WHERE kind = 'broadcast'").fetchall()


def deliveries(database: Path) -> list[sqlite3.Row]:
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM deliveries ORDER BY user_id").fetchall()


def received(user: EmulatedUser, text: str = TEXT) -> list[str]:
    return [m.text or "" for m in user.messages if text in (m.text or "")]


async def participants(
    emulator: BotApiEmulator, journey: Journey, code: str
) -> tuple[EmulatedUser, EmulatedUser, EmulatedUser]:
    camille = emulator.user(5001, first_name="Camille", language_code="fr")
    alex = emulator.user(5002, first_name="Alex", language_code="en")
    gone = emulator.user(5003, first_name="Gone", language_code="en")
    for user, language in ((camille, "fr"), (alex, "en"), (gone, "en")):
        label = journey.categories[1].label[language]
        await onboard(emulator, user, code, category=label, language=language)
    return camille, alex, gone


async def report_shows(organiser: EmulatedUser, text: str, timeout: float = 10.0) -> str:  # noqa: ASYNC109
    """Wait for the sender's progress message to show `text` (it is edited in place)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for message in organiser.messages:
            if text in (message.text or ""):
                return message.text or ""
        await asyncio.sleep(0.1)
    raise AssertionError(f"no report showing {text!r}: {[m.text for m in organiser.messages[-2:]]}")


async def test_a_broadcast_is_confirmed_once_and_reported(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    async with bot_running(settings, emulator):
        await confirmed_once_and_reported(emulator, settings, journey)
    # Refused by Telegram: only the message to the one who blocked the bot (and the
    # redelivered press's answer).
    refused = [(c.method, c.params.get("chat_id")) for c in emulator.rejected]
    assert [r for r in refused if r[0] != "answerCallbackQuery"] == [("sendMessage", 5003)]


async def confirmed_once_and_reported(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    camille, alex, gone = await participants(emulator, journey, code)
    emulator.block(gone.id)
    organiser = emulator.user(ORGANISER_ID)

    await organiser.send(f"/annonce {code} {TEXT}")
    await emulator.wait_idle()
    preview = organiser.last
    assert TEXT in (preview.text or "")
    assert translator("fr")("Broadcast · {workshop}").format(workshop="Atelier de la vallée") in (
        preview.text or ""
    )
    send_label = next(label for label in preview.labels if label.startswith("📣"))
    assert "3" in send_label and "3" in (preview.text or "")
    assert [row["status"] for row in mailings(settings.database)] == ["draft"]
    assert deliveries(settings.database) == []  # nothing sent before the confirmation

    first = await organiser.press(send_label, message=preview)
    await organiser.press(send_label, message=preview)  # a double tap on the old message
    emulator.redeliver(first)  # and Telegram delivering the first press again
    await emulator.wait_idle()

    report = await report_shows(
        organiser,
        FR("Done: {sent} of {total} sent.").format(sent=number(2, "fr"), total=number(3, "fr")),
    )
    assert FR("{count} unreachable (they blocked the bot).").format(count=1) in report
    assert FR("{count} failed.").format(count=0) in report
    await emulator.wait_idle()
    for user, gettext in ((camille, FR), (alex, EN)):
        got = received(user)
        assert len(got) == 1, got
        header = gettext("Message from the team of {workshop}")
        assert header.format(workshop="Atelier de la vallée") in got[0]
    assert received(gone) == []
    rows = deliveries(settings.database)
    assert [(row["user_id"], row["status"]) for row in rows] == [
        (camille.id, "sent"),
        (alex.id, "sent"),
        (gone.id, "unreachable"),
    ]
    assert [row["status"] for row in mailings(settings.database)] == ["done"]
    # One progress message for the sender, edited in place: the preview and the report.
    header = FR("Broadcast · {workshop}").format(workshop="Atelier de la vallée")
    assert sum(header in (m.text or "") for m in organiser.messages) == 2


async def test_a_cancelled_preview_sends_nothing(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    camille, alex, _ = await participants(emulator, journey, code)
    organiser = emulator.user(ORGANISER_ID)
    await organiser.send(f"/broadcast {code} {TEXT}")
    await emulator.wait_idle()
    preview = organiser.last
    await organiser.press(FR("Cancel"), message=preview)
    await emulator.wait_idle()
    send_label = next(label for label in preview.labels if label.startswith("📣"))
    await organiser.press(send_label, message=preview)  # an old client still shows it
    await asyncio.sleep(1.5)
    await emulator.wait_idle()
    assert received(camille) == [] and received(alex) == []
    assert [row["status"] for row in mailings(settings.database)] == ["cancelled"]
    assert deliveries(settings.database) == []
    assert FR("Cancelled: nothing was sent.") in (organiser.last.text or "")


async def test_broadcast_refusals(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    await create_workshop(emulator, "Autre atelier")
    outsider = emulator.user(5010, language_code="en")
    await outsider.send(f"/start {facilitator_code(organiser)}")  # facilitates the other one
    await emulator.wait_idle()
    camille, _, _ = await participants(emulator, journey, code)

    async def refused(user: EmulatedUser, command: str, expected: str) -> None:
        await user.send(command)
        await emulator.wait_idle()
        assert expected in (user.last.text or ""), (command, user.last.text)
        assert mailings(settings.database) == []

    not_allowed = "Only the organisers and facilitators of that workshop can do this."
    await refused(camille, f"/broadcast {code} {TEXT}", FR(not_allowed))
    await refused(outsider, f"/broadcast {code} {TEXT}", EN(not_allowed))
    await refused(
        organiser,
        f"/annonce AAAAAAAAAAAAAAAA {TEXT}",
        FR("No workshop has the code {code}.").format(code="AAAAAAAAAAAAAAAA"),
    )
    await refused(
        organiser, f"/broadcast {code}", FR("The message is empty: write it after the code.")
    )
    await refused(
        organiser,
        f"/broadcast {code} {'x' * 3600}",
        FR(
            "The message is {length} characters long; the limit is {limit}. Please shorten it."
        ).format(length=number(3600, "fr"), limit=number(3500, "fr")),
    )
    usage = FR("{command} <code> <text>").format(command="/annonce")  # its French name
    await refused(organiser, "/broadcast", usage)

    # A forged confirmation from a participant changes nothing.
    await organiser.send(f"/broadcast {code} {TEXT}")
    await emulator.wait_idle()
    mailing_id = mailings(settings.database)[0]["id"]
    await camille.press_data(f"ml:b:{mailing_id}")
    await emulator.wait_idle()
    assert camille.callback_answers[-1]["text"] == FR(not_allowed)
    assert [row["status"] for row in mailings(settings.database)] == ["draft"]

    with stored.connect(settings.database) as conn:
        conn.execute(
            "UPDATE workshops SET closed_at = '2030-06-01T00:00:00+00:00' WHERE code = ?", (code,)
        )
    closed = FR("This workshop is closed: nothing more is sent to its participants.")
    await organiser.send(f"/broadcast {code} {TEXT}")
    await emulator.wait_idle()
    assert closed in (organiser.last.text or "")
    assert len(mailings(settings.database)) == 1
    # Nor can a preview made before the closing be confirmed.
    await organiser.press_data(f"ml:b:{mailing_id}")
    await emulator.wait_idle()
    assert organiser.callback_answers[-1]["text"] == closed
    assert deliveries(settings.database) == []
