"""Abuse through the real bot: a flood of updates from one user, and guessing join codes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from tests import stored
from tests.conftest import bot_running, create_workshop, participant_row, stored_answers
from tests.helpers import onboard
from tgemu import BotApiEmulator

SLOW_DOWN = "You are sending messages very fast: slow down, please."
TOO_MANY = "Too many wrong codes: try again in"
UNKNOWN = "This code does not open any workshop"


def _statements_and_ledger(database: Path) -> tuple[int, int]:
    with stored.connect(database) as conn:
        statements = conn.execute("SELECT COUNT(*) FROM statements").fetchone()[0]
        ledger = conn.execute("SELECT COUNT(*) FROM processed_updates").fetchone()[0]
    return statements, ledger


async def test_a_flood_gets_one_reply_and_the_rest_is_dropped(
    settings: Settings, emulator: BotApiEmulator, journey: Journey
) -> None:
    flooding = replace(settings, flood_limit=20, flood_period=10.0)
    async with bot_running(flooding, emulator):
        code = await create_workshop(emulator)
        category = journey.categories[0].label["en"]
        flooder = emulator.user(3001, language_code="en")
        calm = emulator.user(3002, language_code="en")
        await onboard(emulator, calm, code, category=category, language="en")
        await onboard(emulator, flooder, code, category=category, language="en")  # 4 updates
        first = journey.live_prompts()[0]
        assert first.kind == "scale"
        assert participant_row(settings.database, 3001)["state"] == first.id
        before = _statements_and_ledger(settings.database)
        shown = len(flooder.messages)

        # 25 texts at once: with the 4 updates of onboarding, the first 16 make 20 and are
        # handled (they do not answer a scale question: each is refused, nothing stored);
        # the last 9 would each be stored (a number for the scale, then a reflection, …)
        # if they went through.
        refused = [f"hello {n}" for n in range(16)]
        would_store = [
            "3" if n % 2 == 0 else f"A reflection that would be stored, number {n}"
            for n in range(9)
        ]
        for text in refused + would_store:
            await flooder.send(text)
        # Meanwhile, another participant answers as usual.
        await calm.send("4")
        await emulator.wait_idle()
        await calm.send("My own reflection, answered during someone else's flood")
        await emulator.wait_idle()

        replies = [m.text or "" for m in flooder.messages[shown:]]
        assert sum(SLOW_DOWN in text for text in replies) == 1
        # Each of the 16 handled texts got its one answer, the dropped ones none at all.
        assert len(replies) == 16 + 1
        assert SLOW_DOWN in replies[-1]
        # Nothing of the dropped ones is stored: no answer, no move, no ledger entry.
        assert stored_answers(settings.database, 3001) == {}
        assert participant_row(settings.database, 3001)["state"] == first.id
        statements, ledger = before
        # The ledger of handled updates holds the 16 refused texts (handled: delivered again,
        # they answer nothing) and the other participant's two answers, no dropped one.
        assert _statements_and_ledger(settings.database) == (statements, ledger + 16 + 2)
        # The other participant was not slowed down.
        assert not any(SLOW_DOWN in (m.text or "") for m in calm.messages)
        assert stored_answers(settings.database, 3002) == {
            first.id: "4",
            journey.live_prompts()[1].id: (
                "My own reflection, answered during someone else's flood"
            ),
        }
    assert [call for call in emulator.rejected if call.method != "answerCallbackQuery"] == []


async def test_eleven_wrong_codes_and_the_right_one_is_refused_for_the_hour(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    code = await create_workshop(emulator)
    guesser = emulator.user(3101, language_code="en")
    wrong = [f"{code[:-1]}{'A' if code[-1] != 'A' else 'B'}", "nope", "x" * 16]
    for n in range(10):  # both ways in: the link and /join
        command = "/start" if n % 2 == 0 else "/join"
        await guesser.send(f"{command} {wrong[n % len(wrong)]}")
        await emulator.wait_idle()
        assert UNKNOWN in (guesser.last.text or ""), n

    await guesser.send(f"/join {wrong[0]}")
    await emulator.wait_idle()
    refusal = guesser.last.text or ""
    assert TOO_MANY in refusal and "60 minutes" in refusal
    assert UNKNOWN not in refusal
    # Within the hour, even the right code is not looked up: guessing stays hopeless.
    await guesser.send(f"/start {code}")
    await emulator.wait_idle()
    assert TOO_MANY in (guesser.last.text or "")
    assert participant_row(settings.database, 3101) is None

    # Someone else, with a wrong code and then the right one, is not held back.
    other = emulator.user(3102, language_code="en")
    await other.send(f"/join {wrong[0]}")
    await emulator.wait_idle()
    assert UNKNOWN in (other.last.text or "")
    await other.send(f"/start {code}")
    await emulator.wait_idle()
    assert participant_row(settings.database, 3102) is not None
    assert not any(TOO_MANY in (m.text or "") for m in other.messages)
