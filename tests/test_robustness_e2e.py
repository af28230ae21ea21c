"""Redelivered updates, stale buttons and bad input: a clear reply, nothing stored twice."""

from __future__ import annotations

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from reports.text import translator
from tests import stored
from tests.conftest import (
    ORGANISER_ID,
    bot_running,
    create_workshop,
    join_code,
    participant_row,
    stored_answers,
)
from tests.helpers import answer_prompts, onboard
from tgemu import BotApiEmulator


async def _ready(emulator: BotApiEmulator, journey: Journey, user_id: int):
    code = await create_workshop(emulator)
    user = emulator.user(user_id, language_code="fr")
    await onboard(emulator, user, code, category=journey.categories[0].label["fr"], language="fr")
    return user, code


async def test_a_redelivered_update_is_stored_once(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    user, _ = await _ready(emulator, journey, 2001)
    prompts = journey.live_prompts()
    await user.press("3")
    await emulator.wait_idle()
    assert prompts[1].kind == "text"
    update_id = await user.send("Ma première réflexion")
    await emulator.wait_idle()
    state_after = participant_row(settings.database, 2001)["state"]
    answers_after = stored_answers(settings.database, 2001)
    shown = len(user.messages)

    emulator.redeliver(update_id)
    await emulator.wait_idle()

    assert participant_row(settings.database, 2001)["state"] == state_after == prompts[2].id
    assert stored_answers(settings.database, 2001) == answers_after
    assert answers_after[prompts[1].id] == "Ma première réflexion"
    # The participant is shown where they are again, nothing else.
    assert len(user.messages) == shown + 1
    assert prompts[2].text["fr"] in (user.last.text or "")


async def test_a_redelivered_button_press_is_stored_once(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    user, _ = await _ready(emulator, journey, 2002)
    update_id = await user.press("4")
    await emulator.wait_idle()
    emulator.redeliver(update_id)
    await emulator.wait_idle()
    prompts = journey.live_prompts()
    assert stored_answers(settings.database, 2002) == {prompts[0].id: "4"}
    assert participant_row(settings.database, 2002)["state"] == prompts[1].id
    # Shown where they are, not told that their (saved) answer was stale.
    assert prompts[1].text["fr"] in (user.last.text or "")
    assert "précédente" not in (user.last.text or "")


async def test_a_button_from_an_earlier_question_changes_nothing(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    user, _ = await _ready(emulator, journey, 2003)
    first_question = user.last
    await user.press("2")
    await emulator.wait_idle()
    await user.send("Une réflexion")
    await emulator.wait_idle()
    before = stored_answers(settings.database, 2003)
    # The first question's message still carries buttons in an old client: press "5".
    first_question_buttons = [b for row in first_question.buttons for b in row]
    assert first_question_buttons  # captured before the bot removed them
    shown = len(user.messages)
    await user.press_data(first_question_buttons[4][1] or "", message=first_question)
    await emulator.wait_idle()
    assert stored_answers(settings.database, 2003) == before
    # A short note on the button; the live question, further down, is not repeated.
    assert user.callback_answers[-1]["text"] == "Ce bouton correspond à une question précédente."
    assert len(user.messages) == shown


async def test_a_double_tap_answers_once_and_posts_the_next_question_once(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    user, _ = await _ready(emulator, journey, 2006)
    question = user.last
    await user.press("3", message=question)
    await user.press_data(question.buttons[0][4][1] or "", message=question)  # "5", too late
    await emulator.wait_idle()
    prompts = journey.live_prompts()
    assert stored_answers(settings.database, 2006) == {prompts[0].id: "3"}
    assert [m for m in user.messages if prompts[1].text["fr"] in (m.text or "")] == [user.last]
    assert user.callback_answers[-1]["text"] == "Ce bouton correspond à une question précédente."
    # Both taps left the phone before the first edit arrived, so the second one asks to
    # remove buttons that are already gone: Telegram refuses that too ("not modified"),
    # and the bot takes it in its stride. Nothing else may have been refused.
    raced = [c for c in emulator.rejected if c.method == "editMessageReplyMarkup"]
    assert len(raced) <= 1 and all("not modified" in (c.error or "") for c in raced)
    for call in raced:
        emulator.rejected.remove(call)


async def test_joining_a_second_workshop_leaves_no_live_button_in_the_first(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    user, _ = await _ready(emulator, journey, 2007)
    first_workshop_question = user.last
    assert first_workshop_question.buttons
    second = await create_workshop(emulator, "Deuxième atelier")
    await user.send(f"/start {second}")
    await emulator.wait_idle()
    assert not user.bot_message(first_workshop_question.message_id).buttons
    assert "Deuxième atelier" in (user.last.text or "")
    await user.press_data(
        first_workshop_question.buttons[0][0][1] or "", message=first_workshop_question
    )
    await emulator.wait_idle()
    assert user.callback_answers[-1]["text"] == "Ce bouton correspond à un autre atelier."
    assert stored_answers(settings.database, 2007) == {}


async def test_bad_inputs_each_get_a_clear_reply(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    stranger = emulator.user(2004, language_code="fr")
    await stranger.send("Bonjour")
    await emulator.wait_idle()
    assert "pas encore à un atelier" in (stranger.last.text or "")
    await stranger.send("/join ZZZZZZZZZZZZZZZZ")
    await emulator.wait_idle()
    assert "n'ouvre aucun atelier" in (stranger.last.text or "")
    await stranger.send("/start not-a-code")
    await emulator.wait_idle()
    assert "n'ouvre aucun atelier" in (stranger.last.text or "")

    user, _ = await _ready(emulator, journey, 2005)
    await user.press("3")
    await emulator.wait_idle()
    before = stored_answers(settings.database, 2005)
    fr = translator("fr")
    replies = {  # each kind its own words, then the same advice
        user.send_sticker: fr("Thank you for the sticker! I can only read words, though."),
        user.send_photo: fr("I cannot look at photos: nothing was saved."),
        user.send_voice: fr("I cannot listen to voice or audio messages: nothing was saved."),
        user.send_document: fr("I do not open files: nothing was saved."),
        user.send_location: fr("No location is needed here: nothing was saved."),
        user.send_contact: fr(
            "Please share no contact here: nothing was saved, and other people's details "
            "stay private."
        ),
    }
    for send, own in replies.items():
        count = len(user.messages)
        await send()
        await emulator.wait_idle()
        assert len(user.messages) == count + 1
        assert own in (user.last.text or "") and "que les messages texte" in (user.last.text or "")
    await user.send("x" * 3000)
    await emulator.wait_idle()
    assert "3\u202f000" in (user.last.text or "") and "2\u202f000" in (user.last.text or "")
    await user.send("/frobnicate")
    await emulator.wait_idle()
    assert "/frobnicate" in (user.last.text or "") and "/aide" in (user.last.text or "")
    await user.edit_last_text("changed")
    await emulator.wait_idle()
    assert "/retour" in (user.last.text or "")
    await user.press_data("j:999999:m1_present:3")  # another participation's button
    await emulator.wait_idle()
    assert user.callback_answers[-1]["text"] == "Ce bouton correspond à un autre atelier."
    await user.press_data("garbage")
    await emulator.wait_idle()
    assert user.callback_answers[-1]["text"] == "Ce bouton n'est plus valable."
    await user.send("/skip")  # the optional reflection: skipped, nothing stored
    await emulator.wait_idle()
    assert journey.live_prompts()[2].text["fr"] in (user.last.text or "")
    await user.send("bonjour")  # text where a scale expects a button
    await emulator.wait_idle()
    assert "avec les boutons" in (user.last.text or "")
    assert stored_answers(settings.database, 2005) == before


async def test_flood_limits_are_waited_out_without_losing_anything(
    tmp_path, journey: Journey
) -> None:
    """Past Telegram's rate the emulator answers 429 with retry_after; the bot waits and
    retries, and the participant still gets every question once."""
    async with BotApiEmulator(chat_rate=(2, 1.0), retry_after=1) as emulator:
        settings = Settings(
            token=emulator.token,
            api_base_url=emulator.base_url,
            database=str(tmp_path / "flood.sqlite3"),
            organisers=frozenset({ORGANISER_ID}),
        )
        async with bot_running(settings, emulator):
            code = await create_workshop(emulator)
            user = emulator.user(2010, language_code="fr")
            await onboard(
                emulator, user, code, category=journey.categories[0].label["fr"], language="fr"
            )
            expected = await answer_prompts(emulator, user, journey.live_prompts()[:3], "fr")
        limited = [call for call in emulator.rejected if call.error_code == 429]
        assert limited, "the test must actually hit the limit"
        assert {call.error_code for call in emulator.rejected} == {429}
    assert stored_answers(settings.database, 2010) == expected
    # Each question reached the phone once, sent or edited into the one answered before.
    prompts_shown = [
        call.params["text"].split("question ")[1].split(" ")[0]
        for call in emulator.calls
        if call.ok
        and call.method in ("sendMessage", "editMessageText")
        and call.params["chat_id"] == 2010
        and "Moment " in call.params["text"]
    ]
    assert prompts_shown == ["1", "2", "3", "4"]  # three answered, the fourth waiting, none twice


async def test_a_redelivered_newsession_creates_one_workshop(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    organiser = emulator.user(ORGANISER_ID, language_code="fr")
    update_id = await organiser.send("/newsession Atelier unique")
    await emulator.wait_idle()
    first_code = join_code(organiser)
    emulator.redeliver(update_id)
    await emulator.wait_idle()
    with stored.connect(settings.database) as conn:
        assert conn.execute("SELECT COUNT(*) FROM workshops").fetchone()[0] == 1
    assert join_code(organiser) == first_code  # the same links, sent again


async def test_an_edited_message_is_never_run_as_a_command(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    user, _ = await _ready(emulator, journey, 2020)
    await user.press("3")
    await emulator.wait_idle()
    await user.send("Une réflexion")
    await emulator.wait_idle()
    state = participant_row(settings.database, 2020)["state"]
    await user.edit_last_text("/back")
    await emulator.wait_idle()
    assert participant_row(settings.database, 2020)["state"] == state
    assert "ne sont pas prises en compte" in (user.last.text or "")


async def test_a_participant_whose_question_was_removed_is_not_stuck(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    user, _ = await _ready(emulator, journey, 2021)
    with stored.connect(settings.database) as conn:  # the journey file lost a prompt
        conn.execute("UPDATE participants SET state = 'm0_removed' WHERE user_id = 2021")
    await user.send("/resume")
    await emulator.wait_idle()
    first = journey.live_prompts()[0]
    assert first.text["fr"] in (user.last.text or "")
    await user.press("5")
    await emulator.wait_idle()
    assert stored_answers(settings.database, 2021) == {first.id: "5"}
    assert participant_row(settings.database, 2021)["state"] == journey.live_prompts()[1].id


async def test_erasure_buttons_pressed_twice(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    user, _ = await _ready(emulator, journey, 2022)
    await user.send("/forget")
    await emulator.wait_idle()
    question = user.last
    await user.press("Tout effacer", message=question)
    await emulator.wait_idle()
    await user.press_data("forget:yes", message=question)  # an old client, pressed again
    await emulator.wait_idle()
    assert participant_row(settings.database, 2022) is None
    assert "effacé" in (user.last.text or "")
