"""Syntheses end to end: pushed when a phase is over, pulled, exported, shared; refused to
anyone who does not facilitate the workshop; nobody's identity anywhere in them; the
resolutions recorded in each of them, escaped."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.settings import Settings
from flows.export import COLUMNS, RESOLUTION_COLUMNS, STATEMENT_COLUMNS
from flows.journey import Journey
from storage import resolutions
from storage.db import Database, utc_now
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, create_workshop, facilitator_code
from tests.helpers import Plan, in_lockstep, plan_onboarding, plan_phase_one, plan_phase_two
from tests.test_agora_e2e import vote_until_caught_up
from tgemu import BotApiEmulator, EmulatedUser

HOSTILE = "<b>gras</b> & <script>alert(1)</script> " + "x" * 3000
RESOLVED = "Un comité <commun> & trimestriel"


@pytest.fixture
async def long_answers_room(
    settings: Settings, emulator: BotApiEmulator
) -> AsyncIterator[Application]:
    """A fast room whose answers may be as long as 4,000 characters."""
    tuned = replace(settings, messages_per_second=1000, max_answer_length=4000)
    async with bot_running(tuned, emulator) as application:
        yield application
    assert [c for c in emulator.rejected if c.method != "answerCallbackQuery"] == []


def count_rows(database: Path) -> int:
    """The rows answers.csv holds: answers, statements not rejected, caucus and agora
    votes."""
    with stored.connect(database) as conn:
        answers = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        statements = conn.execute(
            "SELECT COUNT(*) FROM statements WHERE status != 'rejected'"
        ).fetchone()[0]
        votes = conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        caucus_votes = conn.execute("SELECT COUNT(*) FROM caucus_votes").fetchone()[0]
    return int(answers + statements + votes + caucus_votes)


async def without_review_nor_caucus(emulator: BotApiEmulator, organiser: EmulatedUser) -> None:
    """Statements straight to the agora: this file is about the syntheses, not about
    reviewing statements or the groups' choice."""
    for command in ("/review off", "/caucus off"):
        await organiser.send(command)
        await emulator.wait_idle()


async def record_resolution(database: Path, *, number: int) -> None:
    """What the room's "convergence" button stores (flows/resolutions.py drives it end to
    end in tests/test_room_e2e.py): here, on statement `number`, carried by the officers."""
    db = await Database.open(database)
    try:
        with stored.connect(database) as conn:
            workshop_id, statement_id = conn.execute(
                "SELECT workshop_id, id FROM statements WHERE number = ?", (number,)
            ).fetchone()
        made, _ = await resolutions.record(
            db,
            workshop_id=workshop_id,
            statement_id=statement_id,
            text=RESOLVED,
            carrier_category="agent",
            by=ORGANISER_ID,
            now=utc_now(),
        )
        await resolutions.update(db, resolution_id=made.id, now=utc_now(), due_on=date(2027, 3, 15))
    finally:
        await db.close()


