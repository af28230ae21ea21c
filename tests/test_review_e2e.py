"""The review queue end to end: statements wait for a facilitator in batches, one message
per batch shown to every facilitator; approve, reject, merge, approve all; nothing waiting
for review ever reaches a participant; /review off; a restart loses nothing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.jobs import REVIEW_JOB
from bot.settings import Settings
from flows.journey import Journey
from reports.text import translator
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop, facilitator_code
from tests.helpers import (
    DONE_LABEL,
    Plan,
    in_lockstep,
    plan_onboarding,
    plan_phase_one,
    plan_phase_two,
)
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import SentMessage

REVIEW_DELAY = 0.2  # long enough for a round of participants to share one batch

FR = translator("fr")  # the batches sent to facilitators are in the default language


def approve_all(message: SentMessage) -> str | None:
    """The label of a batch's "approve all" button (in whichever language it was sent)."""
    return next(
        (label for label in message.labels if label.startswith("✅ ") and not label[2:].isdigit()),
        None,
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, review_delay=REVIEW_DELAY)


def watch_review(emulator: BotApiEmulator, application: Application) -> Callable[[], None]:
    """Make `wait_idle` wait for a review batch that is due, as for an update in hand."""
    queue = application.job_queue
    assert queue is not None
    return emulator.watch(lambda: bool(queue.get_jobs_by_name(REVIEW_JOB)))


def plan_phase_two_saying(
    plan: Plan, journey: Journey, *, requests: list[str], commitment: str
) -> None:
    """Phase 2 answered briefly, with these requests to the first other category and this
    commitment (nothing in them names the participant unless the test says so)."""
    user, language = plan.user, plan.language
    first_other = next(c.id for c in journey.categories if c.id != plan.category)
    for prompt in journey.peer_prompts(plan.category):
        if prompt.kind == "text":
            plan.steps.append(partial(user.send, f"réponse à {prompt.id}"))
        elif prompt.kind == "choice":
            plan.steps.append(partial(user.press, prompt.options[0].label[language]))
        elif prompt.kind == "multi":
            plan.steps.append(partial(user.press, DONE_LABEL[language]))
        else:
            if prompt.statement == "commitment":
                texts = [commitment]
            else:
                texts = requests if prompt.about == first_other else []
            plan.steps += [partial(user.send, text) for text in texts]
            plan.steps.append(partial(user.press, DONE_LABEL[language]))


def batches_of(user: EmulatedUser) -> list[SentMessage]:
    """The review messages a facilitator holds (as they read them now)."""
    return [m for m in user.messages if (m.text or "").startswith("🛡️")]


def batch_with(user: EmulatedUser, text: str) -> SentMessage:
    found = [m for m in batches_of(user) if text in (m.text or "")]
    assert len(found) == 1, (text, [m.text for m in batches_of(user)])
    return found[0]


def block_of(message: SentMessage, text: str) -> str:
    """The paragraph of a batch message about one statement."""
    return next(block for block in (message.text or "").split("\n\n") if text in block)


def rows(database: Path) -> dict[str, sqlite3.Row]:
    """Every statement by its text: id, number, status, merged_into, its author's user id."""
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        found = conn.execute(
            "SELECT s.id, s.number, s.text, s.status, s.merged_into, p.user_id, p.id AS author"
            " FROM statements s JOIN participants p ON p.id = s.participant_id"
        ).fetchall()
    return {row["text"]: row for row in found}


def last_note(emulator: BotApiEmulator) -> str:
    """The text of the newest answer to a pressed button."""
    answers = [c for c in emulator.calls if c.method == "answerCallbackQuery"]
    return str(answers[-1].params.get("text") or "")


def texts_sent_to(emulator: BotApiEmulator, chat_id: int) -> list[tuple[float, str]]:
    """Every text the bot sent or edited into a chat, with when."""
    return [
        (call.at, str(call.params.get("text") or ""))
        for call in emulator.calls
        if call.ok
        and call.method in ("sendMessage", "editMessageText")
        and str(call.params.get("chat_id")) == str(chat_id)
    ]


A1 = "Ouvrir les salles de la mairie le samedi"
A2 = "Écrire à Jean Dupont pour réserver le local"
B1 = "Call Marie Bernard about the hall"
B2 = "Open the town hall rooms on saturdays too"
B3 = "Lend our van twice a month"
C1 = "Un guichet commun à Saint-Denis"
C2 = "Répondre aux courriers sous huit jours"
D1 = "A single contact person for grants"
D2 = "Publish our calendar of events"


