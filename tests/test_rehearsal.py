"""The main command without a token: the offline rehearsal plays a whole workshop and
leaves what everyone saw in ./rehearsal/."""

from __future__ import annotations

import importlib.util
import logging
import re
import shutil
import struct
import sys
from pathlib import Path

import pytest

from bot.rehearsal import rehearse
from bot.rehearsal_script import PARTICIPANTS
from bot.settings import Settings
from tests import stored

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")
CHARTS = ["agora.png", "funnel.png", "profile.png", "relations.png"]
TABLES = ["answers.csv", "resolutions.csv", "statements.csv", "synthesis.md"]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_rehearsal_plays_a_workshop_and_leaves_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # What a previous run left is replaced, not mixed with the new.
    (tmp_path / "rehearsal" / "chats").mkdir(parents=True)
    (tmp_path / "rehearsal" / "chats" / "participant-99.md").write_text("old")
    # The log goes to the console, as `coopbot run` sets it up.
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(console)
    try:
        configured = tmp_path / "coopbot.sqlite3"
        assert rehearse(Settings(database=str(configured))) == 0
    finally:
        root.removeHandler(console)
    assert root.handlers.count(console) == 0 and console not in root.handlers
    said = capsys.readouterr()
    assert not configured.exists()  # the real database is left alone

    # The console: a few progress lines, the screen's address, where each file is; not
    # one log record, on stdout or stderr.
    lines = said.out.splitlines()
    assert len(lines) < 30
    assert [line for line in lines + said.err.splitlines() if LOG_LINE.match(line)] == []
    assert "Rehearsal complete" in said.out
    assert re.search(r"^Live screen: http://127\.0\.0\.1:\d+/s/[\w-]+", said.out, re.M)
    folder = tmp_path / "rehearsal"
    log = (folder / "coopbot.log").read_text(encoding="utf-8")
    assert "coopbot ready on" in log and LOG_LINE.match(log)

    # The chats, one Markdown file per person.
    chats = folder / "chats"
    expected = ["facilitator.md", "organiser.md"] + [
        f"participant-{n:02d}.md" for n in range(1, len(PARTICIPANTS) + 1)
    ]
    assert sorted(p.name for p in chats.iterdir()) == expected
    first = (chats / "participant-01.md").read_text(encoding="utf-8")
    assert "Moment 1 sur 9" in first and "`[✅ J'accepte]`" not in first  # answered
    assert "📎 *document: session-1.ics*" in first
    second = (chats / "participant-02.md").read_text(encoding="utf-8")
    assert "Moment 1 of 9" in second  # in English
    facilitating = (chats / "facilitator.md").read_text(encoding="utf-8")
    assert "Résolution 1" in facilitating and "📎 *document: answers.csv*" in facilitating
    assert "🖼️ *picture*" in (chats / "organiser.md").read_text(encoding="utf-8")  # the QR code
    for name, (_, first_name, _) in zip(expected[2:], PARTICIPANTS, strict=True):
        assert f"**{first_name}:** /start " in (chats / name).read_text(encoding="utf-8")

    # The export, as `coopbot export` writes it, with its charts.
    export = folder / "export"
    assert sorted(p.name for p in export.iterdir()) == sorted(CHARTS + TABLES)
    assert all(png_size(export / chart)[0] > 100 for chart in CHARTS)
    synthesis = (export / "synthesis.md").read_text(encoding="utf-8")
    assert "Énoncés consensuels" in synthesis and "Aucun énoncé n'a recueilli" not in synthesis

    if importlib.util.find_spec("bot.conclusions") is not None:
        import docx

        [report] = folder.glob("*.docx")
        text = "\n".join(p.text for p in docx.Document(str(report)).paragraphs)
        assert "Répétition de l'atelier coopération" in text
    screenshot = folder / "screen.png"
    if shutil.which("chromium") is not None:
        assert png_size(screenshot) == (1920, 1080)
        assert f"screenshot   {Path('rehearsal') / 'screen.png'}" in said.out
    else:
        assert not screenshot.exists() and "screenshot   none: no chromium" in said.out

    with stored.connect(tmp_path / "coopbot-rehearsal.sqlite3") as conn:
        finished = conn.execute(
            "SELECT COUNT(*) FROM participants WHERE state = 'done' AND finished_at IS NOT NULL"
        ).fetchone()[0]
        by_category = conn.execute(
            "SELECT category, COUNT(*) FROM participants GROUP BY category"
        ).fetchall()
        phase_one = conn.execute(
            "SELECT COUNT(*) FROM answers WHERE question_id LIKE 'm%'"
        ).fetchone()[0]
        statements = conn.execute(
            "SELECT kind, status, COUNT(*) FROM statements GROUP BY kind, status ORDER BY kind"
        ).fetchall()
        caucus_votes = conn.execute("SELECT value, COUNT(*) FROM caucus_votes GROUP BY value")
        caucus = dict(caucus_votes.fetchall())
        in_agora = conn.execute(
            "SELECT COUNT(*) FROM statements WHERE in_agora_at IS NOT NULL"
        ).fetchone()[0]
        votes = conn.execute("SELECT value, COUNT(*) FROM votes GROUP BY value").fetchall()
        closed, mode = conn.execute("SELECT agora_closed_at, agora_mode FROM workshops").fetchone()
        resolutions = conn.execute(
            "SELECT number, carrier_category, due_on IS NOT NULL FROM resolutions"
        ).fetchall()
        quotes = conn.execute("SELECT COUNT(*) FROM chosen_quotes").fetchone()[0]
    count = len(PARTICIPANTS)
    assert finished == count and {size for _, size in by_category} == {3} and len(by_category) == 4
    # 16 prompts in phase 1 (moments 1 to 7; 8 and 9 come days later).
    assert phase_one == 16 * count
    # Per category: its first member's request and commitment, its second member's
    # request, which the group turns down in the caucus; and a proposal in the agora.
    assert statements == [
        ("commitment", "approved", 4),
        ("proposal", "approved", 1),
        ("request", "approved", 8),
    ]
    assert caucus == {"agree": 12 + 8 * 2, "disagree": 4 * 2}  # each author agrees
    assert in_agora == 8 + 1
    # The room voted on each statement (writing one counts as agreeing with it): some
    # agreed by all, some dividing the room.
    assert sum(n for _, n in votes) == in_agora * count
    assert {value for value, _ in votes} == {"agree", "disagree", "pass"}
    assert closed is not None and mode == "room"
    assert resolutions == [(1, "elu", 1)]
    assert quotes == 2


def test_without_the_rehearsal_extra_it_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An install without `coopbot[rehearsal]` has no aiohttp: one line, no traceback."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # importing it now fails
    for name in [n for n in sys.modules if n == "tgemu" or n.startswith("tgemu.")]:
        monkeypatch.delitem(sys.modules, name)
    assert rehearse(Settings(database=str(tmp_path / "coopbot.sqlite3"))) == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.count("\n") == 1
    assert "aiohttp" in said.err and "pip install 'coopbot[rehearsal]'" in said.err
    assert list(tmp_path.iterdir()) == []  # no rehearsal database nor folder was started
