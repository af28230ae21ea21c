"""The agora paced by the room, end to end: twelve phones follow the facilitator's
statement through one message each, late votes are refused, the control shows the tally
stored, convergences become resolutions, and a restart in the middle loses nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

from bot.settings import Settings
from flows.journey import Journey
from reports.text import day, translator
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop
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

fr = translator("fr")
NEXT = fr("Next") + " ➡️"
PREVIOUS = "⬅️ " + fr("Previous")
CLOSE_VOTE = "🔒 " + fr("Close the vote")
CONVERGE = "🤝 " + fr("Mark a convergence")
REFORMULATE = "✏️ " + fr("Reformulate")
CARRIER = "👥 " + fr("Carrier")
TYPE_A_NAME = "✍️ " + fr("Type a name")
DUE = "📅 " + fr("Due date")
DONE = "✅ " + fr("Done")
VOTE_DATA = re.compile(r"^v:(\d+):[adp]$")
ROOM_ORDER = ["etat", "agent", "elu", "socio_eco"]  # as set by /agora order below


def rows(database: Path, sql: str, *args: object) -> list[tuple]:
    with stored.connect(database) as conn:
        return conn.execute(sql, args).fetchall()


def votes_on(database: Path, statement_id: int) -> dict[int, str]:
    """user id -> vote, on one statement."""
    found = rows(
        database,
        "SELECT p.user_id, v.value FROM votes v JOIN participants p ON p.id = v.participant_id"
        " WHERE v.statement_id = ?",
        statement_id,
    )
    return dict(found)


def room_position(database: Path) -> tuple[int | None, int]:
    [(statement_id, closed)] = rows(
        database, "SELECT room_statement_id, room_vote_closed FROM workshops WHERE id = 1"
    )
    return statement_id, closed


def expected_walk(database: Path) -> list[tuple[int, int, int, str]]:
    """(statement id, number, author's user id, text) in the order the room takes them:
    group by group (the order set), requests by the group asked, then commitments."""
    found = rows(
        database,
        "SELECT s.id, s.number, s.kind, s.source_category, s.target_category, p.user_id, s.text"
        " FROM statements s JOIN participants p ON p.id = s.participant_id"
        " WHERE s.status = 'approved' AND s.in_agora_at IS NOT NULL",
    )

    def key(row: tuple) -> tuple[int, int, int, int]:
        _, number, kind, source, target, _, _ = row
        asked = ROOM_ORDER.index(target) if kind == "request" else 0
        return (ROOM_ORDER.index(source), 0 if kind == "request" else 1, asked, number)

    return [(r[0], r[1], r[5], r[6]) for r in sorted(found, key=key)]


def phone(database: Path, user: EmulatedUser) -> SentMessage | None:
    """The participant's one agora message, as they see it now."""
    [(message_id,)] = rows(
        database, "SELECT offer_message_id FROM participants WHERE user_id = ?", user.id
    )
    return user.bot_message(message_id) if message_id is not None else None


def vote_buttons(message: SentMessage | None) -> set[int]:
    """The statements a message's vote buttons are for."""
    if message is None:
        return set()
    return {
        int(match.group(1))
        for row in message.buttons
        for _, data in row
        if (match := VOTE_DATA.match(data or ""))
    }


def sends_to(emulator: BotApiEmulator, user_id: int, since: int = 0) -> int:
    """sendMessage calls delivered to a chat, from call number `since` on."""
    return sum(
        1
        for call in emulator.calls[since:]
        if call.method == "sendMessage"
        and call.ok
        and str(call.params.get("chat_id")) == str(user_id)
    )


def vote_for(user: EmulatedUser, step: int) -> str:
    return ("agree", "disagree", "pass", "agree", "agree")[(user.id + step) % 5]


def tally_lines(database: Path, journey: Journey, statement_id: int) -> set[str]:
    """The control's tally for a statement, from the stored votes: the groups with 3
    voters or more, their votes and their total; the others only said to be hidden, with
    no figure (no small group's count can be derived)."""
    found = rows(
        database,
        "SELECT p.category, v.value, COUNT(*) FROM votes v JOIN participants p"
        " ON p.id = v.participant_id WHERE v.statement_id = ? GROUP BY p.category, v.value",
        statement_id,
    )
    by_group: dict[str, dict[str, int]] = {}
    for category, value, count in found:
        by_group.setdefault(category, {})[value] = count
    lines, hidden, total = set(), False, 0
    for category, counts in by_group.items():
        if sum(counts.values()) >= 3:
            group = journey.category(category).group["fr"]  # type: ignore[union-attr]
            votes = sum(counts.values())
            # In words, as the syntheses say it: « Les élus : 2 sur 3 d'accord, … ».
            lines.add(
                f"• {group[:1].upper()}{group[1:]}\u00a0: {counts.get('agree', 0)} sur {votes}"
                f" d'accord, {counts.get('disagree', 0)} pas d'accord,"
                f" {counts.get('pass', 0)} sans avis"
            )
            total += sum(counts.values())
        else:  # neither shown nor counted
            hidden = True
    if hidden:
        lines.add("• " + fr("Groups of fewer than {min} voters are not shown.").format(min=3))
    lines.add("📊 " + fr("Votes: {count}").format(count=total))
    return lines


def tallied_lines(message: SentMessage) -> set[str]:
    """The tally a control message shows."""
    return {line for line in (message.text or "").splitlines() if line.startswith(("• ", "📊 "))}


async def twelve_through_phase_two(
    emulator: BotApiEmulator, journey: Journey, code: str
) -> list[Plan]:
    plans = []
    for index in range(12):
        language = "en" if index % 3 == 2 else "fr"
        user = emulator.user(7000 + index, first_name=f"Prénom{index}", language_code=language)
        plan = Plan(user, language, journey.categories[index % 4].id)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    return plans


async def vote_round(
    emulator: BotApiEmulator, database: Path, plans: list[Plan], step: int, *, skip: set[int]
) -> None:
    """Everyone but the authors (and `skip`) votes on the statement their phone shows."""
    for plan in plans:
        message = phone(database, plan.user)
        if plan.user.id in skip or not vote_buttons(message):
            continue
        label = VOTE_LABELS[plan.language][vote_for(plan.user, step)]
        await plan.user.press(label, message=message)
    await emulator.wait_idle(quiet=0.05)


def assert_phones_on(database: Path, plans: list[Plan], statement: tuple[int, int, int, str]):
    statement_id, _, author, text = statement
    for plan in plans:
        message = phone(database, plan.user)
        assert message is not None and text in (message.text or ""), plan.user.id
        assert vote_buttons(message) == (set() if plan.user.id == author else {statement_id})
    offers = rows(database, "SELECT DISTINCT offer_statement_id FROM participants")
    assert offers == [(statement_id,)]


async def test_the_room_with_twelve_participants(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    settings = replace(settings, messages_per_second=1000)
    database = settings.database
    organiser = emulator.user(ORGANISER_ID)
    refused = [403]  # the blocked participant's edit, below

    async with bot_running(settings, emulator):
        code = await create_workshop(emulator)
        for command in ("/review off", "/caucus off"):
            await organiser.send(command)
            await emulator.wait_idle()
        plans = await twelve_through_phase_two(emulator, journey, code)
        assert rows(database, "SELECT COUNT(*) FROM statements WHERE status = 'approved'") == [
            (24,)
        ]
        alice, bob = plans[0].user, plans[1].user

        # Bad input first: nothing changes.
        await alice.send("/agora room")  # not a facilitator
        await emulator.wait_idle()
        assert "Seule l'équipe d'animation" in (alice.last.text or "")
        await organiser.send("/agora order mayors, elu")
        await emulator.wait_idle()
        assert "mayors" in (organiser.last.text or "") and "etat" in (organiser.last.text or "")
        assert rows(database, "SELECT room_order, agora_opened_at FROM workshops") == [(None, None)]
        await alice.send("/agora order etat")
        await emulator.wait_idle()
        assert "Seule l'équipe d'animation" in (alice.last.text or "")
        await organiser.send("/agora order Les agents de l'État territorial, agent")
        await emulator.wait_idle()
        assert rows(database, "SELECT room_order FROM workshops") == [("etat,agent",)]

        opened_at = len(emulator.calls)
        await organiser.send("/agora room")
        await emulator.wait_idle()
        walk = expected_walk(database)
        assert len(walk) == 24
        control_id = organiser.last.message_id
        assert room_position(database) == (walk[0][0], 0)
        assert_phones_on(database, plans, walk[0])
        for plan in plans:  # the introduction and the one message, in their language
            intro = plan.user.messages[-2].text or ""
            assert translator(plan.language)("The agora is open, with the whole room.") in intro

        def control() -> SentMessage:
            found = organiser.bot_message(control_id)
            assert found is not None
            return found

        # "Previous" at the first statement: nothing changes.
        await organiser.press(PREVIOUS, message=control())
        await emulator.wait_idle()
        assert organiser.callback_answers[-1]["text"] == fr(
            "This is the first statement: nothing changed."
        )
        assert room_position(database) == (walk[0][0], 0)

        # Statement 1: everyone votes but Bob, who will try later, with this old button.
        old_message = phone(database, bob)
        await vote_round(emulator, database, plans, 0, skip={bob.id})
        place = fr("Statement {position} of {total}").format(position=1, total=24)
        assert place in (control().text or "")
        tallied = tallied_lines(control())
        assert tallied == tally_lines(database, journey, walk[0][0])
        assert len(votes_on(database, walk[0][0])) == 11  # ten votes and the author's
        # A vote shown on the phone, its buttons kept to change it.
        shown = phone(database, plans[2].user)
        assert vote_buttons(shown) == {walk[0][0]} and "✅" in " ".join(shown.labels)  # type: ignore[union-attr]

        # Next: the room and every phone move, in place.
        await organiser.press(NEXT, message=control())
        await emulator.wait_idle()
        assert room_position(database) == (walk[1][0], 0)
        assert_phones_on(database, plans, walk[1])
        # A late vote on the statement the room has left: refused, stored nowhere.
        assert old_message is not None
        await bob.press(VOTE_LABELS["fr"]["agree"], message=old_message)
        await emulator.wait_idle()
        assert bob.callback_answers[-1]["text"] == fr("The vote on this statement is closed.")
        assert bob.id not in votes_on(database, walk[0][0])
        assert_phones_on(database, plans, walk[1])

        # Statement 2: votes, the vote closed, a convergence; a vote after the close refused.
        await vote_round(emulator, database, plans, 1, skip={bob.id})
        await organiser.press(CLOSE_VOTE, message=control())
        await emulator.wait_idle()
        assert room_position(database) == (walk[1][0], 1)
        assert CLOSE_VOTE not in control().labels
        assert all(not vote_buttons(phone(database, p.user)) for p in plans)
        await bob.press_data(f"v:{walk[1][0]}:a")
        await emulator.wait_idle()
        assert bob.callback_answers[-1]["text"] == fr("The vote on this statement is closed.")
        assert bob.id not in votes_on(database, walk[1][0])
        tallied = tallied_lines(control())
        assert tallied == tally_lines(database, journey, walk[1][0])

        await organiser.press(CONVERGE, message=control())
        await emulator.wait_idle()
        card = organiser.last
        assert fr("Resolution {number}").format(number=1) in (card.text or "")
        assert walk[1][3] in (card.text or "")
        [(carrier, text)] = rows(database, "SELECT carrier_category, text FROM resolutions")
        assert text == walk[1][3]
        [(kind, source, target)] = rows(
            database,
            "SELECT kind, source_category, target_category FROM statements WHERE id = ?",
            walk[1][0],
        )
        assert carrier == (target if kind == "request" else source)
        # Reformulated, with a command in between that forgets the question.
        await organiser.press(REFORMULATE, message=card)
        await emulator.wait_idle()
        await organiser.send("/resolutions")
        await emulator.wait_idle()
        assert rows(database, "SELECT awaiting FROM users WHERE user_id = ?", ORGANISER_ID) == [
            (None,)
        ]
        await organiser.press(REFORMULATE, message=organiser.bot_message(card.message_id))
        await emulator.wait_idle()
        await organiser.send("Un guichet commun <b>ESS</b> & élus, d'ici l'été")
        await emulator.wait_idle()
        assert rows(database, "SELECT text FROM resolutions") == [
            ("Un guichet commun <b>ESS</b> & élus, d'ici l'été",)
        ]
        assert "Un guichet commun <b>ESS</b> & élus" in (
            organiser.bot_message(card.message_id).text or ""  # type: ignore[union-attr]
        )
        # Carried by a name typed.
        await organiser.press(CARRIER, message=organiser.bot_message(card.message_id))
        await emulator.wait_idle()
        await organiser.press(TYPE_A_NAME, message=organiser.bot_message(card.message_id))
        await emulator.wait_idle()
        await organiser.send("Mairie de la Vallée")
        await emulator.wait_idle()
        assert rows(database, "SELECT carrier_category, carrier_name FROM resolutions") == [
            (None, "Mairie de la Vallée")
        ]
        # A due date: unreadable, then past (the expected form shown), then taken.
        await organiser.press(DUE, message=organiser.bot_message(card.message_id))
        await emulator.wait_idle()
        for typed in ("à la rentrée", "01/01/2020"):
            await organiser.send(typed)
            await emulator.wait_idle()
            assert f"31/12/{date.today().year}" in (organiser.last.text or ""), typed
            assert rows(database, "SELECT due_on FROM resolutions") == [(None,)]
        taken = await organiser.send("31/12/2099")
        await emulator.wait_idle()
        assert rows(database, "SELECT due_on FROM resolutions") == [("2099-12-31",)]
        # Delivered again (as after a crash): handled once, nothing more said or done.
        replies = len(organiser.messages)
        emulator.redeliver(taken)
        await emulator.wait_idle()
        assert len(organiser.messages) == replies
        assert rows(database, "SELECT due_on FROM resolutions") == [("2099-12-31",)]
        await organiser.press(DONE, message=organiser.bot_message(card.message_id))
        await emulator.wait_idle()
        assert organiser.bot_message(card.message_id).buttons == []  # type: ignore[union-attr]
        # The card's buttons are the facilitators' alone.
        [(resolution_id,)] = rows(database, "SELECT id FROM resolutions")
        await alice.press_data(f"res:{resolution_id}:t")
        await emulator.wait_idle()
        assert "Seule l'équipe d'animation" in alice.callback_answers[-1]["text"]
        assert rows(database, "SELECT awaiting FROM users WHERE user_id = ?", alice.id) == [(None,)]
        # Nothing awaited any more: the facilitator's text is not taken for the card.
        await organiser.send("Un message de plus")
        await emulator.wait_idle()
        assert rows(database, "SELECT text FROM resolutions")[0][0].startswith("Un guichet")

        # Statement 3: votes; then "next" while Carol's phone cannot be reached.
        await organiser.press(NEXT, message=control())
        await emulator.wait_idle()
        assert_phones_on(database, plans, walk[2])
        await vote_round(emulator, database, plans, 2, skip=set())
        carol = plans[5].user
        emulator.block(carol.id)
        await organiser.press(NEXT, message=control())
        await emulator.wait_idle()
        emulator.unblock(carol.id)
        assert room_position(database) == (walk[3][0], 0)
        assert vote_buttons(phone(database, carol)) == {walk[2][0]}  # her edit was lost
    rejected = [c.error_code for c in emulator.rejected if c.method != "answerCallbackQuery"]
    assert rejected == refused, [str(c)[:600] for c in emulator.rejected]

    # The bot stops in the middle of the room; votes sent meanwhile wait for it.
    pressed = []
    for plan in plans[:6]:
        message = phone(database, plan.user)
        if plan.user.id != carol.id and vote_buttons(message) == {walk[3][0]}:
            await plan.user.press(VOTE_LABELS[plan.language]["agree"], message=message)
            pressed.append(plan.user.id)
    assert pressed

    async with bot_running(settings, emulator):
        await emulator.wait_idle()
        # No vote lost, every phone on the room's statement (Carol's caught up).
        stored = votes_on(database, walk[3][0])
        assert all(stored.get(uid) == "agree" for uid in pressed)
        assert_phones_on(database, plans, walk[3])
        await vote_round(emulator, database, plans, 3, skip=set(pressed))
        tallied = tallied_lines(control())
        assert tallied == tally_lines(database, journey, walk[3][0])

        # Statement 5: a second convergence, marked twice (one resolution).
        await organiser.press(NEXT, message=control())
        await emulator.wait_idle()
        assert_phones_on(database, plans, walk[4])
        await vote_round(emulator, database, plans, 4, skip=set())
        for _ in range(2):
            await organiser.press(CONVERGE, message=control())
            await emulator.wait_idle()
        assert len(rows(database, "SELECT 1 FROM resolutions")) == 2

        # Statement 6, withdrawn while the room is on it: no convergence on it.
        await organiser.press(NEXT, message=control())
        await emulator.wait_idle()
        assert_phones_on(database, plans, walk[5])
        await organiser.send(f"/withdraw {walk[5][1]}")
        await emulator.wait_idle()
        await organiser.press(CONVERGE, message=control())
        await emulator.wait_idle()
        assert organiser.callback_answers[-1]["text"] == fr(
            "This statement was withdrawn: it cannot become a resolution."
        )
        assert len(rows(database, "SELECT 1 FROM resolutions")) == 2

        # The control's buttons are the facilitators' alone.
        [(button,)] = [(data,) for row in control().buttons for label, data in row if label == NEXT]
        await alice.press_data(button or "")
        await emulator.wait_idle()
        assert "Seule l'équipe d'animation" in alice.callback_answers[-1]["text"]
        assert room_position(database)[0] == walk[5][0]

        # Each phone received two agora messages in all: the introduction and the one
        # message edited in place.
        for plan in plans:
            assert sends_to(emulator, plan.user.id, opened_at) == 2, plan.user.id

        # To the end: "next" after the last statement changes nothing.
        for _ in range(len(walk)):
            await organiser.press(NEXT, message=control())
            await emulator.wait_idle(quiet=0.05)
        assert organiser.callback_answers[-1]["text"] == fr(
            "This is the last statement: nothing changed."
        )
        assert room_position(database)[0] == walk[-1][0]

        await organiser.send("/resolutions")
        await emulator.wait_idle()
        listed = organiser.last.text or ""
        assert "Un guichet commun <b>ESS</b> & élus" in listed and "Mairie de la Vallée" in listed
        assert day(date(2099, 12, 31), "fr") in listed and walk[4][3] in listed

        # The agora closes: no phone keeps a vote button, the control none either.
        await organiser.send("/agora close")
        await emulator.wait_idle()
        assert all(not vote_buttons(phone(database, p.user)) for p in plans)
        assert rows(database, "SELECT DISTINCT offer_statement_id FROM participants") == [(None,)]
        assert control().buttons == []

        # The resolutions in the synthesis, the export and what is shared.
        before = len(organiser.messages)
        await organiser.send("/synthesis")
        await emulator.wait_idle()
        pulled = "\n".join(m.text or "" for m in organiser.messages[before:])
        assert "Un guichet commun <b>ESS</b> & élus" in pulled and "Mairie de la Vallée" in pulled
        second = walk[4][3]  # the second convergence's text, as the room saw it
        assert second in pulled
        before = len(organiser.messages)
        await organiser.send("/export")
        await emulator.wait_idle()
        documents = {m.file_name: m.file_bytes or b"" for m in organiser.messages[before:]}
        resolved = documents["resolutions.csv"].decode("utf-8-sig")
        assert "Mairie de la Vallée" in resolved and "2099-12-31" in resolved
        assert len(resolved.strip().splitlines()) == 3  # a header and two resolutions
        assert "Mairie de la Vallée" in documents["synthesis.md"].decode("utf-8")
        assert second in resolved
        # In synthesis.md's resolutions table (the text's own markup made inert there).
        markdown = documents["synthesis.md"].decode("utf-8")
        table = markdown.split("### " + fr("Resolutions"), 1)[1].split("###", 1)[0]
        assert second.split("<")[0].strip() in table and "Mairie de la Vallée" in table
        shared_from = {plan.user.id: len(plan.user.messages) for plan in plans}
        await organiser.send("/share")
        await emulator.wait_idle()
        for plan in plans:
            shared = "\n".join(
                m.text or "" for m in plan.user.messages[shared_from[plan.user.id] :]
            )
            assert "Mairie de la Vallée" in shared and second in shared
            assert day(date(2099, 12, 31), plan.language) in shared
    # After the restart the bot does not know what the control shows: its first refresh
    # may change nothing (the votes that came in were of groups too small to show), and
    # be refused as such, once. Any other refusal is a fault.
    later = [c for c in emulator.rejected[len(refused) :] if c.method != "answerCallbackQuery"]
    assert len(later) <= 1, [str(c)[:300] for c in later]
    for call in later:
        assert call.method == "editMessageText" and "not modified" in (call.error or "")
        assert call.params.get("message_id") == control_id


async def test_nothing_approved_nothing_opens(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    organiser = emulator.user(ORGANISER_ID)
    async with bot_running(settings, emulator):
        await create_workshop(emulator)
        await organiser.send("/agora room")
        await emulator.wait_idle()
        refusal = fr(
            "Nothing can be put to the room in «{title}» yet: no statement is approved. "
            "Nothing changed."
        )
        assert organiser.last.text == refusal.format(title="Atelier de la vallée")
        assert rows(database, "SELECT agora_opened_at, agora_mode FROM workshops") == [
            (None, "self")
        ]
        await organiser.send("/resolutions")
        await emulator.wait_idle()
        assert "/agora salle" in (organiser.last.text or "")
        await organiser.send("/cancel")
        await emulator.wait_idle()
        assert organiser.last.text == fr("Nothing to cancel.")
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []


async def test_an_open_self_paced_agora_switches_to_the_room(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """The phones keep their one message: switched, it shows the room's statement."""
    settings = replace(settings, messages_per_second=1000)
    database = settings.database
    organiser = emulator.user(ORGANISER_ID)
    async with bot_running(settings, emulator):
        code = await create_workshop(emulator)
        for command in ("/review off", "/caucus off", "/agora order etat, agent"):
            await organiser.send(command)
            await emulator.wait_idle()
        plans = []
        for index in range(4):
            user = emulator.user(7100 + index, language_code="fr")
            plan = Plan(user, "fr", journey.categories[index].id)
            plan_onboarding(plan, journey, code)
            plan_phase_one(plan, journey)
            plan_phase_two(plan, journey)
            plans.append(plan)
        await in_lockstep(emulator, plans)
        await organiser.send("/agora")
        await emulator.wait_idle()
        held = {p.user.id: phone(database, p.user) for p in plans}
        assert all(held.values())
        switched_at = len(emulator.calls)
        await organiser.send("/agora room")
        await emulator.wait_idle()
        assert rows(database, "SELECT agora_mode FROM workshops") == [("room",)]
        walk = expected_walk(database)
        assert room_position(database) == (walk[0][0], 0)
        assert_phones_on(database, plans, walk[0])
        for plan in plans:  # the same message, edited: nothing new sent
            assert phone(database, plan.user).message_id == held[plan.user.id].message_id  # type: ignore[union-attr]
            assert sends_to(emulator, plan.user.id, switched_at) == 0
        # /agora again: the room goes on, with a new control (the old one loses its buttons).
        first_control = organiser.last.message_id
        await organiser.send("/agora")
        await emulator.wait_idle()
        assert organiser.bot_message(first_control).buttons == []  # type: ignore[union-attr]
        assert NEXT in organiser.last.labels
        assert room_position(database) == (walk[0][0], 0)
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []
