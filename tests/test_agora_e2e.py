"""Phase 3, the self-paced agora, end to end: statements offered one at a time on one
message per phone edited in place, votes, new statements reviewed first, restarts, erasure.

Most of this file is about the agora alone: its workshops switch the review of phase 2
statements and the groups' caucus off (`trusted`), so that every statement of phase 2 goes
to the agora as it is."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop, facilitator_code
from tests.helpers import (
    VOTE_LABELS,
    Plan,
    in_lockstep,
    plan_onboarding,
    plan_phase_one,
    plan_phase_two,
)
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import SentMessage

VOTE_DATA = re.compile(r"^v:(\d+):([adp])$")
VOTE_CODES = {"a": "agree", "d": "disagree", "p": "pass"}


def offered(message: SentMessage) -> int | None:
    """The statement a message offers for a vote, if it carries vote buttons."""
    for row in message.buttons:
        for _, data in row:
            match = VOTE_DATA.match(data or "")
            if match:
                return int(match.group(1))
    return None


def marked(message: SentMessage) -> bool:
    return any(label.startswith("✅") for row in message.buttons for label, _ in row)


def ballot(user: EmulatedUser) -> SentMessage | None:
    """The participant's agora message while it shows a statement to vote on (the newest
    message with vote buttons), else None."""
    return next((m for m in reversed(user.messages) if offered(m) is not None), None)


def sends_to(emulator: BotApiEmulator, chat_id: int, since: int = 0) -> int:
    """How many messages the bot sent to a chat (not edits), from call number `since` on."""
    return sum(
        1
        for call in emulator.calls[since:]
        if call.ok
        and call.method == "sendMessage"
        and str(call.params.get("chat_id")) == str(chat_id)
    )


async def trusted(emulator: BotApiEmulator, code: str) -> None:
    """The workshop's statements go to the agora as written: no review, no caucus."""
    organiser = emulator.user(ORGANISER_ID)
    for command in (f"/review off {code}", f"/caucus off {code}"):
        await organiser.send(command)
        await emulator.wait_idle()


def db_rows(database: Path, sql: str, *args: object) -> list[tuple]:
    with stored.connect(database) as conn:
        return conn.execute(sql, args).fetchall()


def statement_ids(database: Path, *, not_by: int | None = None) -> set[int]:
    """Approved statements, except those of the participant with user id `not_by`."""
    rows = db_rows(
        database,
        "SELECT s.id, p.user_id FROM statements s LEFT JOIN participants p"
        " ON p.id = s.participant_id WHERE s.status = 'approved'",
    )
    return {sid for sid, user_id in rows if user_id != not_by}


def votes_of(database: Path, user_id: int, *, authored: bool = False) -> dict[int, str]:
    """The participant's votes on the others' statements (`authored`: with their agreement
    with their own, stored when these entered the agora)."""
    rows = db_rows(
        database,
        "SELECT v.statement_id, v.value FROM votes v JOIN participants p"
        " ON p.id = v.participant_id JOIN statements s ON s.id = v.statement_id"
        " WHERE p.user_id = ? AND (? OR s.participant_id IS NULL OR s.participant_id <> p.id)",
        user_id,
        authored,
    )
    return dict(rows)


async def room_at_the_end_of_phase_two(
    emulator: BotApiEmulator, journey: Journey, code: str, size: int, first_id: int
) -> list[Plan]:
    """`size` participants, spread over the four categories, through phases 1 and 2, in a
    workshop without review nor caucus."""
    await trusted(emulator, code)
    plans = []
    for index in range(size):
        language = "en" if index % 3 == 2 else "fr"
        user = emulator.user(first_id + index, first_name=f"Prénom{index}", language_code=language)
        plan = Plan(user, language, journey.categories[index % 4].id)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    return plans


def vote_for(user: EmulatedUser, statement_id: int) -> str:
    return ("agree", "disagree", "pass", "agree")[(user.id + statement_id) % 4]