async def test_statements_wait_for_review_in_batches(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    watch_review(emulator, room)
    database = settings.database
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    facilitator = emulator.user(4100, first_name="Fac", language_code="en")
    await facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()

    elu, agent, socio = (c.id for c in journey.categories[:3])
    said = {
        4001: ("fr", elu, [A1], A2),
        4002: ("en", elu, [B1, B2], B3),
        4003: ("fr", agent, [C1], C2),
        4004: ("en", socio, [D1], D2),
    }
    plans = []
    for user_id, (language, category, requests, commitment) in said.items():
        plan = Plan(emulator.user(user_id, language_code=language), language, category)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two_saying(plan, journey, requests=requests, commitment=commitment)
        plans.append(plan)
    held_back = plans[3].steps[-2:]  # the last participant's commitment, written later
    del plans[3].steps[-2:]
    await in_lockstep(emulator, plans)
    participants = [plan.user for plan in plans]

    # Eight statements, all waiting, shown in fewer messages than statements, to both
    # facilitators alike; each statement in exactly one batch.
    written = rows(database)
    assert set(written) == {A1, A2, B1, B2, B3, C1, C2, D1}
    assert {row["status"] for row in written.values()} == {"pending"}
    shown = batches_of(facilitator)
    assert 1 <= len(shown) < len(written)
    assert len(batches_of(organiser)) == len(shown)
    for text in written:
        assert sum(text in (m.text or "") for m in shown) == 1
    # What may identify someone is flagged, and only that (handles, addresses, numbers and
    # links are masked before anyone reads them: tests/test_masking_e2e.py).
    assert "⚠️" in block_of(batch_with(facilitator, A2), A2)
    assert FR("a name") in block_of(batch_with(facilitator, A2), A2)
    flagged = block_of(batch_with(facilitator, B1), B1)
    assert FR("a name") in flagged
    assert "⚠️" not in block_of(batch_with(facilitator, C1), C1)
    assert "⚠️" not in block_of(batch_with(facilitator, A1), A1)

    approved_at: dict[str, float] = {}
    organiser_before = {m.message_id: m for m in batches_of(organiser)}

    # Approve one: every copy of its batch is edited, its buttons gone.
    approved_at[C1] = time.monotonic()
    await facilitator.press(f"✅ {written[C1]['number']}", message=batch_with(facilitator, C1))
    await emulator.wait_idle()
    assert rows(database)[C1]["status"] == "approved"
    for holder in (facilitator, organiser):
        copy = batch_with(holder, C1)
        assert copy.edited >= 1
        assert f"✅ {written[C1]['number']}" not in copy.labels

    # Reject one; a second facilitator pressing on it after gets "already decided".
    await facilitator.press(f"❌ {written[B1]['number']}", message=batch_with(facilitator, B1))
    await emulator.wait_idle()
    assert rows(database)[B1]["status"] == "rejected"
    stale = organiser_before[batch_with(organiser, B1).message_id]
    await organiser.press(f"✅ {written[B1]['number']}", message=stale)
    await emulator.wait_idle()
    assert "❌" in last_note(emulator)
    assert rows(database)[B1]["status"] == "rejected"

    # Merge into a statement decided meanwhile: nothing merged.
    pressed = batch_with(facilitator, A2)
    await facilitator.press(f"🔀 {written[A2]['number']}", message=pressed)
    await emulator.wait_idle()
    choosing = facilitator.bot_message(pressed.message_id)
    assert choosing is not None and f"→ {written[B3]['number']}" in choosing.labels
    await organiser.send(f"/reject {written[B3]['number']}")
    await emulator.wait_idle()
    await facilitator.press(f"→ {written[B3]['number']}", message=choosing)
    await emulator.wait_idle()
    assert f"Statement {written[B3]['number']} was decided meanwhile" in last_note(emulator)
    now = rows(database)
    assert (now[A2]["status"], now[B3]["status"]) == ("pending", "rejected")
    assert f"✅ {written[A2]['number']}" in batch_with(facilitator, A2).labels

    # Merge: offered only statements of the same kind and groups; the merged one's author
    # agreement then counts for the one kept, in its group's caucus.
    pressed = batch_with(facilitator, B2)
    await facilitator.press(f"🔀 {written[B2]['number']}", message=pressed)
    await emulator.wait_idle()
    choosing = facilitator.bot_message(pressed.message_id)
    assert choosing is not None
    offered = {label for label in choosing.labels if label.startswith("→")}
    assert offered == {f"→ {written[A1]['number']}"}
    await facilitator.press(f"→ {written[A1]['number']}", message=choosing)
    await emulator.wait_idle()
    now = rows(database)
    assert (now[B2]["status"], now[B2]["merged_into"]) == ("merged", written[A1]["id"])
    with stored.connect(database) as conn:
        agreed = conn.execute(
            "SELECT value FROM caucus_votes WHERE statement_id = ? AND participant_id = ?",
            (written[A1]["id"], written[B2]["author"]),
        ).fetchall()
    assert agreed == [("agree",)]
    assert FR("Merged into {number}").format(number=written[A1]["number"]) in block_of(
        batch_with(facilitator, B2), B2
    )

    # Nobody but a facilitator decides: a participant's forged press changes nothing.
    await participants[0].press_data(f"rv:{written[A1]['id']}:a")
    await emulator.wait_idle()
    assert rows(database)[A1]["status"] == "pending"
    # Forged or unknown buttons change nothing either.
    for forged in ("rv:999999:a", "rv:abc:a", f"rv:{written[A1]['id']}:i:{written[C2]['id']}"):
        await facilitator.press_data(forged, message=batch_with(facilitator, A1))
        await emulator.wait_idle()
        assert last_note(emulator) == "This button is no longer valid."
    assert {row["status"] for row in rows(database).values()} == {
        "pending",
        "approved",
        "rejected",
        "merged",
    }

    # Approve all, batch by batch (a batch left with one statement has only its own
    # button); pressing it again on an old copy changes nothing.
    snapshots = [m for m in batches_of(facilitator) if m.labels]
    for message in snapshots:
        for row in rows(database).values():
            if row["status"] == "pending" and row["text"] in (message.text or ""):
                approved_at[row["text"]] = time.monotonic()
        approve = [label for label in message.labels if label.startswith("✅ ")]
        await facilitator.press(approve_all(message) or approve[0], message=message)
        await emulator.wait_idle()
    final = rows(database)
    assert "pending" not in {row["status"] for row in final.values()}
    assert {t for t, row in final.items() if row["status"] == "approved"} == {A1, A2, C1, C2, D1}
    with_all = [m for m in snapshots if approve_all(m) is not None]
    assert with_all
    await facilitator.press(approve_all(with_all[0]) or "", message=with_all[0])
    await emulator.wait_idle()
    assert last_note(emulator) == "Every statement of this batch is decided already."
    assert rows(database) == final
    # Every copy, the other facilitator's too, shows every decision and has no button left.
    for holder in (facilitator, organiser):
        for copy in batches_of(holder):
            assert copy.labels == [] and copy.edited >= 1

    # /review off is for facilitators; then a new statement is approved at once, and goes
    # to no review message.
    await participants[0].send("/review off")
    await emulator.wait_idle()
    assert "/review" not in (participants[0].last.text or "")
    await facilitator.send("/review off")
    await emulator.wait_idle()
    assert "Review is off" in (facilitator.last.text or "")
    count = len(batches_of(facilitator))
    approved_at[D2] = time.monotonic()
    for step in held_back:
        await step()
        await emulator.wait_idle()
    assert rows(database)[D2]["status"] == "approved"
    assert len(batches_of(facilitator)) == count

    # No participant was ever shown someone else's statement before it was approved, and
    # never one rejected or merged.
    authors = {row["text"]: row["user_id"] for row in rows(database).values()}
    for participant in participants:
        for at, text in texts_sent_to(emulator, participant.id):
            for statement, author in authors.items():
                if statement in text and author != participant.id:
                    assert statement in approved_at, (participant.id, statement)
                    assert at >= approved_at[statement], (participant.id, statement)


async def test_review_shows_the_queue_and_is_for_facilitators(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    watch_review(emulator, room)
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    await organiser.send("/review")
    await emulator.wait_idle()
    assert "/validation non" in (organiser.last.text or "")  # nothing waits; how to turn it off

    plan = Plan(emulator.user(4201, language_code="fr"), "fr", journey.categories[0].id)
    plan_onboarding(plan, journey, code)
    plan_phase_one(plan, journey)
    plan_phase_two(plan, journey)
    await in_lockstep(emulator, [plan])
    first = batches_of(organiser)
    assert first and all(m.labels for m in first)

    # /review again: the waiting statements in a new message; the old one loses its buttons.
    await organiser.send("/review")
    await emulator.wait_idle()
    again = batches_of(organiser)
    old, new = again[: len(first)], again[len(first) :]
    assert len(new) == 1 and approve_all(new[0]) is not None  # both in one batch now
    assert all(text in (new[0].text or "") for _, _, text in plan.statements)
    assert all(
        m.labels == []
        and FR("These statements are shown again further down: decide them there.")
        in (m.text or "")
        for m in old
    )
    with stored.connect(settings.database) as conn:
        linked = conn.execute("SELECT DISTINCT message_id FROM moderation_messages").fetchall()
    assert linked == [(new[0].message_id,)]

    # Someone who facilitates nothing is refused, and nothing changes.
    stranger = emulator.user(4202, language_code="en")
    for command in ("/review", "/review off", f"/review on {code}"):
        await stranger.send(command)
        await emulator.wait_idle()
        assert stranger.last.text == "Only the facilitators of a workshop can do that."
    with stored.connect(settings.database) as conn:
        assert conn.execute("SELECT review FROM workshops").fetchall() == [(1,)]


async def test_statements_left_unshown_by_a_restart_are_shown_after_it(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    # The first run gathers statements for longer than it lives.
    async with bot_running(replace(settings, review_delay=600), emulator):
        code = await create_workshop(emulator)
        organiser = emulator.user(ORGANISER_ID)
        plan = Plan(emulator.user(4301, language_code="fr"), "fr", journey.categories[1].id)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        await in_lockstep(emulator, [plan])
    texts = [text for _, _, text in plan.statements]
    assert len(texts) == 2 and batches_of(organiser) == []

    async with bot_running(settings, emulator) as application:
        unwatch = watch_review(emulator, application)
        await emulator.wait_idle()
        unwatch()
    shown = batches_of(organiser)
    assert len(shown) == 1
    assert all(text in (shown[0].text or "") for text in texts)
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []
