"""The main command without a token: the offline rehearsal plays a whole workshop."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from bot.rehearsal import PARTICIPANTS, rehearse
from bot.settings import Settings


def test_the_rehearsal_plays_a_workshop_into_sqlite(tmp_path: Path) -> None:
    configured = tmp_path / "coopbot.sqlite3"
    out = io.StringIO()
    assert rehearse(Settings(database_path=configured), out=out) == 0
    database = tmp_path / "coopbot-rehearsal.sqlite3"
    assert not configured.exists()  # the real database is left alone
    transcript = out.getvalue()
    assert "Rehearsal complete" in transcript
    assert "Moment 1 sur 9" in transcript and "Facilitator's chat" in transcript
    with sqlite3.connect(database) as conn:
        finished = conn.execute(
            "SELECT COUNT(*) FROM participants WHERE state = 'done' AND finished_at IS NOT NULL"
        ).fetchone()[0]
        categories = conn.execute("SELECT COUNT(DISTINCT category) FROM participants").fetchone()[0]
        phase_one = conn.execute(
            "SELECT COUNT(*) FROM answers WHERE question_id LIKE 'm%'"
        ).fetchone()[0]
        peers = conn.execute(
            "SELECT COUNT(*) FROM answers WHERE question_id LIKE 'p2%'"
        ).fetchone()[0]
        statements = conn.execute(
            "SELECT kind, status, COUNT(*) FROM statements GROUP BY kind, status ORDER BY kind"
        ).fetchall()
        votes = conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        closed = conn.execute("SELECT agora_closed_at FROM workshops").fetchone()[0]
    assert finished == len(PARTICIPANTS) and categories == 4
    assert phase_one == 20 * len(PARTICIPANTS) and peers == 3 * len(PARTICIPANTS)
    count = len(PARTICIPANTS)
    assert statements == [
        ("commitment", "approved", count),
        ("proposal", "approved", 1),
        ("request", "approved", count),
    ]
    # Everybody voted on every statement but their own.
    assert votes == (2 * count + 1) * count - (2 * count + 1) and closed is not None
    assert "L'agora est ouverte" in transcript