async def test_twelve_participants_and_their_synthesis(
    long_answers_room: Application,
    emulator: BotApiEmulator,
    settings: Settings,
    journey: Journey,
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    await without_review_nor_caucus(emulator, organiser)
    plans = []
    for index in range(12):
        language = "en" if index % 4 == 3 else "fr"
        user = emulator.user(
            870_000_001 + index, first_name=f"Prénom{index}", language_code=language
        )
        plan = Plan(user, language, journey.categories[index % 4].id)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        plans.append(plan)
    # One answer holds markup, an ampersand, a script tag and 3,000 more characters.
    reflection = next(i for i, p in enumerate(journey.live_prompts()) if p.kind == "text")
    hostile_step = 4 + reflection
    original = plans[0].steps[hostile_step]

    async def hostile() -> object:
        return await plans[0].user.send(HOSTILE)

    plans[0].steps[hostile_step] = hostile
    assert original is not hostile
    before = len(organiser.messages)
    await in_lockstep(emulator, plans)

    # Pushed without asking: phase 1's synthesis when the last one finished it, then
    # phase 2's.
    pushed = [m for m in organiser.messages[before:] if "📬" in (m.text or "")]
    assert len(pushed) == 2
    assert any(m.kind == "photo" for m in organiser.messages[before:])

    await organiser.send("/agora")
    await emulator.wait_idle()
    await vote_until_caught_up(emulator, plans, {})
    await record_resolution(settings.database, number=1)
    before = len(organiser.messages)
    await organiser.send("/agora close")
    await emulator.wait_idle()
    assert any("📬" in (m.text or "") for m in organiser.messages[before:])

    # Pulled: messages and the four charts.
    before = len(organiser.messages)
    await organiser.send("/synthesis")
    await emulator.wait_idle()
    answer = organiser.messages[before:]
    texts = [m for m in answer if m.kind == "text"]
    photos = [m for m in answer if m.kind == "photo"]
    assert texts and len(photos) == 4
    assert all(len((m.text or "").encode("utf-16-le")) // 2 <= 4096 for m in texts)
    pulled = "\n".join(m.text or "" for m in texts)
    assert f"« {RESOLVED} »" in pulled and "&lt;commun&gt;" not in pulled  # escaped once
    assert "les agents de collectivité" in pulled and "15 mars 2027" in pulled
    assert re.search(r"\d+ sur \d+ d'accord, \d+ pas d'accord", pulled)  # plain figures
    assert "médiane" not in pulled and "p(" not in pulled

    # Exported: the CSV has exactly the columns asked for, one row per stored answer,
    # statement and vote; the Markdown report and the charts come with it.
    before = len(organiser.messages)
    await organiser.send("/export")
    await emulator.wait_idle()
    documents = {m.file_name: m.file_bytes or b"" for m in organiser.messages[before:]}
    assert {"answers.csv", "synthesis.md", "profile.png", "funnel.png"} <= set(documents)
    table = list(csv.reader(io.StringIO(documents["answers.csv"].decode("utf-8-sig"))))
    assert tuple(table[0]) == COLUMNS
    assert len(table) - 1 == count_rows(settings.database)
    # The authors' own agreement is among the votes, in the caucus and in the agora.
    assert {row[3] for row in table[1:]} == {"1", "2", "caucus", "agora"}
    assert {row[6] for row in table[1:] if row[3] == "agora"} <= {"agree", "disagree", "pass"}
    assert all("+" in row[7] or row[7].endswith("+00:00") for row in table[1:])
    # To the minute, as the consent screen promises: never the seconds.
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d[+-]\d\d:\d\d", row[7]) for row in table[1:])
    # One row per statement, each put to the agora (no caucus), none merged.
    written = list(csv.DictReader(io.StringIO(documents["statements.csv"].decode("utf-8-sig"))))
    assert tuple(written[0]) == STATEMENT_COLUMNS and len(written) == 24
    assert {(row["status"], row["in_agora"], row["merged_into"]) for row in written} == {
        ("approved", "yes", "")
    }
    resolved = list(csv.reader(io.StringIO(documents["resolutions.csv"].decode("utf-8-sig"))))
    officers = journey.category("agent")
    assert officers is not None
    assert tuple(resolved[0]) == RESOLUTION_COLUMNS
    assert resolved[1][1:] == [
        "1",
        RESOLVED,
        officers.label["fr"],  # the category's label, as the journey names it
        "agent",
        "2027-03-15",
        "1",
        resolved[1][-1],
    ]
    markdown = documents["synthesis.md"].decode("utf-8")
    assert "Un comité \\<commun\\> & trimestriel" in markdown and "<commun>" not in markdown

    # Nobody's Telegram id or name in anything the facilitator received.
    received = "\n".join(
        [m.text or m.caption or "" for m in organiser.messages]
        + [data.decode("utf-8", "ignore") for data in documents.values()]
    )
    for plan in plans:
        assert str(plan.user.id) not in received
        assert f"Prénom{plans.index(plan)} " not in received
    # The hostile answer reads as typed (escaped, not taken for markup), cut to a quote.
    shown = "".join(m.text or "" for m in texts)
    assert "<b>gras</b> & <script>alert(1)</script> xxx" in shown and "x" * 3000 not in shown

    # Shared with the participants, in their language: no quotes, the resolution.
    received_before = {plan.user.id: len(plan.user.messages) for plan in plans}
    await organiser.send("/share")
    await emulator.wait_idle()
    assert "12" in (organiser.last.text or "")
    for plan in plans:
        shared = "\n".join(
            m.text or "" for m in plan.user.messages[received_before[plan.user.id] :]
        )
        assert HOSTILE[:20] not in shared
        assert RESOLVED in shared and "&lt;commun&gt;" not in shared  # escaped once
        assert {"fr": "15 mars 2027", "en": "March 15, 2027"}[plan.language] in shared


async def test_only_this_workshops_facilitators_get_its_synthesis(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    participant = emulator.user(7100, language_code="fr")
    plan = Plan(participant, "fr", "elu")
    plan_onboarding(plan, journey, code)
    await in_lockstep(emulator, [plan])
    await create_workshop(emulator, "Autre atelier")
    other = emulator.user(7200, language_code="fr")
    await other.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    for user in (participant, other):
        for command in (f"/synthesis {code}", f"/export {code}", f"/share {code}"):
            shown = len(user.messages)
            await user.send(command)
            await emulator.wait_idle()
            assert "Seule l'équipe d'animation" in (user.last.text or ""), (user.id, command)
            assert len(user.messages) == shown + 1
            assert not any(m.kind in ("document", "photo") for m in user.messages[shown:])


async def test_the_export_from_the_command_line(
    room: Application,
    emulator: BotApiEmulator,
    settings: Settings,
    journey: Journey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = await create_workshop(emulator)
    plans = []
    for index in range(3):
        plan = Plan(emulator.user(7300 + index, language_code="fr"), "fr", "agent")
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    monkeypatch.setenv("COOPBOT_DB", str(settings.database))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    from bot.cli import main

    out = tmp_path / "export"
    assert await asyncio.to_thread(main, ["export", code, "--out", str(out)]) == 0
    table = list(csv.reader(io.StringIO((out / "answers.csv").read_text("utf-8-sig"))))
    phase1 = len(journey.live_prompts())  # each of the three answers every question
    assert len(table) - 1 == count_rows(settings.database) == 3 * phase1
    assert (out / "synthesis.md").read_text("utf-8").startswith("#")
    assert (out / "funnel.png").read_bytes().startswith(b"\x89PNG")
    assert await asyncio.to_thread(main, ["export", "Zz" * 8, "--out", str(out)]) == 2
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    assert await asyncio.to_thread(main, ["export", code, "--out", str(not_a_folder)]) == 2


async def test_the_board_is_edited_in_place_as_participants_answer(
    room: Application, emulator: BotApiEmulator, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    await organiser.send("/progress")
    await emulator.wait_idle()
    board = organiser.last
    assert "1 personne" not in (board.text or "")
    plan = Plan(emulator.user(7400, language_code="fr"), "fr", "elu")
    plan_onboarding(plan, journey, code)
    await in_lockstep(emulator, [plan])
    shown = len(organiser.messages)
    for _ in range(40):  # the job looks every 5 seconds
        edited = organiser.bot_message(board.message_id)
        if edited is not None and "1 personne" in (edited.text or ""):
            break
        await asyncio.sleep(0.25)
    edited = organiser.bot_message(board.message_id)
    assert edited is not None and "1 personne" in (edited.text or "")
    assert len(organiser.messages) == shown  # edited, not sent again


async def test_a_synthesis_asked_for_a_time_goes_out_once(
    settings: Settings, journey: Journey, tmp_path: Path
) -> None:
    from datetime import timedelta

    from flows.engine import JourneyEngine
    from flows.facilitation import FacilitationService
    from storage import workshops
    from storage.db import Database, utc_now

    database = await Database.open(tmp_path / "due.sqlite3")
    facilitation = FacilitationService(database, JourneyEngine(journey))
    workshop = await workshops.create(
        database,
        code="Cccccccccccccccc",
        facilitator_code="Ffffffffffffffff",
        title="Atelier",
        journey_id=journey.id,
        created_by=1,
        now=utc_now(),
    )
    await facilitation.schedule_synthesis(
        user_id=1, code=workshop.code, when=utc_now() + timedelta(hours=1)
    )
    assert await facilitation.due_syntheses() == []
    await facilitation.schedule_synthesis(
        user_id=1, code=workshop.code, when=utc_now() - timedelta(seconds=1)
    )
    assert [w.id for w in await facilitation.due_syntheses()] == [workshop.id]
    assert await facilitation.due_syntheses() == []  # taken once
    await database.close()
