"""Organisers create, facilitators follow, participants do neither; the command menus."""

from __future__ import annotations

import json

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from tests import stored
from tests.conftest import (
    ORGANISER_ID,
    facilitator_code,
    join_code,
    participant_row,
    stored_answers,
)
from tests.helpers import answer_prompts, onboard
from tgemu import BotApiEmulator


async def test_a_workshop_is_created_with_links_and_a_qr_code(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    organiser = emulator.user(ORGANISER_ID, language_code="fr")
    await organiser.send("/newsession Atelier <Vallée> & co")
    await emulator.wait_idle()
    code, facilitator = join_code(organiser), facilitator_code(organiser)
    assert code != facilitator
    assert len(code) >= 16 and len(code) <= 64  # 96 bits of randomness, a valid start payload
    photos = [m for m in organiser.messages if m.kind == "photo"]
    assert len(photos) == 1 and (photos[0].file_bytes or b"").startswith(b"\x89PNG")
    assert "Atelier <Vallée> & co" in (organiser.messages[0].text or "")


async def test_roles_are_checked(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    intruder = emulator.user(3001, language_code="fr")
    await intruder.send("/newsession Pirate")
    await emulator.wait_idle()
    assert "Seule l'équipe d'organisation" in (intruder.last.text or "")
    assert not any(m.kind == "photo" for m in intruder.messages)

    organiser = emulator.user(ORGANISER_ID, language_code="fr")
    await organiser.send("/newsession Atelier")
    await emulator.wait_idle()
    code, facilitator_link = join_code(organiser), facilitator_code(organiser)

    participant = emulator.user(3002, language_code="fr")
    await onboard(
        emulator, participant, code, category=journey.categories[1].label["fr"], language="fr"
    )
    await participant.send(f"/progress {code}")
    await emulator.wait_idle()
    assert "Seule l'équipe d'animation" in (participant.last.text or "")
    await participant.send("/progress")
    await emulator.wait_idle()
    assert "Moment 1 sur 9" in (participant.last.text or "")
    assert "0 sur 16" in (participant.last.text or "")  # phase 1: moments 1 to 7

    facilitator = emulator.user(3003, language_code="en")
    await facilitator.send(f"/start {facilitator_link}")
    await emulator.wait_idle()
    assert "You are now a facilitator" in (facilitator.last.text or "")
    await participant.send("/resume")
    await emulator.wait_idle()
    await answer_prompts(emulator, participant, journey.live_prompts()[:3], "fr")
    await facilitator.send(f"/progress {code}")
    await emulator.wait_idle()
    board = facilitator.last.text or ""
    assert "\n1 participant\n" in board
    assert journey.categories[1].label["en"] in board and "at moment 2" in board
    # Nobody's name or id in what a facilitator sees.
    assert "3002" not in board


async def test_command_menus_per_language_and_role(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    keys = list(emulator.commands)
    assert len(keys) == 3  # French, English, and the default for other languages
    organiser = emulator.user(ORGANISER_ID, language_code="fr")
    await organiser.send("/start")
    await emulator.wait_idle()
    assert len(emulator.commands) == len(keys) + 1
    calls = [c for c in emulator.calls if c.method == "setMyCommands"]
    menus = {c.params.get("language_code", ""): c.params["commands"] for c in calls}
    names = lambda menu: {c["command"] for c in menu}  # noqa: E731
    assert "newsession" not in names(menus["fr"]) and "progress" in names(menus["en"])
    assert "nouvelatelier" in names(calls[-1].params["commands"])  # in French
    descriptions = {c["description"] for c in menus["fr"]} ^ {c["description"] for c in menus["en"]}
    assert descriptions  # the French and English menus differ


async def test_people_get_and_erase_their_data(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    organiser = emulator.user(ORGANISER_ID, language_code="fr")
    await organiser.send("/newsession Atelier")
    await emulator.wait_idle()
    participant = emulator.user(3101, language_code="fr")
    await onboard(
        emulator,
        participant,
        join_code(organiser),
        category=journey.categories[0].label["fr"],
        language="fr",
    )
    expected = await answer_prompts(emulator, participant, journey.live_prompts()[:2], "fr")

    await participant.send("/mydata")
    await emulator.wait_idle()
    document = participant.last
    assert document.kind == "document" and document.file_name == "coopbot-my-data.json"
    data = json.loads(document.file_bytes or b"{}")
    given = {a["question"]: a["answer"] for a in data["participations"][0]["answers"]}
    assert given == expected

    await participant.send("/forget")
    await emulator.wait_idle()
    await participant.press("Annuler")
    await emulator.wait_idle()
    assert stored_answers(settings.database, 3101) == expected
    await participant.send("/forget")
    await emulator.wait_idle()
    await participant.press("Tout effacer")
    await emulator.wait_idle()
    assert "effacé" in (participant.last.text or "")
    assert stored_answers(settings.database, 3101) == {}
    assert participant_row(settings.database, 3101) is None


async def test_review_commands_are_for_the_workshops_facilitators(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    organiser = emulator.user(ORGANISER_ID, language_code="en")
    await organiser.send("/newsession Atelier A")
    await emulator.wait_idle()
    code_a, facilitator_link = join_code(organiser), facilitator_code(organiser)
    await organiser.send("/newsession Atelier B")
    await emulator.wait_idle()
    code_b = join_code(organiser)
    facilitator = emulator.user(3201, language_code="en")
    await facilitator.send(f"/start {facilitator_link}")
    await emulator.wait_idle()

    def review_settings() -> dict[str, int]:
        with stored.connect(settings.database) as conn:
            return dict(conn.execute("SELECT code, review FROM workshops").fetchall())

    # A facilitator of A cannot touch B, by its code or otherwise.
    for command in (f"/review off {code_b}", f"/review {code_b}", "/review off nonsense"):
        await facilitator.send(command)
        await emulator.wait_idle()
        assert facilitator.last.text == "Only the facilitators of a workshop can do that."
    assert review_settings() == {code_a: 1, code_b: 1}
    # Someone facilitating two workshops names one.
    await organiser.send("/review off")
    await emulator.wait_idle()
    assert f"/review off {code_a}" in (organiser.last.text or "")
    assert review_settings() == {code_a: 1, code_b: 1}
    await facilitator.send("/review off")
    await emulator.wait_idle()
    assert "Review is off" in (facilitator.last.text or "")
    await organiser.send(f"/review off {code_a}")
    await emulator.wait_idle()
    assert "Nothing changed" in (organiser.last.text or "")
    assert review_settings() == {code_a: 0, code_b: 1}
    await organiser.send(f"/review on {code_a} extra")
    await emulator.wait_idle()
    assert "/review on" in (organiser.last.text or "")  # how to use it
    assert review_settings() == {code_a: 0, code_b: 1}
