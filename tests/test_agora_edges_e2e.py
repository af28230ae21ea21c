"""Edge cases of phases 2 and 3: long texts, blocked chats, late statements, erasure."""

from __future__ import annotations

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from tests import stored
from tests.conftest import ORGANISER_ID, create_workshop, participant_row, stored_answers
from tests.helpers import (
    DONE_LABEL,
    VOTE_LABELS,
    Plan,
    in_lockstep,
    plan_onboarding,
    plan_phase_one,
)
from tests.test_agora_e2e import (
    db_rows,
    marked,
    offered,
    room_at_the_end_of_phase_two,
    statement_ids,
    votes_of,
)
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import SentMessage


def current_offer(user: EmulatedUser) -> SentMessage:
    """The statement waiting for the user's vote: the newest one with unmarked buttons."""
    for message in reversed(user.messages):
        if offered(message) is not None and not marked(message):
            return message
    raise AssertionError(f"nothing offered to {user.id}")


def status_of(settings: Settings, text: str) -> list[str]:
    with stored.connect(settings.database) as conn:
        rows = conn.execute("SELECT status FROM statements WHERE text = ?", (text,)).fetchall()
    return [status for (status,) in rows]


async def test_moderation_late_statements_long_texts_and_erasure(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    plans = await room_at_the_end_of_phase_two(emulator, journey, code, 4, 5000)
    alice, bob, carol = plans[0].user, plans[1].user, plans[2].user
    await organiser.send("/agora")
    await emulator.wait_idle()
    # From now on, what participants write waits for a facilitator's review.
    await organiser.send(f"/review on {code}")
    await emulator.wait_idle()

    # Telegram counts an emoji as two characters: 1,001 of them are too long a statement,
    # 1,000 fit.
    await alice.send("😀" * 1001)
    await emulator.wait_idle()
    assert "2\u202f002" in (alice.last.text or "") and "2\u202f000" in (alice.last.text or "")
    await alice.send("😀" * 1000)
    await emulator.wait_idle()
    assert status_of(settings, "😀" * 1000) == ["pending"]
    [(emoji_number,)] = db_rows(
        database, "SELECT number FROM statements WHERE text = ?", "😀" * 1000
    )
    # Approved twice: once.
    await organiser.send(f"/approve {emoji_number}")
    await organiser.send(f"/approve {emoji_number}")
    await emulator.wait_idle()
    assert status_of(settings, "😀" * 1000) == ["approved"]
    assert "Rien n'a changé" in (organiser.last.text or "")

    # A proposal whose moderation message was lost is approved or rejected by number.
    await bob.send("Un énoncé à valider par numéro")
    await carol.send("Un autre, à refuser par numéro")
    await emulator.wait_idle()
    listing = ""
    await organiser.send("/statements")
    await emulator.wait_idle()
    listing = "\n".join(m.text or "" for m in organiser.messages[-2:])
    assert "/approuver" in listing and "En attente de validation" in listing
    [(bob_number,)] = db_rows(
        database, "SELECT number FROM statements WHERE text = ?", "Un énoncé à valider par numéro"
    )
    [(carol_number,)] = db_rows(  # sent at the same moment: either may be numbered first
        database, "SELECT number FROM statements WHERE text = ?", "Un autre, à refuser par numéro"
    )
    await organiser.send(f"/approve {bob_number}")
    await organiser.send(f"/reject {carol_number}")
    await emulator.wait_idle()
    assert status_of(settings, "Un énoncé à valider par numéro") == ["approved"]
    assert status_of(settings, "Un autre, à refuser par numéro") == ["rejected"]
    await organiser.send(f"/approve {carol_number}")
    await emulator.wait_idle()
    assert "Rien n'a changé" in (organiser.last.text or "")
    await organiser.send("/approve 999")
    await emulator.wait_idle()
    assert "999" in (organiser.last.text or "")

    # A participant goes back into phase 2 during the agora and writes a commitment:
    # a new statement, so it waits for a facilitator like any other.
    dave = plans[3].user
    await dave.send("/back")
    await emulator.wait_idle()
    await dave.send("Un engagement écrit pendant l'agora")
    await emulator.wait_idle()
    assert status_of(settings, "Un engagement écrit pendant l'agora") == ["pending"]
    await dave.press(DONE_LABEL["fr"])
    await emulator.wait_idle()
    assert participant_row(database, dave.id)["state"] == "done"

    # Bob is offered one of Alice's statements; Alice erases her data: Bob's old button
    # says so, and he is offered another statement.
    alices = statement_ids(database) - statement_ids(database, not_by=alice.id)
    while offered(current_offer(bob)) not in alices:
        message = current_offer(bob)
        assert offered(message) is not None
        await bob.press(VOTE_LABELS["fr"]["pass"], message=message)
        await emulator.wait_idle()
    # /resume sends the message again at the bottom; the old one loses its buttons.
    earlier = current_offer(bob)
    await bob.send("/resume")
    await emulator.wait_idle()
    assert offered(bob.last) == offered(earlier) and bob.last.message_id != earlier.message_id
    assert not bob.bot_message(earlier.message_id).buttons
    stale = current_offer(bob)
    await alice.send("/forget")
    await emulator.wait_idle()
    await alice.press("Tout effacer")
    await emulator.wait_idle()
    await bob.press(VOTE_LABELS["fr"]["agree"], message=stale)
    await emulator.wait_idle()
    assert bob.callback_answers[-1]["text"] == "Ce bouton n'est plus valable."
    assert offered(current_offer(bob)) not in (None, offered(stale))
    assert set(votes_of(database, bob.id)) <= statement_ids(database)
    # A new statement never takes an erased one's id or number.
    await carol.send("Après l'effacement")
    await emulator.wait_idle()
    [(new_id, new_number)] = db_rows(
        database, "SELECT id, number FROM statements WHERE text = ?", "Après l'effacement"
    )
    assert new_id > max(alices) and new_number > max(bob_number, carol_number)


async def test_a_blocked_participant_does_not_stop_the_others_and_categories_stay(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    await organiser.send("/peers wait")
    await emulator.wait_idle()
    plans = [
        Plan(emulator.user(5101, language_code="fr"), "fr", "elu"),
        Plan(emulator.user(5102, language_code="fr"), "fr", "agent"),
    ]
    for plan in plans:
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
    await in_lockstep(emulator, plans)
    first, second = plans[0].user, plans[1].user
    emulator.block(first.id)
    await organiser.send("/open peers")
    await emulator.wait_idle()
    assert "La deuxième phase est ouverte" in (second.last.text or "")
    assert "est ouverte" in (organiser.last.text or "")
    # Once reachable again, asking again shows them the question they never saw.
    emulator.unblock(first.id)
    await organiser.send("/open peers")
    await emulator.wait_idle()
    assert "La deuxième phase est ouverte" in (first.last.text or "")
    told = [m for m in second.messages if "La deuxième phase est ouverte" in (m.text or "")]
    assert len(told) == 1  # nobody is told twice
    assert {call.error_code for call in emulator.rejected} == {403}
    emulator.rejected.clear()  # the sends refused while the chat was blocked

    # Ticks: a double tap on the same option leaves it ticked once, with no error.
    await second.send("Notre rôle")
    await emulator.wait_idle()
    await second.press("Passer ➡️")
    await emulator.wait_idle()
    await second.press("Passer ➡️")
    await emulator.wait_idle()
    relation = journey.peer_prompts("agent")[3]
    await second.press(relation.options[0].label["fr"])
    await emulator.wait_idle()
    obstacles = journey.peer_prompts("agent")[4]
    question = second.last
    label = "⬜ " + obstacles.options[1].label["fr"]
    await second.press(label, message=question)
    await second.press(label, message=question)
    await emulator.wait_idle()
    assert stored_answers(settings.database, 5102)[obstacles.id] == obstacles.options[1].id

    # Phase 2 was answered as a category: going back to change it is refused.
    for _ in range(len(journey.live_prompts()) + 6):
        await second.send("/back")
        await emulator.wait_idle()
    assert "ne peut plus changer" in (second.last.text or "")
    assert participant_row(settings.database, 5102)["category"] == "agent"
