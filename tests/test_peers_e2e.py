"""Phase 2, the exchange between peers, end to end: twelve participants, three per category."""

from __future__ import annotations

import json
import re
from pathlib import Path

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from reports.text import strip_tags
from tests import stored
from tests.conftest import ORGANISER_ID, create_workshop, participant_row, stored_answers
from tests.helpers import (
    Plan,
    group_label,
    in_lockstep,
    peer_prompt_text,
    plan_onboarding,
    plan_phase_one,
    plan_phase_two,
)
from tgemu import BotApiEmulator

_STATE_IN_BUTTON = re.compile(r"^j:\d+:([a-z0-9_]+):")


def stored_statements(database: Path, user_id: int) -> list[tuple[str, str | None, str]]:
    with stored.connect(database) as conn:
        return conn.execute(
            "SELECT s.kind, s.target_category, s.text FROM statements s"
            " JOIN participants p ON p.id = s.participant_id WHERE p.user_id = ? ORDER BY s.id",
            (user_id,),
        ).fetchall()


def shown_texts(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    """Every text the bot ever showed in a chat, as read (a question answered by button is
    edited into the next one, so the chat's messages keep only their last text)."""
    return [
        strip_tags(call.params["text"])
        for call in emulator.calls
        if call.ok
        and call.method in ("sendMessage", "editMessageText")
        and str(call.params.get("chat_id")) == str(chat_id)
    ]


def sent_callback_data(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    """Every button the bot ever showed in a chat (buttons vanish once answered)."""
    found = []
    for call in emulator.calls:
        if not call.ok or str(call.params.get("chat_id")) != str(chat_id):
            continue
        markup = call.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in (markup or {}).get("inline_keyboard", []):
            found += [button["callback_data"] for button in row if "callback_data" in button]
    return found


def twelve(emulator: BotApiEmulator, journey: Journey, first_id: int) -> list[Plan]:
    """Three participants per category; one in each category answers in English."""
    plans = []
    for index in range(12):
        category = journey.categories[index % 4].id
        language = "en" if index >= 8 else "fr"
        user = emulator.user(first_id + index, first_name=f"P{index}", language_code=language)
        plans.append(Plan(user, language, category))
    return plans


async def test_twelve_participants_walk_the_peer_exchange(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    plans = twelve(emulator, journey, 3000)
    for plan in plans:
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey, requests=2)
    await in_lockstep(emulator, plans)

    for plan in plans:
        user, own = plan.user, plan.category
        row = participant_row(settings.database, user.id)
        assert row is not None and row["state"] == "done" and row["finished_at"]
        # Every answer once, as given; every request and commitment once, as its own
        # statement, tagged with whom it is for.
        assert stored_answers(settings.database, user.id) == plan.answers
        assert stored_statements(settings.database, user.id) == plan.statements
        assert [kind for kind, _, _ in plan.statements] == ["request", "request", "commitment"]
        # Asked only their own category's questions, about each of the three others once.
        others = {c.id for c in journey.categories} - {own}
        about = {p.about for p in journey.peer_prompts(own) if p.about}
        assert about == others
        shown_states = {
            match.group(1)
            for data in sent_callback_data(emulator, user.id)
            if (match := _STATE_IN_BUTTON.match(data))
        }
        assert not any(state.endswith("_" + own) for state in shown_states)
        assert {f"rel_{other}" for other in others} <= shown_states
        texts = "\n".join(shown_texts(emulator, user.id))  # questions edited in place too
        heading = "Sujet\u00a0: " if plan.language == "fr" else "About: "
        for other in others:
            assert heading + group_label(journey, other, plan.language) in texts
        assert heading + group_label(journey, own, plan.language) not in texts
        # The end screen announces the agora; then comes their group's caucus message,
        # with nothing to vote on while the facilitators have reviewed nothing.
        assert "agora" in (user.messages[-2].text or "")
        assert row["caucus_message_id"] == user.last.message_id and not user.last.buttons
    with stored.connect(settings.database) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM statements").fetchone()
        sources = conn.execute(
            "SELECT DISTINCT s.source_category = p.category FROM statements s"
            " JOIN participants p ON p.id = s.participant_id"
        ).fetchall()
        statuses = conn.execute("SELECT DISTINCT status, in_agora_at FROM statements").fetchall()
    assert count == 12 * 3 and sources == [(1,)]
    assert statuses == [("pending", None)]  # reviewed first, by default


async def test_phase_two_waits_for_the_facilitator_when_asked(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    await organiser.send("/peers wait")
    await emulator.wait_idle()
    assert "/ouvrir pairs" in (organiser.last.text or "")

    plans = [
        Plan(emulator.user(3101, language_code="fr"), "fr", "elu"),
        Plan(emulator.user(3102, language_code="en"), "en", "etat"),
    ]
    for plan in plans:
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
    await in_lockstep(emulator, plans)
    waiting, english = plans[0].user, plans[1].user
    assert "deuxième phase" in (waiting.last.text or "")
    assert not waiting.last.buttons
    assert participant_row(settings.database, 3101)["state"] == "peers_wait"
    await waiting.send("une réponse en avance")
    await emulator.wait_idle()
    assert "pas encore ouverte" in (waiting.last.text or "")

    # A participant (not a facilitator) cannot open it.
    await waiting.send("/open peers")
    await emulator.wait_idle()
    assert "Seule l'équipe d'animation" in (waiting.last.text or "")
    assert participant_row(settings.database, 3101)["state"] == "peers_wait"

    await organiser.send("/open peers")
    await emulator.wait_idle()
    assert "est ouverte" in (organiser.last.text or "")
    first = journey.peer_prompts("elu")[0]
    assert "La deuxième phase est ouverte" in (waiting.last.text or "")
    assert peer_prompt_text(journey, first, "elu", "fr") in (waiting.last.text or "")
    assert "The second phase is open!" in (english.last.text or "")
    assert participant_row(settings.database, 3102)["state"] == first.id
    # Asked again: nothing changes, nobody is told twice.
    shown = len(waiting.messages)
    await organiser.send("/open peers")
    await emulator.wait_idle()
    assert "déjà" in (organiser.last.text or "") and len(waiting.messages) == shown
