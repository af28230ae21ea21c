"""End to end over HTTP: the real Application, the emulator, a real SQLite file."""

from __future__ import annotations

from telegram.ext import Application

from bot.settings import Settings
from bot.views.prompts import consent_text
from flows.journey import Journey, Prompt
from tests.conftest import bot_running, create_workshop, participant_row, stored_answers
from tests.helpers import answer_prompts, onboard, peer_prompt_text
from tgemu import BotApiEmulator, SentMessage


def test_the_consent_says_what_a_facilitator_can_download() -> None:
    """What /export gives (tests/test_report.py checks it keeps this promise): answers
    under a pseudonym, the category only if the configured number share it, times to the
    minute."""
    text = consent_text("Atelier", "en", min_group=5)
    assert "under a pseudonym" in text
    assert "only if at least 5 people share it" in text
    assert "times to the minute" in text
    assert "only anonymous" not in text  # the answers themselves are downloadable


async def test_a_participant_walks_the_workshop_moments_in_french(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    camille = emulator.user(1001, first_name="Camille", language_code="fr")
    await camille.send(f"/start {code}")
    await emulator.wait_idle()
    assert "Atelier de la vallée" in (camille.last.text or "")
    assert "Qui le voit" in (camille.last.text or "")  # the consent says who sees what
    await camille.press("✅ J'accepte")
    await emulator.wait_idle()
    await camille.press(journey.categories[0].label["fr"])
    await emulator.wait_idle()
    await camille.press("Français")
    await emulator.wait_idle()
    assert "Moment 1 sur 9" in (camille.last.text or "")

    expected = await answer_prompts(emulator, camille, journey.live_prompts(), "fr")

    # Phase 1 is over; phase 2 follows directly (the default), with its introduction.
    assert "Phase 2 · Échange entre pairs" in (camille.last.text or "")
    assert "Deuxième temps" in (camille.last.text or "")
    assert stored_answers(settings.database, 1001) == expected
    row = participant_row(settings.database, 1001)
    assert row is not None
    assert (row["state"], row["category"], row["language"]) == (
        "p2_role",
        journey.categories[0].id,
        "fr",
    )
    assert row["consented_at"] and not row["finished_at"]
    # Button answers read back on top of the next question, which their own message
    # became (its buttons now the next question's).
    shown = [
        c.params["text"]
        for c in emulator.calls
        if c.ok and c.method in ("sendMessage", "editMessageText") and c.params["chat_id"] == 1001
    ]
    scale = next(p for p in journey.live_prompts() if p.kind == "scale")
    recalled = f"✅ {expected[scale.id]}/5 — <i>{scale.text['fr'][:20]}"
    assert any(text.startswith(recalled) for text in shown), recalled
    edits = [c for c in emulator.calls if c.method == "editMessageText" and c.ok]
    consent, *questions = edits  # the terms agreed to stay readable, without buttons
    assert "Qui le voit" in consent.params["text"] and not consent.params.get("reply_markup")
    assert questions and all(c.params.get("reply_markup") for c in questions)
    # Typed answers read back on top of the next question too, sent below them.
    reflection_prompt = next(p for p in journey.live_prompts() if p.kind == "text")
    typed = f"✅ Réponse enregistrée — <i>{reflection_prompt.text['fr'][:20]}"
    assert any(text.startswith(typed) for text in shown), typed

    # The questions left above a typed answer keep buttons of an earlier state only:
    # pressing one changes nothing and takes them off.
    def state(message: SentMessage) -> str:
        return message.buttons[0][0][1].split(":")[2]

    old = [m for m in camille.messages if m.buttons and m is not camille.last]
    assert old and all(state(m) != state(camille.last) for m in old)
    await camille.press(old[0].labels[0], message=old[0])
    await emulator.wait_idle()
    assert stored_answers(settings.database, 1001) == expected
    assert not (camille.bot_message(old[0].message_id) or old[0]).buttons
    assert participant_row(settings.database, 1001)["state"] == "p2_role"


async def test_in_english_with_a_switch_to_french_half_way(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    alex = emulator.user(1002, first_name="Alex", language_code="en-GB")
    await onboard(emulator, alex, code, category=journey.categories[1].label["en"], language="en")
    assert "Moment 1 of 9" in (alex.last.text or "")
    prompts = journey.live_prompts()
    half = len(prompts) // 2
    expected = await answer_prompts(emulator, alex, prompts[:half], "en")

    await alex.send("/language")
    await emulator.wait_idle()
    await alex.press("Français")
    await emulator.wait_idle()
    assert prompts[half].text["fr"] in (alex.last.text or "")
    expected |= await answer_prompts(emulator, alex, prompts[half:], "fr")

    assert "Phase 2 · Échange entre pairs" in (alex.last.text or "")
    assert stored_answers(settings.database, 1002) == expected
    row = participant_row(settings.database, 1002)
    assert row is not None and row["language"] == "fr"


async def test_a_restart_half_way_loses_and_doubles_nothing(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    prompts = journey.live_prompts()
    half = len(prompts) // 2
    async with bot_running(settings, emulator):
        code = await create_workshop(emulator)
        sam = emulator.user(1003, first_name="Sam", language_code="fr")
        await onboard(
            emulator, sam, code, category=journey.categories[2].label["fr"], language="fr"
        )
        expected = await answer_prompts(emulator, sam, prompts[:half], "fr")
        question_before = sam.last.text
    # The process is gone; a new one starts on the same file.
    assert stored_answers(settings.database, 1003) == expected
    async with bot_running(settings, emulator):
        await sam.send("/resume")
        await emulator.wait_idle()
        assert prompts[half].text["fr"] in (sam.last.text or "")
        # The same question, without the line that recalled the answer given before it.
        assert (question_before or "").endswith(sam.last.text or "")
        assert (question_before or "").startswith("✅ ")
        expected |= await answer_prompts(emulator, sam, prompts[half:], "fr")
    assert stored_answers(settings.database, 1003) == expected
    assert len(expected) == len(prompts)
    assert emulator.rejected == []


async def test_old_buttons_still_current_work_after_a_restart(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    first = journey.live_prompts()[0]
    assert first.kind == "scale"
    async with bot_running(settings, emulator):
        code = await create_workshop(emulator)
        kim = emulator.user(1004, language_code="fr")
        await onboard(
            emulator, kim, code, category=journey.categories[3].label["fr"], language="fr"
        )
    async with bot_running(settings, emulator):
        await kim.press("5")  # the button of the question shown before the restart
        await emulator.wait_idle()
    assert stored_answers(settings.database, 1004) == {first.id: "5"}


async def test_back_skip_pause_resume_and_help(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    prompts = journey.live_prompts()
    assert prompts[0].kind == "scale" and prompts[1].kind == "text" and prompts[1].optional
    category = journey.categories[0].id

    def asked(prompt: Prompt) -> str:  # as this participant reads it, {others} filled in
        return peer_prompt_text(journey, prompt, category, "fr")

    code = await create_workshop(emulator)
    lou = emulator.user(1005, language_code="fr")
    await onboard(emulator, lou, code, category=journey.categories[0].label["fr"], language="fr")
    await lou.press("2")
    await emulator.wait_idle()
    await lou.press("⬅️ Retour")  # back to the scale, to change it
    await emulator.wait_idle()
    assert prompts[0].text["fr"] in (lou.last.text or "")
    await lou.press("4")
    await emulator.wait_idle()
    await lou.press("Passer ➡️")  # the reflection is optional
    await emulator.wait_idle()
    assert asked(prompts[2]) in (lou.last.text or "")
    assert stored_answers(settings.database, 1005) == {prompts[0].id: "4"}
    skipped = [m for m in lou.messages if "Question passée" in (m.text or "")]
    # The skip is recalled on top of the next question, which its message now shows: the
    # skipped question's buttons are gone.
    assert len(skipped) == 1 and skipped[0].message_id == lou.last.message_id
    assert skipped[0].buttons and all(
        f":{prompts[2].id}:" in data for row in skipped[0].buttons for _, data in row
    )

    await lou.send("/skip")  # a scale cannot be skipped
    await emulator.wait_idle()
    assert "ne peut pas être passée" in (lou.last.text or "")
    await lou.send("/pause")
    await emulator.wait_idle()
    assert "En pause" in (lou.last.text or "")
    assert participant_row(settings.database, 1005)["paused_at"] is not None
    await lou.send("/resume")
    await emulator.wait_idle()
    assert asked(prompts[2]) in (lou.last.text or "")
    assert participant_row(settings.database, 1005)["paused_at"] is None
    await lou.send("/back")
    await emulator.wait_idle()
    assert prompts[1].text["fr"] in (lou.last.text or "")
    await lou.send("/help")
    await emulator.wait_idle()
    # In French, the French names of the commands.
    assert "/progression" in (lou.last.text or "") and "/oublier" in (lou.last.text or "")
    assert "/nouvelatelier" not in (lou.last.text or "")  # not an organiser


async def test_an_answer_is_committed_before_the_reply_and_a_lost_reply_is_recovered(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """The reply after an answer fails (the chat is unreachable for a moment); Telegram
    delivers the update again, as after a crash: the answer is there once, and the
    participant is shown the next question."""
    prompts = journey.live_prompts()
    async with bot_running(settings, emulator):
        code = await create_workshop(emulator)
        noa = emulator.user(1006, language_code="fr")
        await onboard(
            emulator, noa, code, category=journey.categories[0].label["fr"], language="fr"
        )
        shown = len(noa.messages)
        emulator.block(1006)
        update_id = await noa.press("4")
        await emulator.wait_idle()
        assert stored_answers(settings.database, 1006) == {prompts[0].id: "4"}
        assert len(noa.messages) == shown  # no acknowledgement reached the participant
        emulator.unblock(1006)
        emulator.redeliver(update_id)
        await emulator.wait_idle()
    assert stored_answers(settings.database, 1006) == {prompts[0].id: "4"}
    assert prompts[1].text["fr"] in (noa.last.text or "")
    # Refused: the edit while the chat was unreachable, and answering the redelivered
    # button press a second time (the bot tries, in case the first answer was lost).
    assert {(call.method, call.error_code) for call in emulator.rejected} == {
        ("editMessageText", 403),
        ("answerCallbackQuery", 400),
    }
