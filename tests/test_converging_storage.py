"""Storage of a converging workshop: the migration that brought it, statements entering the
agora with their authors' agreement, merges, the caucus, the room's gate on votes and
resolutions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from flows.engine import JourneyEngine
from flows.facilitation import Decision, FacilitationService
from flows.journey_file import default_journey
from flows.kinds import StatementKind, StatementStatus
from storage import caucus, participants, resolutions, statements, votes, workshops
from storage.db import Database
from storage.models import Participant, Statement, Vote
from storage.statements import NewStatement
from storage.votes import VoteWrite

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


async def _votes_of(db: Database, table: str, statement_id: int) -> dict[int, str]:
    async with (
        db.reading() as conn,
        conn.execute(
            f"SELECT participant_id, value FROM {table} WHERE statement_id = ?", (statement_id,)
        ) as rows,
    ):
        return {row[0]: row[1] for row in await rows.fetchall()}


async def _workshop(db: Database) -> tuple[int, dict[str, list[int]]]:
    """A workshop with two members in each of two categories."""
    workshop = await workshops.create(
        db,
        code="c" * 16,
        facilitator_code="f" * 16,
        title="Vallée",
        journey_id="cooperation",
        created_by=1,
        now=NOW,
    )
    members: dict[str, list[int]] = {"elu": [], "agent": []}
    user_id = 100
    for category, ids in members.items():
        for _ in range(2):
            user_id += 1
            participant, _ = await participants.join(
                db,
                workshop_id=workshop.id,
                user_id=user_id,
                language="fr",
                initial_state="done",
                now=NOW,
            )
            async with db.transaction() as conn:
                await conn.execute(
                    "UPDATE participants SET category = ?, consented_at = ? WHERE id = ?",
                    (category, NOW.isoformat(), participant.id),
                )
            ids.append(participant.id)
    return workshop.id, members


async def _write(db: Database, participant_id: int, text: str, **kind: str) -> int:
    async with db.transaction() as conn:
        made = await statements.insert(
            conn,
            participant_id=participant_id,
            new=NewStatement(
                kind=kind.get("kind", StatementKind.COMMITMENT),
                text=text,
                target_category=kind.get("target"),
                status=StatementStatus.PENDING,
            ),
            now=NOW,
        )
    return made.id


async def test_a_file_of_the_previous_release_migrates_with_its_agora(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    await (await Database.open(path, target_version=5)).close()
    with sqlite3.connect(path) as conn:  # rows as that release wrote them
        conn.executescript(
            """
            INSERT INTO workshops (id, code, facilitator_code, title, journey_id, created_by,
                created_at, peers_opened_at, agora_opened_at, statements_made)
                VALUES (1, 'cccc', 'ffff', 'Vallée', 'cooperation', 1,
                '2026-11-01T09:00:00+00:00', '2026-11-01T09:00:00+00:00',
                '2026-11-01T10:00:00+00:00', 2);
            INSERT INTO participants (id, workshop_id, user_id, category, language, state,
                joined_at, consented_at) VALUES
                (1, 1, 41, 'elu', 'fr', 'done', '2026-11-01T09:00:00+00:00',
                 '2026-11-01T09:00:00+00:00'),
                (2, 1, 42, 'agent', 'fr', 'done', '2026-11-01T09:00:00+00:00',
                 '2026-11-01T09:00:00+00:00');
            INSERT INTO statements (id, workshop_id, number, participant_id, kind,
                source_category, text, status, created_at) VALUES
                (1, 1, 1, 1, 'commitment', 'elu', 'Ouvrir les données', 'approved',
                 '2026-11-01T09:30:00+00:00'),
                (2, 1, 2, 2, 'proposal', 'agent', 'Une charte', 'pending',
                 '2026-11-01T10:30:00+00:00');
            INSERT INTO votes VALUES (1, 2, 'agree', '2026-11-01T10:05:00+00:00', NULL);
            UPDATE participants SET offer_statement_id = 1, offer_message_id = 9 WHERE id = 2;
            """
        )

    db = await Database.open(path)
    kept = await statements.get(db, statement_id=1)
    waiting = await statements.get(db, statement_id=2)
    assert kept is not None and kept.in_agora and kept.number == 1
    assert waiting is not None and waiting.status == "pending" and not waiting.in_agora
    # Votes, their count, and the offers that point at statements survived the rebuild.
    assert await _votes_of(db, "votes", 1) == {2: "agree"}
    candidates = await statements.unvoted(db, workshop_id=1, participant_id=1)
    assert candidates == []  # their own, and nothing else in the agora
    reader = await participants.get(db, participant_id=2)
    assert reader is not None and reader.offer_statement_id == 1
    workshop = await workshops.get(db, workshop_id=1)
    # A workshop that already had its agora goes on as it was: no review, no caucus.
    assert workshop is not None and not workshop.review and not workshop.caucus
    assert workshop.agora_mode == "self"
    # Foreign keys hold again after the rebuild: erasing a participant takes their votes
    # and statements.
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM participants WHERE id = 2")
    assert await _votes_of(db, "votes", 1) == {}
    assert await statements.get(db, statement_id=2) is None
    async with db.reading() as conn, conn.execute("SELECT vote_count FROM statements") as rows:
        assert [row[0] for row in await rows.fetchall()] == [0]  # the count trigger is back
    # Ids are never reused: the rebuild kept the counter.
    new = await _write(db, 1, "Un nouveau")
    assert new > 2
    await db.close()


async def test_entering_the_agora_counts_the_authors_once(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    workshop_id, members = await _workshop(db)
    first, second = members["elu"]
    kept = await _write(db, first, "Co-construire le budget")
    folded = await _write(db, second, "Construire le budget ensemble")
    for statement_id in (kept, folded):
        await statements.decide(
            db,
            statement_id=statement_id,
            status=StatementStatus.APPROVED,
            by=1,
            now=NOW,
            from_status=StatementStatus.PENDING,
        )
    # An agent voted on the folded one in... nobody else can (a caucus is per category); the
    # author's own caucus agreement was stored when they wrote it.
    assert await _votes_of(db, "caucus_votes", kept) == {first: "agree"}
    changed, into = await statements.merge(
        db, statement_id=folded, into_id=kept, by=1, now=NOW + timedelta(minutes=1)
    )
    assert changed and into is not None and into.id == kept
    assert await _votes_of(db, "caucus_votes", kept) == {first: "agree", second: "agree"}
    assert await statements.authors(db, statement_id=kept) == sorted([first, second])
    # Merging again, into itself, or something merged: refused, nothing changes.
    assert not (await statements.merge(db, statement_id=folded, into_id=kept, by=1, now=NOW))[0]
    assert not (await statements.merge(db, statement_id=kept, into_id=kept, by=1, now=NOW))[0]
    assert not (await statements.merge(db, statement_id=kept, into_id=folded, by=1, now=NOW))[0]

    assert await statements.enter_agora(db, statement_ids=[kept, folded], now=NOW) == [kept]
    assert await statements.enter_agora(db, statement_ids=[kept], now=NOW) == []
    assert await _votes_of(db, "votes", kept) == {first: "agree", second: "agree"}
    # Neither author is offered it; the others are.
    agent = members["agent"][0]
    assert await statements.unvoted(db, workshop_id=workshop_id, participant_id=second) == []
    offered = await statements.unvoted(db, workshop_id=workshop_id, participant_id=agent)
    assert [c.id for c in offered] == [kept] and offered[0].vote_count == 2
    await db.close()


async def test_the_caucus_takes_votes_within_a_category_until_it_closes(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    workshop_id, members = await _workshop(db)
    first, second = members["elu"]
    agent = members["agent"][0]
    mine = await _write(db, first, "Un guichet unique")
    waiting = await caucus.candidates(
        db, workshop_id=workshop_id, participant_id=second, category="elu"
    )
    assert waiting == []  # not reviewed yet
    await statements.decide(
        db,
        statement_id=mine,
        status=StatementStatus.APPROVED,
        by=1,
        now=NOW,
        from_status=StatementStatus.PENDING,
    )
    shown = await caucus.candidates(
        db, workshop_id=workshop_id, participant_id=second, category="elu"
    )
    assert [s.id for s in shown] == [mine]

    async def cast(participant_id: int, value: str, update_id: int | None = None) -> VoteWrite:
        return await caucus.cast(
            db,
            update_id=update_id,
            participant_id=participant_id,
            statement_id=mine,
            value=value,
            now=NOW,
        )

    assert await cast(agent, "agree") is VoteWrite.GONE  # another category's statement
    assert await cast(second, "disagree", update_id=5) is VoteWrite.NEW
    assert await cast(second, "agree", update_id=5) is VoteWrite.DUPLICATE
    assert await cast(second, "agree") is VoteWrite.CHANGED
    assert await cast(second, "agree") is VoteWrite.SAME
    seen: list[tuple[int, ...]] = []

    def choose(found: list[Statement], cast: list[Vote], members: list[Participant]) -> list[int]:
        seen.append(tuple(sorted((v.participant_id, v.value) for v in cast)))
        return [s.id for s in found]

    assert await caucus.close(db, workshop_id=workshop_id, now=NOW, choose=choose) == [mine]
    assert await caucus.close(db, workshop_id=workshop_id, now=NOW, choose=choose) is None
    # The choice saw every vote, and was made once.
    assert seen == [tuple(sorted([(first, "agree"), (second, "agree")]))]
    assert await cast(second, "pass") is VoteWrite.GONE
    assert await _votes_of(db, "caucus_votes", mine) == {first: "agree", second: "agree"}
    assert await _votes_of(db, "votes", mine) == {first: "agree"}
    await db.close()


async def test_a_room_takes_votes_on_its_statement_only_while_its_vote_is_open(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    workshop_id, members = await _workshop(db)
    author, voter = members["elu"][0], members["agent"][0]
    ids = [await _write(db, author, f"Engagement {n}") for n in (1, 2)]
    for statement_id in ids:
        await statements.decide(
            db,
            statement_id=statement_id,
            status=StatementStatus.APPROVED,
            by=1,
            now=NOW,
            from_status=StatementStatus.PENDING,
            enter_agora=True,
        )
    await workshops.set_phase(
        db, workshop_id=workshop_id, column="agora_opened_at", when=NOW, only_if_unset=True
    )
    assert await workshops.configure(db, workshop_id=workshop_id, agora_mode="room")
    assert not await workshops.configure(db, workshop_id=workshop_id, agora_mode="room")
    assert await workshops.move_room(
        db, workshop_id=workshop_id, statement_id=ids[0], expected=None
    )
    # A second "next" computed from the same position moves nothing.
    assert not await workshops.move_room(
        db, workshop_id=workshop_id, statement_id=ids[1], expected=None
    )

    async def cast(statement_id: int) -> VoteWrite:
        written, _ = await votes.cast(
            db,
            update_id=None,
            participant_id=voter,
            statement_id=statement_id,
            value="agree",
            now=NOW,
        )
        return written

    assert await cast(ids[1]) is VoteWrite.GONE
    assert await cast(ids[0]) is VoteWrite.NEW
    assert await workshops.close_room_vote(db, workshop_id=workshop_id, statement_id=ids[0])
    assert not await workshops.close_room_vote(db, workshop_id=workshop_id, statement_id=ids[0])
    assert await _votes_of(db, "votes", ids[1]) == {author: "agree"}
    assert await workshops.move_room(
        db, workshop_id=workshop_id, statement_id=ids[1], expected=ids[0]
    )
    assert await cast(ids[0]) is VoteWrite.GONE
    assert await cast(ids[1]) is VoteWrite.NEW
    tally = sorted(await votes.on_statement(db, statement_id=ids[1]))
    assert tally == [("agent", "agree"), ("elu", "agree")]
    await db.close()


async def test_a_resolution_is_recorded_once_per_statement(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    workshop_id, members = await _workshop(db)
    statement_id = await _write(db, members["elu"][0], "Un comité de suivi")
    other_id = await _write(db, members["elu"][1], "Une charte")
    made, new = await resolutions.record(
        db,
        workshop_id=workshop_id,
        statement_id=statement_id,
        text="Un comité de suivi",
        carrier_category="elu",
        by=1,
        now=NOW,
    )
    again, new_again = await resolutions.record(
        db,
        workshop_id=workshop_id,
        statement_id=statement_id,
        text="autre",
        carrier_category=None,
        by=1,
        now=NOW,
    )
    assert new and not new_again and again == made and made.number == 1
    second, _ = await resolutions.record(
        db,
        workshop_id=workshop_id,
        statement_id=other_id,
        text="Une charte",
        carrier_category="agent",
        by=1,
        now=NOW,
    )
    assert second.number == 2
    named = await resolutions.update(
        db, resolution_id=made.id, now=NOW, carrier_name="La mission coopération"
    )
    assert named is not None and named.carrier_category is None
    dated = await resolutions.update(
        db, resolution_id=made.id, now=NOW, due_on=date(2027, 3, 31), text="Un comité"
    )
    assert dated is not None and dated.due_on == date(2027, 3, 31) and dated.text == "Un comité"
    assert dated.carrier_name == "La mission coopération"
    with pytest.raises(ValueError):
        await resolutions.update(db, resolution_id=made.id, now=NOW, workshop_id="2")
    # Erasing the statement's author keeps the resolution (the room's, not theirs).
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM participants WHERE id = ?", (members["elu"][0],))
    kept = await resolutions.of_workshop(db, workshop_id=workshop_id)
    assert [(r.number, r.statement_id) for r in kept] == [(1, None), (2, other_id)]
    await db.close()


async def test_a_statement_reviewed_after_the_groups_chose_goes_to_the_agora(
    tmp_path: Path,
) -> None:
    """Review lags behind the writing: what the facilitators approve once the agora is open
    was too late for its group's choice, and goes to the agora as it is."""
    db = await Database.open(tmp_path / "db.sqlite3")
    _, members = await _workshop(db)
    clock = iter(NOW + timedelta(seconds=n) for n in range(100))
    facilitation = FacilitationService(
        db, JourneyEngine(default_journey()), clock=lambda: next(clock)
    )
    early = await _write(db, members["elu"][0], "Un guichet unique")
    late = await _write(db, members["elu"][1], "Un agenda partagé")
    await facilitation.moderate(user_id=1, statement_id=early, decision=Decision.APPROVE)
    change = await facilitation.open_agora(user_id=1, code=None)
    assert change.changed and change.workshop.caucus_closed_at is not None
    chosen = await statements.get(db, statement_id=early)
    assert chosen is not None and chosen.in_agora  # carried: its author agreed, nobody else voted
    waiting = await statements.get(db, statement_id=late)
    assert waiting is not None and waiting.status == "pending" and not waiting.in_agora
    moderated = await facilitation.moderate(user_id=1, statement_id=late, decision=Decision.APPROVE)
    assert moderated.changed and moderated.statement.in_agora
    assert await _votes_of(db, "votes", late) == {members["elu"][1]: "agree"}
    await db.close()
