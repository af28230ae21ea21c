"""One paced message per answer: what Telegram's rate limit counts (sends and edits) for
each answer of phase 1, by button or by text, counted on the emulator's record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from tests.conftest import bot_running, create_workshop, participant_row, stored_answers
from tests.helpers import CONSENT_LABEL, LANGUAGE_LABEL, onboard, peer_prompt_text, reflection
from tgemu import BotApiEmulator, EmulatedUser

# The calls Telegram paces per chat and overall (30 messages a second on the free tier).
PACED = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto", "sendDocument")


class Meter:
    """The calls the bot made for one participant's input, by method."""

    def __init__(self, emulator: BotApiEmulator, user: EmulatedUser) -> None:
        self.emulator, self.user = emulator, user

    async def calls(self, act: Awaitable[object]) -> Counter[str]:
        """The calls made in this chat (and the button answers) while `act` is handled."""
        start = len(self.emulator.calls)
        await act
        await self.emulator.wait_idle()
        return Counter(
            c.method
            for c in self.emulator.calls[start:]
            if c.ok
            and (c.method == "answerCallbackQuery" or c.params.get("chat_id") == self.user.id)
        )

    @staticmethod
    def paced(calls: Counter[str]) -> int:
        return sum(calls[method] for method in PACED)


async def test_each_answer_of_phase_one_costs_one_paced_call(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    user = emulator.user(3001, first_name="Dominique", language_code="fr")
    meter = Meter(emulator, user)
    category = journey.categories[1]

    # Onboarding: the join link; the consent, whose terms stay readable, marked agreed
    # with the category question sent below; then category and language, one edit each.
    assert Meter.paced(await meter.calls(user.send(f"/start {code}"))) == 1
    terms = user.last
    calls = await meter.calls(user.press(CONSENT_LABEL["fr"]))
    assert calls == Counter(answerCallbackQuery=1, editMessageText=1, sendMessage=1)
    agreed = user.bot_message(terms.message_id)
    assert agreed is not None and not agreed.buttons
    assert (agreed.text or "").startswith(terms.text or "") and agreed.text != terms.text
    for label in (category.label["fr"], LANGUAGE_LABEL["fr"]):
        calls = await meter.calls(user.press(label))
        assert calls["answerCallbackQuery"] == 1, (label, calls)
        assert Meter.paced(calls) == 1 and calls["editMessageText"] == 1, (label, calls)

    prompts = journey.live_prompts()
    assert {p.kind for p in prompts} <= {"scale", "choice", "text"}
    expected: dict[str, str] = {}
    presses = 0
    for index, prompt in enumerate(prompts):
        question = user.last
        assert peer_prompt_text(journey, prompt, category.id, "fr") in (question.text or "")
        if prompt.kind == "text":
            value = reflection(prompt, "fr")
            calls = await meter.calls(user.send(value))
            # The next question only, sent below the typed answer; nothing edited.
            assert calls == Counter(sendMessage=1), (prompt.id, calls)
            assert user.last.message_id != question.message_id
            assert (user.last.text or "").startswith("✅ Réponse enregistrée — ")
        else:
            if prompt.kind == "scale":
                value, label = str(1 + index % 5), str(1 + index % 5)
            else:
                option = prompt.options[index % len(prompt.options)]
                value, label = option.id, option.label["fr"]
            calls = await meter.calls(user.press(label, message=question))
            presses += 1
            # The pressed question itself turned into the next one: one edit.
            assert calls == Counter(answerCallbackQuery=1, editMessageText=1), (prompt.id, calls)
            assert user.last.message_id == question.message_id
            recalled = f"{value}/5" if prompt.kind == "scale" else label
            assert (user.last.text or "").startswith(f"✅ {recalled} — "), user.last.text
        expected[prompt.id] = value

    assert stored_answers(settings.database, 3001) == expected
    assert presses == sum(1 for p in prompts if p.kind != "text")
    # The live question (phase 2's first) is the one the database remembers.
    assert "Phase 2" in (user.last.text or "") and user.last.buttons
    row = participant_row(settings.database, 3001)
    assert row is not None and row["prompt_message_id"] == user.last.message_id


async def test_skip_and_back_by_button_edit_the_question_in_place(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    prompts = journey.live_prompts()
    assert prompts[0].kind == "scale" and prompts[1].kind == "text" and prompts[1].optional
    code = await create_workshop(emulator)
    user = emulator.user(3002, language_code="fr")
    meter = Meter(emulator, user)
    await onboard(emulator, user, code, category=journey.categories[0].label["fr"], language="fr")
    question = user.last
    await meter.calls(user.press("2"))

    calls = await meter.calls(user.press("Passer ➡️"))
    assert calls == Counter(answerCallbackQuery=1, editMessageText=1)
    assert (user.last.text or "").startswith("⏭️ Question passée — ")
    calls = await meter.calls(user.press("⬅️ Retour"))
    assert calls == Counter(answerCallbackQuery=1, editMessageText=1)
    assert prompts[1].text["fr"] in (user.last.text or "")
    assert not (user.last.text or "").startswith(("✅", "⏭️"))  # going back recalls nothing
    assert user.last.message_id == question.message_id  # one message all along
    # /back typed: the question is sent again, and the one left loses its buttons.
    calls = await meter.calls(user.send("/back"))
    assert calls == Counter(sendMessage=1, editMessageReplyMarkup=1)
    assert prompts[0].text["fr"] in (user.last.text or "")
    assert [m.message_id for m in user.messages if m.buttons] == [user.last.message_id]
    assert stored_answers(settings.database, 3002) == {prompts[0].id: "2"}


async def test_a_deleted_question_gets_the_next_one_sent(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """The participant deleted the question before pressing its button (an old client
    still shows it): the edit is refused, and the next question is sent instead."""
    prompts = journey.live_prompts()
    async with bot_running(settings, emulator):
        code = await create_workshop(emulator)
        user = emulator.user(3003, language_code="fr")
        await onboard(
            emulator, user, code, category=journey.categories[2].label["fr"], language="fr"
        )
        question = user.last
        assert user.remove_bot_message(question.message_id)
        meter = Meter(emulator, user)
        calls = await meter.calls(user.press("4", message=question))
        assert calls == Counter(answerCallbackQuery=1, sendMessage=1)
        assert prompts[1].text["fr"] in (user.last.text or "")
        assert (user.last.text or "").startswith("✅ 4/5 — ")
        row = participant_row(settings.database, 3003)
        assert row is not None and row["prompt_message_id"] == user.last.message_id
    assert stored_answers(settings.database, 3003) == {prompts[0].id: "4"}
    refused = [(c.method, c.error) for c in emulator.rejected]
    assert refused == [("editMessageText", "Bad Request: message to edit not found")]


async def test_a_question_far_up_live_again_gets_the_next_one_at_the_bottom(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """A scale answered by typing keeps its buttons; after /back its state is live again,
    and a press there is an answer: the next question comes at the bottom of the chat,
    where the participant reads, not far up in place of the old one."""
    prompts = journey.live_prompts()
    assert prompts[0].kind == "scale"
    code = await create_workshop(emulator)
    user = emulator.user(3004, language_code="fr")
    await onboard(emulator, user, code, category=journey.categories[0].label["fr"], language="fr")
    first = user.last
    await user.send("3")  # the scale's number, typed
    await emulator.wait_idle()
    await user.send("/back")
    await emulator.wait_idle()
    assert prompts[0].text["fr"] in (user.last.text or "")
    again = user.last

    await user.press("4", message=first)
    await emulator.wait_idle()

    assert prompts[1].text["fr"] in (user.last.text or "")
    assert user.last.message_id not in (first.message_id, again.message_id)
    assert [m.message_id for m in user.messages if m.buttons] == [user.last.message_id]
    shown_first = user.bot_message(first.message_id)
    assert shown_first is not None and prompts[1].text["fr"] not in (shown_first.text or "")
    assert stored_answers(settings.database, 3004) == {prompts[0].id: "4"}


async def test_a_button_answer_telegram_fails_to_take_changes_nothing_shown(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """answerCallbackQuery fails (a 502) while the next question is shown: the question
    shows, and no fault is reported under it, for a problem the participant does not have."""
    prompts = journey.live_prompts()
    code = await create_workshop(emulator)
    user = emulator.user(3005, language_code="fr")
    await onboard(emulator, user, code, category=journey.categories[1].label["fr"], language="fr")
    count = len(user.messages)
    emulator.fail(method="answerCallbackQuery")  # names no chat: the next one, anyone's
    await user.press("5")
    await emulator.wait_idle()
    assert len(user.messages) == count  # the question became the next one; nothing below
    assert prompts[1].text["fr"] in (user.last.text or "")
    assert stored_answers(settings.database, 3005) == {prompts[0].id: "5"}
    assert [c.method for c in emulator.failed] == ["answerCallbackQuery"]
