"""The main command without a token: the offline rehearsal plays a whole workshop."""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import pytest

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
        in_agora = conn.execute(
            "SELECT COUNT(*) FROM statements WHERE in_agora_at IS NOT NULL"
        ).fetchone()[0]
        closed, mode = conn.execute("SELECT agora_closed_at, agora_mode FROM workshops").fetchone()
        resolutions = conn.execute("SELECT number, statement_id FROM resolutions").fetchall()
    assert finished == len(PARTICIPANTS) and categories == 4
    # 16 prompts in phase 1 (moments 1 to 7; 8 and 9 come days later), 3 of the group's own.
    assert phase_one == 16 * len(PARTICIPANTS) and peers == 3 * len(PARTICIPANTS)
    count = len(PARTICIPANTS)
    assert statements == [
        ("commitment", "approved", count),
        ("proposal", "approved", 1),
        ("request", "approved", count),
    ]
    # Each group of one sent its statements as they are; the room walked every one, and
    # everybody voted on each (writing one counts as agreeing with it).
    assert in_agora == 2 * count + 1
    assert votes == (2 * count + 1) * count and closed is not None and mode == "room"
    assert resolutions == [(1, 1)]
    assert "L'agora est ouverte" in transcript or "ouverte en salle" in transcript
    assert "Résolution 1" in transcript


def test_without_the_rehearsal_extra_it_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An install without `coopbot[rehearsal]` has no aiohttp: one line, no traceback."""
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # importing it now fails
    for name in [n for n in sys.modules if n == "tgemu" or n.startswith("tgemu.")]:
        monkeypatch.delitem(sys.modules, name)
    assert rehearse(Settings(database_path=tmp_path / "coopbot.sqlite3")) == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.count("\n") == 1
    assert "aiohttp" in said.err and "pip install 'coopbot[rehearsal]'" in said.err
    assert list(tmp_path.iterdir()) == []  # no rehearsal database was started
