"""Reads beside the writer: they never wait for a transaction, see every commit before
them, cannot write; and the answer's path costs a handful of hops to SQLite's threads."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from storage import answers, participants, workshops
from storage.db import Database
from storage.participants import StepChange, StepWrite

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


async def _participant(db: Database, user_id: int = 7) -> int:
    workshop = await workshops.create(
        db,
        code="a" * 16,
        facilitator_code="b" * 16,
        title="T",
        journey_id="cooperation",
        created_by=1,
        now=NOW,
    )
    participant, _ = await participants.join(
        db, workshop_id=workshop.id, user_id=user_id, language="fr", initial_state="q1", now=NOW
    )
    return participant.id


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the calls handed to aiosqlite's threads (each a hop there and back)."""
    counted = [0]
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counted[0] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    yield counted


async def test_a_read_does_not_wait_for_a_transaction_and_sees_only_commits(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "read.sqlite3")
    pid = await _participant(db)
    try:
        async with db.transaction() as conn:
            await answers.save(conn, participant_id=pid, question_id="q1", value="4", now=NOW)
            # The transaction holds the lock and has written: a read goes on beside it...
            async with asyncio.timeout(2):
                pending = await answers.value_of(db, participant_id=pid, question_id="q1")
            # ...and sees what was committed, not what is still being written.
            assert pending is None
        # Committed: the next read, on another connection, sees it.
        assert await answers.value_of(db, participant_id=pid, question_id="q1") == "4"
    finally:
        await db.close()


async def test_reads_cannot_write(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "readonly.sqlite3")
    try:
        async with db.reading() as conn:
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                await conn.execute("DELETE FROM participants")
            async with conn.execute("PRAGMA foreign_keys") as rows:  # same pragmas as the writer
                assert (await rows.fetchone())[0] == 1
    finally:
        await db.close()


async def test_a_database_in_memory_reads_what_it_wrote() -> None:
    """`:memory:` is one connection's own: its reads go to the writer."""
    db = await Database.open(":memory:")
    try:
        pid = await _participant(db)
        stored = await participants.get(db, participant_id=pid)
        assert stored is not None and stored.state == "q1"
    finally:
        await db.close()


async def test_a_failed_transaction_leaves_nothing_and_an_empty_one_costs_nothing(
    tmp_path: Path, hops: list[int]
) -> None:
    db = await Database.open(tmp_path / "rollback.sqlite3")
    pid = await _participant(db)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await answers.save(conn, participant_id=pid, question_id="q1", value="4", now=NOW)
                raise RuntimeError("a bug after the write")
        assert await answers.value_of(db, participant_id=pid, question_id="q1") is None
        hops[0] = 0
        async with db.transaction():
            pass  # no statement: no BEGIN, no COMMIT
        assert hops[0] == 0
    finally:
        await db.close()


async def test_the_answer_path_costs_a_handful_of_hops(tmp_path: Path, hops: list[int]) -> None:
    db = await Database.open(tmp_path / "hops.sqlite3")
    pid = await _participant(db)
    try:
        hops[0] = 0
        standing = await participants.standing(db, user_id=7, update_id=11)
        assert hops[0] == 1  # the participation, its workshop and the ledger: one read
        assert standing.participant is not None and standing.participant.id == pid
        assert (
            standing.workshop is not None
            and standing.workshop.id == standing.participant.workshop_id
        )
        assert not standing.handled

        hops[0] = 0
        written, stored = await participants.record_step(
            db,
            participant_id=pid,
            update_id=11,
            change=StepChange(expected_state="q1", new_state="q2", answer=("q1", "4")),
            now=NOW,
        )
        # BEGIN, the move (returning the row) and the claim; then the answer and COMMIT.
        assert hops[0] == 2
        assert written is StepWrite.APPLIED and stored is not None and stored.state == "q2"

        hops[0] = 0
        await participants.set_prompt_message(
            db, participant_id=pid, message_id=5, shown_state="q2"
        )
        assert hops[0] == 1  # one statement, no BEGIN, no COMMIT

        again = await participants.standing(db, user_id=7, update_id=11)
        assert again.handled  # the redelivery is recognised in the same one read
        assert again.participant is not None and again.participant.prompt_message_id == 5
        assert await answers.value_of(db, participant_id=pid, question_id="q1") == "4"
        assert (await participants.standing(db, user_id=8, update_id=12)).participant is None
    finally:
        await db.close()


async def test_a_lost_race_rolls_back_the_claim(tmp_path: Path) -> None:
    """A move computed from a state the participant has left writes nothing, not even the
    update's claim: delivered again, it is looked at afresh."""
    db = await Database.open(tmp_path / "race.sqlite3")
    pid = await _participant(db)
    try:
        stale = StepChange(expected_state="q0", new_state="q2", answer=("q1", "4"))
        written, stored = await participants.record_step(
            db, participant_id=pid, update_id=21, change=stale, now=NOW
        )
        assert written is StepWrite.STALE and stored is not None and stored.state == "q1"
        assert not (await participants.standing(db, user_id=7, update_id=21)).handled
        assert await answers.value_of(db, participant_id=pid, question_id="q1") is None
    finally:
        await db.close()