async def vote_until_caught_up(
    emulator: BotApiEmulator, plans: list[Plan], seen: dict[int, list[int]]
) -> None:
    """Each participant votes on the statement their message offers, round after round,
    until nobody is offered anything new; `seen` collects what each was offered, in order.
    A message still on a statement voted on has not moved on yet: its turn waits."""
    idle_rounds = 0
    while True:
        pressed = waiting = False
        for plan in plans:
            message = ballot(plan.user)
            statement = offered(message) if message is not None else None
            if message is None or statement is None:
                continue
            if statement in seen.get(plan.user.id, []):
                waiting = True
                continue
            seen.setdefault(plan.user.id, []).append(statement)
            value = vote_for(plan.user, statement)
            await plan.user.press(VOTE_LABELS[plan.language][value], message=message)
            pressed = True
        if not pressed and not waiting:
            return
        idle_rounds = 0 if pressed else idle_rounds + 1
        assert idle_rounds < 20, "a message did not move on after its vote"
        await emulator.wait_idle(quiet=0.05)


async def test_the_agora_with_twelve_participants(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    plans = await room_at_the_end_of_phase_two(emulator, journey, code, 12, 4000)
    assert len(statement_ids(database)) == 24  # a request and a commitment each

    opening = len(emulator.calls)
    await organiser.send("/agora")
    await emulator.wait_idle()
    assert "agora" in (organiser.last.text or "")
    for plan in plans:  # announced in each participant's language
        intro = plan.user.messages[-2].text or ""
        assert {"fr": "L'agora est ouverte", "en": "The agora is open"}[plan.language] in intro
        assert offered(plan.user.last) is not None

    # A vote changed while its statement is shown (a second tap before the message moves
    # on); the same button pressed again changes nothing.
    first = plans[0]
    shown = first.user.last
    statement = offered(shown)
    assert statement is not None
    before = "agree" if vote_for(first.user, statement) != "agree" else "pass"
    await first.user.press(VOTE_LABELS["fr"][before], message=shown)
    await first.user.press(VOTE_LABELS["fr"][vote_for(first.user, statement)], message=shown)
    await emulator.wait_idle()
    assert first.user.callback_answers[-1]["text"] == "Vote modifié."
    await first.user.press(VOTE_LABELS["fr"][vote_for(first.user, statement)], message=shown)
    await emulator.wait_idle()
    assert "rien n'a changé" in first.user.callback_answers[-1]["text"]
    assert votes_of(database, first.user.id)[statement] == vote_for(first.user, statement)
    # The message moved on to the next statement, recalling the vote given.
    moved = first.user.bot_message(shown.message_id)
    assert moved is not None and offered(moved) not in (None, statement)
    assert VOTE_LABELS["fr"][before] in (moved.text or "")

    seen: dict[int, list[int]] = {first.user.id: [statement]}
    await vote_until_caught_up(emulator, plans, seen)
    for plan in plans:
        uid = plan.user.id
        expected = statement_ids(database, not_by=uid)
        # Every approved statement but their own, each offered once.
        assert sorted(seen[uid]) == sorted(expected) and len(seen[uid]) == 22
        mine = statement_ids(database) - expected
        # Their own count as agreed (the author counts), never offered to them.
        assert votes_of(database, uid, authored=True) == {
            sid: vote_for(plan.user, sid) for sid in expected
        } | {sid: "agree" for sid in mine}
        # One message edited in place: the introduction and the statement after statement.
        assert sends_to(emulator, uid, opening) == 2
        caught_up = plan.user.last.text or ""
        assert {"fr": "tous les énoncés", "en": "every statement"}[plan.language] in caught_up
        assert not plan.user.last.buttons
        # Statements are shown without their author: no participant's name or id.
        shown_texts = "\n".join(m.text or "" for m in plan.user.messages[-2:])
        assert not any(
            str(p.user.id) in shown_texts or f"Prénom{i}" in shown_texts
            for i, p in enumerate(plans)
        )
    # The statements offered first were spread: not everybody started with the same one.
    assert len({seen[p.user.id][0] for p in plans}) > 1

    # New statements are reviewed again from now on. A participant adds one; it waits for a
    # facilitator, who approves it; then everybody else is offered it, on their message,
    # its author is not.
    await organiser.send(f"/review on {code}")
    await emulator.wait_idle()
    author, refused_author = plans[1], plans[2]
    await author.user.send("Créer un guichet commun <b>ESS</b> & collectivités")
    await emulator.wait_idle()
    assert "équipe d'animation" in (author.user.last.text or "")
    [(new_id, new_number, status)] = db_rows(
        database,
        "SELECT id, number, status FROM statements WHERE text = ?",
        "Créer un guichet commun <b>ESS</b> & collectivités",
    )
    assert status == "pending"
    assert all(ballot(p.user) is None for p in plans)  # not offered before approval
    await organiser.send(f"/approve {new_number}")
    await emulator.wait_idle()
    assert "soumis à tout le monde" in (author.user.last.text or "")
    for plan in plans:
        if plan is author:
            assert all(offered(m) != new_id for m in plan.user.messages)
        else:
            message = ballot(plan.user)
            assert message is not None and offered(message) == new_id
            assert sends_to(emulator, plan.user.id, opening) == 2
    seen = {}
    await vote_until_caught_up(emulator, plans, seen)
    assert len(db_rows(database, "SELECT 1 FROM votes WHERE statement_id = ?", new_id)) == 12

    # Another one is rejected: it reaches nobody.
    await refused_author.user.send("Un énoncé hors sujet")
    await emulator.wait_idle()
    [(refused_number,)] = db_rows(
        database, "SELECT number FROM statements WHERE text = ?", "Un énoncé hors sujet"
    )
    await organiser.send(f"/reject {refused_number}")
    await emulator.wait_idle()
    for plan in plans:
        if plan is not refused_author:
            assert "hors sujet" not in texts_sent(emulator, plan.user.id)
    assert "hors sujet" in (refused_author.user.last.text or "")  # told, in their words

    # Where things stand, for the facilitator and for a participant.
    await organiser.send("/progress")
    await emulator.wait_idle()
    board = organiser.last.text or ""
    assert "deuxième phase ouverte · agora ouverte" in board
    assert "Agora\u00a0: 25 énoncés, 300 votes, 0 en attente" in board
    await first.user.send("/progress")
    await emulator.wait_idle()
    assert "0 vous attendent" in (first.user.last.text or "")

    await organiser.send(f"/agora close {code}")
    await emulator.wait_idle()
    assert "close" in (organiser.last.text or "")
    for plan in plans:
        closed = {"fr": "L'agora est close", "en": "The agora is closed"}[plan.language]
        assert closed in (plan.user.last.text or "")


def texts_sent(emulator: BotApiEmulator, chat_id: int) -> str:
    """Everything the bot ever wrote in a chat, edits included."""
    return "\n".join(
        str(call.params.get("text", ""))
        for call in emulator.calls
        if call.ok
        and call.method in ("sendMessage", "editMessageText")
        and str(call.params.get("chat_id")) == str(chat_id)
    )


async def test_votes_that_cannot_count_get_a_clear_reply_and_change_nothing(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    plans = await room_at_the_end_of_phase_two(emulator, journey, code, 4, 4100)
    alice, bob = plans[0].user, plans[1].user
    own = next(iter(statement_ids(database) - statement_ids(database, not_by=alice.id)))
    someone_elses = min(statement_ids(database, not_by=alice.id))

    # Before the agora opens.
    await alice.press_data(f"v:{someone_elses}:a")
    await emulator.wait_idle()
    assert alice.callback_answers[-1]["text"] == "L'agora n'est pas encore ouverte."
    await alice.send("/agora")
    await emulator.wait_idle()
    assert "Seule l'équipe d'animation" in (alice.last.text or "")

    # Another workshop, with a facilitator of its own and a statement of its own.
    second = await create_workshop(emulator, "Autre atelier")
    other_facilitator = emulator.user(4200, language_code="fr")
    await other_facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    [stranger] = await room_at_the_end_of_phase_two(emulator, journey, second, 1, 4110)
    foreign = max(statement_ids(database))
    for command in (f"/agora {code}", f"/agora close {code}", f"/withdraw 1 {code}"):
        await other_facilitator.send(command)
        await emulator.wait_idle()
        assert "Seule l'équipe d'animation" in (other_facilitator.last.text or ""), command
    await other_facilitator.press_data(f"mod:{someone_elses}:w")
    await emulator.wait_idle()
    assert "Seule l'équipe d'animation" in other_facilitator.callback_answers[-1]["text"]

    # The organiser facilitates both: they must say which.
    await organiser.send("/agora")
    await emulator.wait_idle()
    assert code in (organiser.last.text or "") and second in (organiser.last.text or "")
    await organiser.send(f"/agora {code}")
    await emulator.wait_idle()
    assert "est ouverte" in (organiser.last.text or "")
    assert offered(stranger.user.last) is None  # the other workshop's agora stays shut

    for forged, reply in (
        (f"v:{foreign}:a", "Ce bouton n'est plus valable."),
        (f"v:{own}:a", "C'est votre propre énoncé : ce sont les autres qui votent."),
        (f"v:{someone_elses}:x", "Ce bouton n'est plus valable."),
    ):
        await alice.press_data(forged)
        await emulator.wait_idle()
        assert alice.callback_answers[-1]["text"].replace("\u00a0", " ") == reply, forged
    assert votes_of(database, alice.id) == {}

    # Pressed twice: counted once.
    offer = alice.last
    statement = offered(offer)
    assert statement is not None
    await alice.press(VOTE_LABELS["fr"]["agree"], message=offer)
    await alice.press(VOTE_LABELS["fr"]["agree"], message=offer)  # before the edit arrives
    await emulator.wait_idle()
    assert votes_of(database, alice.id) == {statement: "agree"}
    assert "rien n'a changé" in alice.callback_answers[-1]["text"]
    # One message, moved on once to the next statement.
    assert [offered(m) for m in alice.messages] == [None] * (len(alice.messages) - 1) + [
        offered(alice.last)
    ]
    assert offered(alice.last) not in (None, statement)

    # A statement withdrawn while it is offered to Bob.
    withdrawn = offered(bob.last)
    assert withdrawn is not None
    number = db_rows(database, "SELECT number FROM statements WHERE id = ?", withdrawn)[0][0]
    await organiser.send(f"/statements {code}")
    await emulator.wait_idle()
    assert f"{number}." in "\n".join(m.text or "" for m in organiser.messages[-3:])
    await organiser.send(f"/withdraw {number} {code}")
    await emulator.wait_idle()
    assert "retiré" in (organiser.last.text or "")
    stale_offer = bob.last
    await bob.press(VOTE_LABELS["fr"]["agree"], message=stale_offer)
    await emulator.wait_idle()
    assert "retiré" in bob.callback_answers[-1]["text"]
    assert withdrawn not in votes_of(database, bob.id)
    # The next one is offered instead, on the same message, which says why.
    assert bob.last.message_id == stale_offer.message_id
    assert offered(bob.last) not in (None, withdrawn) and "retiré" in (bob.last.text or "")

    # After the agora closes: the statement offered last loses its buttons, and an older
    # button is refused.
    outstanding = bob.last
    assert outstanding.buttons
    await organiser.send(f"/agora close {code}")
    await emulator.wait_idle()
    assert not bob.bot_message(outstanding.message_id).buttons
    assert "L'agora est close" in (bob.last.text or "")
    before = votes_of(database, alice.id)
    await alice.press(VOTE_LABELS["fr"]["disagree"], message=offer)
    await emulator.wait_idle()
    assert "plus possible de voter" in alice.callback_answers[-1]["text"]
    assert votes_of(database, alice.id) == before


async def test_restarts_in_phase_two_and_in_the_agora_lose_and_repeat_nothing(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    fast = replace(settings, messages_per_second=1000)
    plans: list[Plan] = []
    async with bot_running(fast, emulator):
        code = await create_workshop(emulator)
        await trusted(emulator, code)
        for index in range(4):
            user = emulator.user(4300 + index, language_code="fr")
            plan = Plan(user, "fr", journey.categories[index].id)
            plan_onboarding(plan, journey, code)
            plan_phase_one(plan, journey)
            plan_phase_two(plan, journey, requests=2)
            plans.append(plan)
        split = len(plans[0].steps) - 12  # half way through phase 2
        await in_lockstep(emulator, [replace(p, steps=p.steps[:split]) for p in plans])
    # A new process on the same file: everybody goes on from where they were.
    async with bot_running(fast, emulator):
        await in_lockstep(emulator, [replace(p, steps=p.steps[split:]) for p in plans])
        organiser = emulator.user(ORGANISER_ID)
        await organiser.send("/agora")
        await emulator.wait_idle()
        seen: dict[int, list[int]] = {}
        for _ in range(4):  # a few votes each
            for plan in plans:
                message = plan.user.last
                statement = offered(message)
                assert statement is not None
                seen.setdefault(plan.user.id, []).append(statement)
                await plan.user.press(VOTE_LABELS["fr"]["agree"], message=message)
            await emulator.wait_idle()
    for plan in plans:
        assert stored_answers_of(database, plan.user.id) == plan.answers
        assert len(votes_of(database, plan.user.id)) == 4
    async with bot_running(fast, emulator):
        await vote_until_caught_up(emulator, plans, seen)
    for plan in plans:
        uid = plan.user.id
        expected = statement_ids(database, not_by=uid)
        assert len(seen[uid]) == len(set(seen[uid])) == len(expected)
        assert set(seen[uid]) == expected == set(votes_of(database, uid))
    texts = db_rows(database, "SELECT text FROM statements")
    assert len(texts) == len(set(texts)) == 4 * 3


def stored_answers_of(database: Path, user_id: int) -> dict[str, str]:
    rows = db_rows(
        database,
        "SELECT a.question_id, a.value FROM answers a JOIN participants p"
        " ON p.id = a.participant_id WHERE p.user_id = ?",
        user_id,
    )
    return dict(rows)


async def test_a_participant_gets_and_erases_their_statements_and_votes(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    plans = await room_at_the_end_of_phase_two(emulator, journey, code, 4, 4400)
    await organiser.send("/agora")
    await emulator.wait_idle()
    seen: dict[int, list[int]] = {}
    await vote_until_caught_up(emulator, plans, seen)
    alice = plans[0].user

    await alice.send("/mydata")
    await emulator.wait_idle()
    data = json.loads(alice.last.file_bytes or b"{}")
    mine = data["participations"][0]
    assert sorted(s["text"] for s in mine["statements"]) == sorted(
        text for _, _, text in plans[0].statements
    )
    own = {text for _, _, text in plans[0].statements}
    assert {v["statement"]: v["vote"] for v in mine["votes"]} == {
        text: vote_for(alice, sid)
        for sid, text in db_rows(database, "SELECT id, text FROM statements")
        if sid in seen[alice.id]
    } | dict.fromkeys(own, "agree")

    await alice.send("/forget")
    await emulator.wait_idle()
    await alice.press("Tout effacer")
    await emulator.wait_idle()
    texts = {text for (text,) in db_rows(database, "SELECT text FROM statements")}
    assert not texts & {text for _, _, text in plans[0].statements}
    assert len(texts) == 3 * 2
    # The others' votes on the erased statements went with them.
    assert all(len(votes_of(database, p.user.id)) == 4 for p in plans[1:])
    assert votes_of(database, alice.id) == {}
