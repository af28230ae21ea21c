"""Storage: migrations, and the write that makes answers exactly-once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage import answers, participants, quotes, updates, workshops
from storage.db import Database
from storage.migrations import LATEST_VERSION, schema_version
from storage.participants import StepChange, StepWrite

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


async def _tables(path: Path) -> set[str]:
    async with (
        aiosqlite.connect(path) as conn,
        conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as rows,
    ):
        return {row[0] for row in await rows.fetchall()}


async def test_migrates_an_empty_file_to_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = await Database.open(path)
    async with db.reading() as conn:
        assert await schema_version(conn) == LATEST_VERSION
        async with conn.execute("PRAGMA journal_mode") as rows:
            assert (await rows.fetchone())[0] == "wal"
        async with conn.execute("PRAGMA foreign_keys") as rows:
            assert (await rows.fetchone())[0] == 1
    await db.close()
    assert {
        "workshops",
        "facilitators",
        "participants",
        "answers",
        "users",
        "processed_updates",
    } <= (await _tables(path))


@pytest.mark.parametrize("start", range(1, LATEST_VERSION))
async def test_migrates_from_an_older_version_keeping_data(tmp_path: Path, start: int) -> None:
    path = tmp_path / "old.sqlite3"
    old = await Database.open(path, target_version=start)
    async with old.reading() as conn:
        assert await schema_version(conn) == start
    # Rows written with the columns of version 1, as an older coopbot wrote them.
    async with old.transaction() as conn:
        await conn.execute(
            "INSERT INTO workshops (id, code, facilitator_code, title, journey_id, created_by,"
            " created_at) VALUES (1, 'cccc', 'ffff', 'Vallée', 'cooperation', 1, ?)",
            (NOW.isoformat(),),
        )
        cursor = await conn.execute(
            "INSERT INTO participants (workshop_id, user_id, category, language, state, joined_at)"
            " VALUES (1, 42, 'elu', 'fr', 'm1_present', ?) RETURNING id",
            (NOW.isoformat(),),
        )
        (first_id,) = await cursor.fetchone()
        await conn.execute(
            "INSERT INTO participants (workshop_id, user_id, category, language, state, joined_at,"
            " finished_at) VALUES (1, 43, 'etat', 'fr', 'done', ?, ?)",
            (NOW.isoformat(), NOW.isoformat()),
        )
        if start >= 2:
            await conn.execute(
                "INSERT INTO users (user_id, current_participant_id, updated_at) VALUES (42, ?, ?)",
                (first_id, NOW.isoformat()),
            )
    await old.close()

    db = await Database.open(path)
    async with db.reading() as conn:
        assert await schema_version(conn) == LATEST_VERSION
    current = await participants.current(db, user_id=42)
    assert current is not None and current.state == "m1_present" and current.category == "elu"
    assert current.prompt_message_id is None
    found = await workshops.find_by_code(db, code="cccc")
    assert found is not None and found[0].title == "Vallée" and not found[1]
    # Workshops from before phase 2 existed let it follow phase 1; whoever had finished
    # phase 1 is at its door, not at the end.
    earlier = [p for p in await participants.of_user(db, user_id=43)]
    if start < 4:  # the migration that brought phase 2
        assert found[0].peers_open and not found[0].agora_open
        assert [(p.state, p.finished_at) for p in earlier] == [("peers_wait", None)]
    else:
        assert [p.state for p in earlier] == ["done"]
    assert current.shown_state is None  # from before it was recorded: taken as shown
    await participants.set_prompt_message(
        db, participant_id=current.id, message_id=77, shown_state=current.state
    )
    again = await participants.current(db, user_id=42)
    assert again is not None and again.prompt_message_id == 77
    assert again.shown_state == current.state
    await db.close()


async def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    async with aiosqlite.connect(path) as conn:
        await conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer than this coopbot"):
        await Database.open(path)


async def _participant(db: Database) -> int:
    workshop = await workshops.create(
        db,
        code="a" * 16,
        facilitator_code="b" * 16,
        title="T",
        journey_id="cooperation",
        created_by=1,
        now=NOW,
    )
    participant, created = await participants.join(
        db, workshop_id=workshop.id, user_id=7, language="fr", initial_state="q1", now=NOW
    )
    assert created
    again, created_again = await participants.join(
        db, workshop_id=workshop.id, user_id=7, language="en", initial_state="q1", now=NOW
    )
    assert not created_again and again.id == participant.id and again.language == "fr"
    return participant.id


async def test_a_step_is_written_once_per_update_and_only_from_its_state(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "steps.sqlite3")
    pid = await _participant(db)
    change = StepChange(expected_state="q1", new_state="q2", answer=("q1", "4"))
    written, stored = await participants.record_step(
        db, participant_id=pid, update_id=1000, change=change, now=NOW
    )
    assert written is StepWrite.APPLIED and stored is not None and stored.state == "q2"
    # The same update again: nothing changes.
    again, _ = await participants.record_step(
        db, participant_id=pid, update_id=1000, change=change, now=NOW
    )
    assert again is StepWrite.DUPLICATE
    # Another update computed for a state the participant has left: stale, and the
    # update is not marked as handled (it may be retried against the new state).
    stale, stored = await participants.record_step(
        db, participant_id=pid, update_id=1001, change=change, now=NOW
    )
    assert stale is StepWrite.STALE and stored is not None and stored.state == "q2"
    async with (
        db.reading() as conn,
        conn.execute("SELECT update_id FROM processed_updates") as rows,
    ):
        assert [row[0] for row in await rows.fetchall()] == [1000]
    saved = await answers.for_participant(db, participant_id=pid)
    assert [(a.question_id, a.value, a.edited_at) for a in saved] == [("q1", "4", None)]
    await db.close()


async def test_answering_again_edits_and_keeps_the_first_time(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "edit.sqlite3")
    pid = await _participant(db)
    later = NOW + timedelta(minutes=5)
    await participants.record_step(
        db,
        participant_id=pid,
        update_id=1,
        change=StepChange(expected_state="q1", new_state="q2", answer=("q1", "2")),
        now=NOW,
    )
    await participants.record_step(
        db,
        participant_id=pid,
        update_id=2,
        change=StepChange(expected_state="q2", new_state="q1"),
        now=NOW,
    )
    await participants.record_step(
        db,
        participant_id=pid,
        update_id=3,
        change=StepChange(expected_state="q1", new_state="q2", answer=("q1", "5")),
        now=later,
    )
    saved = await answers.for_participant(db, participant_id=pid)
    assert len(saved) == 1
    assert (saved[0].value, saved[0].answered_at, saved[0].edited_at) == ("5", NOW, later)
    await db.close()


async def test_a_chosen_quote_goes_when_its_answer_changes(tmp_path: Path) -> None:
    """The report quotes only words a facilitator chose as they read them."""
    db = await Database.open(tmp_path / "quote.sqlite3")
    pid = await _participant(db)

    async def answer(text: str, shown: str | None = None) -> None:
        async with db.transaction() as conn:
            await answers.save(
                conn, participant_id=pid, question_id="q1", value=text, shown=shown, now=NOW
            )

    async def chosen() -> list[bool]:
        row = await quotes.get(db, answer_id=1)  # the workshop's one answer
        return [row.chosen] if row else []

    await answer("Un cadre clair")
    found = await quotes.get(db, answer_id=1)
    assert found is not None
    assert await quotes.choose(db, answer=found, chosen=True, by=1, now=NOW)
    await answer("Un cadre clair")  # the same words again (a redelivery): still chosen
    assert await chosen() == [True]
    await answer("Un cadre clair", shown="Un cadre [masqué]")  # masked otherwise now
    assert await chosen() == [False]
    assert await quotes.choose(db, answer=found, chosen=True, by=1, now=NOW)
    await answer("Autre chose")
    assert await chosen() == [False]
    again = await quotes.get(db, answer_id=1)  # the same answer, to be chosen again
    assert again is not None and again.answer_id == found.answer_id
    await db.close()


async def test_leaving_erases_answers_and_old_updates_are_pruned(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "leave.sqlite3")
    pid = await _participant(db)
    await participants.record_step(
        db,
        participant_id=pid,
        update_id=5,
        change=StepChange(expected_state="q1", new_state="q2", answer=("q1", "3")),
        now=NOW,
    )
    await participants.leave(db, participant_id=pid)
    assert await answers.for_participant(db, participant_id=pid) == []
    assert await participants.current(db, user_id=7) is None
    assert await updates.prune(db, before=NOW + timedelta(seconds=1)) == 1
    await db.close()
