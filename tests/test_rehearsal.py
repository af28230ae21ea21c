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
        answers = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    assert finished == len(PARTICIPANTS) and categories == 4
    assert answers == 20 * len(PARTICIPANTS)
