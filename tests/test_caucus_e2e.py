"""The caucus end to end: after phase 2, each peer group chooses, among what its members
wrote and the facilitators approved, the requests and commitments it puts to the agora,
through one message per phone edited in place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from tests import stored
from tests.conftest import ORGANISER_ID, create_workshop, participant_row
from tests.helpers import (
    VOTE_LABELS,
    Plan,
    in_lockstep,
    plan_onboarding,
    plan_phase_one,
    plan_phase_two,
)
from tests.test_agora_e2e import sends_to, vote_until_caught_up
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import SentMessage

CAUCUS_DATA = re.compile(r"^cv:(\d+):([adp])$")
# How the two members who did not write a statement vote on it, by its rank (by id) among
# its group's statements of the same kind: the group's choice is then unambiguous.
REQUEST_PROFILES = [
    ("agree", "agree"),  # 3 agree: first
    ("agree", "pass"),  # 2 agree, 0 disagree: second
    ("agree", "disagree"),  # 2 agree, 1 disagree: third
    ("pass", "pass"),  # 1 agree (its author's)
    ("disagree", "disagree"),  # more disagree than agree: never sent
    ("disagree", "pass"),  # as many agree as disagree: never sent
]
COMMITMENT_PROFILES = [("agree", "agree"), ("agree", "pass"), ("disagree", "disagree")]
# With two members per group, one vote besides the author's.
PAIR_REQUEST_PROFILES = [("agree",), ("pass",), ("disagree",), ("pass",)]
PAIR_COMMITMENT_PROFILES = [("agree",), ("disagree",)]


def rows(database: Path, sql: str, *args: object) -> list[tuple]:
    with stored.connect(database) as conn:
        return conn.execute(sql, args).fetchall()


@dataclass(frozen=True)
class Written:
    id: int
    number: int
    kind: str
    category: str
    author: int  # user id
    text: str


def written(database: Path, code: str) -> list[Written]:
    """Every statement of the workshop, by id."""
    found = rows(
        database,
        "SELECT s.id, s.number, s.kind, s.source_category, p.user_id, s.text FROM statements s"
        " JOIN participants p ON p.id = s.participant_id JOIN workshops w ON w.id = s.workshop_id"
        " WHERE w.code = ? ORDER BY s.id",
        code,
    )
    return [Written(*row) for row in found]


def planned_votes(
    statements: list[Written], plans: list[Plan], profiles: dict[str, list[tuple[str, ...]]]
) -> dict[tuple[int, int], str]:
    """(user id, statement id) -> the caucus vote that member gives."""
    votes = {}
    for statement in statements:
        pool = [
            s for s in statements if (s.kind, s.category) == (statement.kind, statement.category)
        ]
        profile = profiles[statement.kind][pool.index(statement)]
        voters = sorted(
            p.user.id
            for p in plans
            if p.category == statement.category and p.user.id != statement.author
        )
        for voter, value in zip(voters, profile, strict=True):
            votes[(voter, statement.id)] = value
    return votes


def caucus_message(database: Path, user: EmulatedUser) -> SentMessage | None:
    row = participant_row(database, user.id)
    message_id = row["caucus_message_id"] if row is not None else None
    return user.bot_message(message_id) if message_id is not None else None


def shown(message: SentMessage | None) -> int | None:
    """The statement a caucus message puts to the vote, if it has buttons."""
    for row in message.buttons if message is not None else []:
        for _, data in row:
            match = CAUCUS_DATA.match(data or "")
            if match:
                return int(match.group(1))
    return None


def texts_sent_to(emulator: BotApiEmulator, chat_id: int) -> str:
    """Everything the bot ever wrote in a chat, edits included (as sent, in HTML)."""
    return "\n".join(
        str(call.params.get("text", ""))
        for call in emulator.calls
        if call.ok
        and call.method in ("sendMessage", "editMessageText")
        and str(call.params.get("chat_id")) == str(chat_id)
    )


def unescaped(html: str) -> str:
    return html.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def vote_in_caucus(
    emulator: BotApiEmulator,
    database: Path,
    plans: list[Plan],
    votes: dict[tuple[int, int], str],
    seen: dict[int, list[int]],
) -> None:
    """Every member votes on what their caucus message shows, round after round, until no
    message shows anything; `seen` collects what each was shown."""
    idle_rounds = 0
    while True:
        pressed = waiting = False
        for plan in plans:
            message = caucus_message(database, plan.user)
            statement = shown(message)
            if statement is None:
                continue
            if statement in seen.get(plan.user.id, []):  # not moved on yet: its turn waits
                waiting = True
                continue
            seen.setdefault(plan.user.id, []).append(statement)
            value = votes[(plan.user.id, statement)]
            await plan.user.press(VOTE_LABELS[plan.language][value], message=message)
            pressed = True
        if not pressed and not waiting:
            return
        idle_rounds = 0 if pressed else idle_rounds + 1
        assert idle_rounds < 20, "a caucus message did not move on after its vote"
        await emulator.wait_idle(quiet=0.05)


async def approve(emulator: BotApiEmulator, numbers: list[int], code: str) -> None:
    organiser = emulator.user(ORGANISER_ID)
    for number in numbers:
        await organiser.send(f"/approve {number} {code}")
    await emulator.wait_idle()


def in_agora(database: Path, code: str) -> set[int]:
    found = rows(
        database,
        "SELECT s.id FROM statements s JOIN workshops w ON w.id = s.workshop_id"
        " WHERE w.code = ? AND s.in_agora_at IS NOT NULL AND s.status = 'approved'",
        code,
    )
    return {sid for (sid,) in found}


def group_plans(
    emulator: BotApiEmulator, journey: Journey, code: str, per_category: int, first_id: int
) -> list[Plan]:
    """`per_category` members in each category (the second of each answers in English),
    through phases 1 and 2: two requests to one other category and a commitment each."""
    plans = []
    for index in range(4 * per_category):
        language = "en" if 4 <= index < 8 else "fr"
        user = emulator.user(first_id + index, first_name=f"P{index}", language_code=language)
        plan = Plan(user, language, journey.categories[index % 4].id)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey, requests=2)
        plans.append(plan)
    return plans


def chosen(
    statements: list[Written], profiles: dict[str, list[tuple[str, ...]]], top: dict[str, int]
) -> set[int]:
    """What each group must send: the first `top[kind]` of its pool, in profile order (the
    profiles rank from most to least agreed), among those carried."""
    carried = {
        kind: [i for i, profile in enumerate(ranked) if _carried(profile)]
        for kind, ranked in profiles.items()
    }
    found = set()
    for statement in statements:
        pool = [
            s for s in statements if (s.kind, s.category) == (statement.kind, statement.category)
        ]
        rank = pool.index(statement)
        if rank in carried[statement.kind][: top[statement.kind]]:
            found.add(statement.id)
    return found


def _carried(profile: tuple[str, ...]) -> bool:
    agree = 1 + profile.count("agree")  # its author's agreement counts
    return agree > profile.count("disagree")


async def test_twelve_participants_choose_their_groups_statements(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    plans = group_plans(emulator, journey, code, 3, 8000)
    await in_lockstep(emulator, plans)
    statements = written(database, code)
    assert len(statements) == 12 * 3
    assert {status for (status,) in rows(database, "SELECT status FROM statements")} == {"pending"}
    # Everyone finished: they hold their caucus message, with nothing to vote on yet
    # (nothing is reviewed).
    for plan in plans:
        assert participant_row(database, plan.user.id)["state"] == "done"
        assert caucus_message(database, plan.user) is not None
        assert shown(caucus_message(database, plan.user)) is None

    profiles = {"request": REQUEST_PROFILES, "commitment": COMMITMENT_PROFILES}
    votes = planned_votes(statements, plans, profiles)
    elu = journey.categories[0].id
    # One commitment of the elected officials stays unreviewed to the end; the last request
    # of each group is approved after the others.
    never = next(s for s in reversed(statements) if (s.kind, s.category) == ("commitment", elu))
    late = [
        next(s for s in reversed(statements) if (s.kind, s.category) == ("request", c.id))
        for c in journey.categories
    ]
    first = [s for s in statements if s is not never and s not in late]
    await approve(emulator, [s.number for s in first], code)
    messages_before = {plan.user.id: len(plan.user.messages) for plan in plans}
    caucus_ids = {
        plan.user.id: participant_row(database, plan.user.id)["caucus_message_id"] for plan in plans
    }

    # A vote changed while the statement is shown (a second tap before the edit arrives).
    changer = plans[0]
    message = caucus_message(database, changer.user)
    statement = shown(message)
    assert statement is not None
    intended = votes[(changer.user.id, statement)]
    other = "pass" if intended != "pass" else "agree"
    await changer.user.press(VOTE_LABELS["fr"][other], message=message)
    await changer.user.press(VOTE_LABELS["fr"][intended], message=message)
    await emulator.wait_idle()
    assert changer.user.callback_answers[-1]["text"] == "Vote modifié."
    [(stored,)] = rows(
        database,
        "SELECT v.value FROM caucus_votes v JOIN participants p ON p.id = v.participant_id"
        " WHERE p.user_id = ? AND v.statement_id = ?",
        changer.user.id,
        statement,
    )
    assert stored == intended
    seen: dict[int, list[int]] = {changer.user.id: [statement]}
    await vote_in_caucus(emulator, database, plans, votes, seen)

    # Votes that cannot count: a statement of another group, one's own, one still in
    # review; each gets its reply and stores nothing.
    # One who reads English, whose group's statement still in review is someone else's
    # (they all wrote at once: which of a group wrote last is not set).
    english = next(
        plan
        for plan in plans[4:8]
        if next(s for s in late if s.category == plan.category).author != plan.user.id
    )
    foreign = next(s for s in statements if s.category != english.category)
    own = next(s for s in statements if s.author == english.user.id)
    before = rows(database, "SELECT COUNT(*) FROM caucus_votes")
    await english.user.press_data(f"cv:{foreign.id}:a")
    await emulator.wait_idle()
    assert english.user.callback_answers[-1]["text"] == "This button is no longer valid."
    await english.user.press_data(f"cv:{own.id}:d")
    await emulator.wait_idle()
    assert "your own statement" in english.user.callback_answers[-1]["text"]
    in_review = next(s for s in late if s.category == english.category)
    await english.user.press_data(f"cv:{in_review.id}:a")
    await emulator.wait_idle()
    assert "still being reviewed" in english.user.callback_answers[-1]["text"]
    assert rows(database, "SELECT COUNT(*) FROM caucus_votes") == before

    # Statements approved later reach the members who had voted on everything.
    for plan in plans:
        assert shown(caucus_message(database, plan.user)) is None
    await approve(emulator, [s.number for s in late], code)
    for plan in plans:
        group_late = next(s for s in late if s.category == plan.category)
        expected = None if group_late.author == plan.user.id else group_late.id
        assert shown(caucus_message(database, plan.user)) == expected, plan.user.id
    await vote_in_caucus(emulator, database, plans, votes, seen)

    for plan in plans:
        uid = plan.user.id
        theirs = {
            s.id
            for s in statements
            if s.category == plan.category and s.author != uid and s is not never
        }
        # Each statement of their group but their own, once, through one message edited
        # in place (no new message while voting).
        assert sorted(seen[uid]) == sorted(theirs), uid
        assert len(plan.user.messages) == messages_before[uid]
        assert participant_row(database, uid)["caucus_message_id"] == caucus_ids[uid]
        # Shown as the group's: never its author's name.
        sent = unescaped(texts_sent_to(emulator, uid))
        assert not any(f"P{i}" in sent for i in range(12))
        # Nothing unreviewed ever reached a participant.
        assert never.text not in sent
    stored_votes = rows(
        database,
        "SELECT p.user_id, v.statement_id, v.value FROM caucus_votes v"
        " JOIN participants p ON p.id = v.participant_id JOIN statements s ON s.id = v.statement_id"
        " WHERE s.participant_id != v.participant_id",
    )
    assert {(uid, sid): value for uid, sid, value in stored_votes} == {
        key: value for key, value in votes.items() if key[1] != never.id
    }

    # The facilitator sees how the caucus stands; a participant may not change it.
    await organiser.send(f"/caucus {code}")
    await emulator.wait_idle()
    assert "35" in (organiser.last.text or "")  # statements to choose among
    await english.user.send(f"/caucus off {code}")
    await emulator.wait_idle()
    assert "Only the facilitators" in (english.user.last.text or "")
    await organiser.send(f"/caucus keep 0 {code}")
    await emulator.wait_idle()
    assert "/caucus garder 2" in (organiser.last.text or "")
    assert rows(database, "SELECT caucus, caucus_keep FROM workshops WHERE code = ?", code) == [
        (1, 2)
    ]

    # The agora opens: each group sends its two most agreed requests to the other group
    # and its most agreed commitments (at most three, only those it carried).
    opening = len(emulator.calls)
    await organiser.send(f"/agora {code}")
    await emulator.wait_idle()
    reviewed = [s for s in statements if s is not never]
    expected = chosen(reviewed, profiles, {"request": 2, "commitment": 3})
    assert in_agora(database, code) == expected
    assert len(expected) == 4 * (2 + 2)
    assert never.id not in in_agora(database, code)
    for plan in plans:
        closed = plan.user.bot_message(caucus_ids[plan.user.id])
        assert closed is not None and not closed.buttons
        assert "4" in (closed.text or "")
    # An old caucus button: the choice is made, nothing changes.
    old = caucus_message(database, english.user)
    assert old is None  # forgotten once closed
    sent_by_them = next(
        s.id
        for s in statements
        if s.id in expected and s.category == english.category and s.author != english.user.id
    )
    ballot_before = english.user.last
    await english.user.press_data(f"cv:{sent_by_them}:d", message=ballot_before)
    await emulator.wait_idle()
    assert "choice is made" in english.user.callback_answers[-1]["text"]
    assert english.user.bot_message(ballot_before.message_id).buttons  # left as it was
    await organiser.send(f"/caucus keep 1 {code}")
    await emulator.wait_idle()
    assert "Atelier de la vallée" in (organiser.last.text or "")
    assert rows(database, "SELECT caucus_keep FROM workshops WHERE code = ?", code) == [(2,)]

    # The self-paced agora: every statement the groups sent is offered to every member but
    # its author, once, on one message edited in place (after the introduction).
    offered: dict[int, list[int]] = {}
    await vote_until_caught_up(emulator, plans, offered)
    authored = {s.id: s.author for s in statements}
    for plan in plans:
        uid = plan.user.id
        assert sorted(offered[uid]) == sorted(s for s in expected if authored[s] != uid)
        assert sends_to(emulator, uid, opening) == 2
    stored = rows(
        database,
        "SELECT p.user_id, v.statement_id, v.value FROM votes v"
        " JOIN participants p ON p.id = v.participant_id",
    )
    assert {(uid, sid) for uid, sid, _ in stored} == {
        (p.user.id, sid) for p in plans for sid in expected
    }  # every member's vote on each, their own agreement as authors included


async def test_keep_one_and_caucus_off(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    kept = await create_workshop(emulator, "Un par groupe")
    skipped = await create_workshop(emulator, "Sans choix")
    organiser = emulator.user(ORGANISER_ID)
    first = group_plans(emulator, journey, kept, 2, 8100)
    second = group_plans(emulator, journey, skipped, 2, 8200)
    await in_lockstep(emulator, first + second)
    await organiser.send(f"/caucus keep 1 {kept}")
    await emulator.wait_idle()
    assert rows(database, "SELECT caucus_keep FROM workshops WHERE code = ?", kept) == [(1,)]
    kept_statements, skipped_statements = written(database, kept), written(database, skipped)
    await approve(emulator, [s.number for s in kept_statements], kept)
    await approve(emulator, [s.number for s in skipped_statements], skipped)

    # /resume sends the caucus message again at the bottom; the old one loses its buttons.
    resumer = first[0].user
    old = caucus_message(database, resumer)
    assert old is not None and shown(old) is not None
    await resumer.send("/resume")
    await emulator.wait_idle()
    assert participant_row(database, resumer.id)["caucus_message_id"] == resumer.last.message_id
    assert shown(resumer.last) == shown(old)
    assert not resumer.bot_message(old.message_id).buttons

    profiles = {"request": PAIR_REQUEST_PROFILES, "commitment": PAIR_COMMITMENT_PROFILES}
    votes = planned_votes(kept_statements, first, profiles)
    seen: dict[int, list[int]] = {}
    await vote_in_caucus(emulator, database, first, votes, seen)
    assert all(len(seen[p.user.id]) == 3 for p in first)

    # Switched off while members hold statements: their messages lose their buttons.
    assert all(shown(caucus_message(database, p.user)) is not None for p in second)
    held = {p.user.id: participant_row(database, p.user.id)["caucus_message_id"] for p in second}
    await organiser.send(f"/caucus off {skipped}")
    await emulator.wait_idle()
    for plan in second:
        message = plan.user.bot_message(held[plan.user.id])
        assert message is not None and not message.buttons
    await organiser.send(f"/agora {kept}")
    await organiser.send(f"/agora {skipped}")
    await emulator.wait_idle()
    expected = chosen(kept_statements, profiles, {"request": 1, "commitment": 3})
    assert in_agora(database, kept) == expected
    assert len(expected) == 4 * (1 + 1)
    # Without the caucus, everything approved goes to the agora.
    assert in_agora(database, skipped) == {s.id for s in skipped_statements}