async def test_many_reads_and_writes_at_once_all_land(tmp_path: Path) -> None:
    """Writers serialised by the lock, readers beside them: nothing lost, nothing torn."""
    db = await Database.open(tmp_path / "many.sqlite3")
    pid = await _participant(db)
    try:

        async def write(index: int) -> None:
            async with db.transaction() as conn:
                await answers.save(
                    conn, participant_id=pid, question_id=f"q{index}", value=str(index), now=NOW
                )

        async def read(index: int) -> str | None:
            return await answers.value_of(db, participant_id=pid, question_id=f"q{index}")

        await asyncio.gather(*(write(i) for i in range(40)), *(read(i) for i in range(40)))
        stored = await answers.for_participant(db, participant_id=pid)
        assert sorted(a.value for a in stored) == sorted(str(i) for i in range(40))
    finally:
        await db.close()


async def test_a_snapshot_sees_the_database_as_its_first_statement_did(tmp_path: Path) -> None:
    """A read of several statements that must agree (an export) asks for a snapshot: a
    commit between its statements is not in it, while reads beside it see that commit."""
    db = await Database.open(tmp_path / "snapshot.sqlite3")
    pid = await _participant(db)
    count = "SELECT COUNT(*) FROM answers"
    try:
        async with db.reading(snapshot=True) as snap:
            async with snap.execute(count) as rows:
                assert (await rows.fetchone())[0] == 0
            async with db.transaction() as conn:
                await answers.save(conn, participant_id=pid, question_id="q1", value="4", now=NOW)
            assert await answers.value_of(db, participant_id=pid, question_id="q1") == "4"
            async with snap.execute(count) as rows:
                assert (await rows.fetchone())[0] == 0  # still the snapshot's view
        async with db.reading(snapshot=True) as snap, snap.execute(count) as rows:
            assert (await rows.fetchone())[0] == 1  # the next snapshot has it
    finally:
        await db.close()


async def test_an_update_claimed_before_rolls_its_move_back(tmp_path: Path) -> None:
    """The move and the claim go together: a redelivered update, even one that would fit
    the step the participant is at now, moves nothing and stores nothing."""
    db = await Database.open(tmp_path / "claimed.sqlite3")
    pid = await _participant(db)
    try:
        first = StepChange(expected_state="q1", new_state="q2", answer=("q1", "4"))
        written, _ = await participants.record_step(
            db, participant_id=pid, update_id=31, change=first, now=NOW
        )
        assert written is StepWrite.APPLIED
        again = StepChange(expected_state="q2", new_state="q3", answer=("q2", "5"))
        written, stored = await participants.record_step(
            db, participant_id=pid, update_id=31, change=again, now=NOW
        )
        assert written is StepWrite.DUPLICATE and stored is not None and stored.state == "q2"
        assert await answers.value_of(db, participant_id=pid, question_id="q2") is None
    finally:
        await db.close()


async def test_a_deferred_write_that_fails_fails_the_whole_transaction(tmp_path: Path) -> None:
    """A write nobody reads back goes with the COMMIT: if it fails, nothing is kept."""
    db = await Database.open(tmp_path / "deferred.sqlite3")
    pid = await _participant(db)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await answers.save(conn, participant_id=pid, question_id="q1", value="4", now=NOW)
                conn.defer("INSERT INTO answers (participant_id) VALUES (NULL)")  # refused
        assert await answers.value_of(db, participant_id=pid, question_id="q1") is None
        async with db.transaction() as conn:  # rolled back: the next transaction begins
            await answers.save(conn, participant_id=pid, question_id="q1", value="5", now=NOW)
        assert await answers.value_of(db, participant_id=pid, question_id="q1") == "5"
    finally:
        await db.close()


@pytest.mark.parametrize("yields", [0, 1, 2, 3])
async def test_a_transaction_cancelled_mid_hop_leaves_the_writer_usable(
    tmp_path: Path, yields: int
) -> None:
    # Cancelled while its first hop (BEGIN and a statement) waits in the thread's queue or
    # runs there: the rollback queued behind it must end that transaction.
    db = await Database.open(tmp_path / "c.sqlite3")
    try:
        participant_id = await _participant(db)

        async def pause() -> None:
            async with db.transaction() as conn:
                await conn.execute(
                    "UPDATE participants SET paused_at = NULL WHERE id = ?", (participant_id,)
                )
                await asyncio.sleep(10)

        task = asyncio.create_task(pause())
        for _ in range(yields):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.transaction() as conn:  # would fail: a transaction within a transaction
            await conn.execute(
                "UPDATE participants SET paused_at = NULL WHERE id = ?", (participant_id,)
            )
        assert await db.write(
            "UPDATE participants SET paused_at = NULL WHERE id = ?", (participant_id,)
        )
        async with db.reading(snapshot=True) as conn:
            rows = await conn.execute(
                "SELECT paused_at FROM participants WHERE id = ?", (participant_id,)
            )
            assert [tuple(row) for row in await rows.fetchall()] == [(None,)]
    finally:
        await db.close()
