"""`python -m bench.load` runs and measures the four bots (a few participants, seconds)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench.load import SECTION, write
from flows.journey_file import default_journey

ROOT = Path(__file__).resolve().parents[1]
PARTICIPANTS = 5
PHASE_ONE = len(default_journey().live_prompts())
ROW = re.compile(
    r"^\| closed, 5 \| (\d+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([^|]+) \|"
    r" (\d+) \| (\d+) \| (\d+) \| (\d+) \| [\d.]+ \| ([^|]+) \|$"
)


def test_a_closed_loop_measures_the_four_bots() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load",
            "--only",
            "closed",
            "--participants",
            "5",
            "--timeout",
            "10",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    tables = run.stdout.split("**")
    for name in ("echo bot", "ConversationHandler with", "saved at each answer", "coopbot"):
        table = next(tables[i + 1] for i, part in enumerate(tables) if name in part)
        rows = [found for line in table.splitlines() if (found := ROW.match(line))]
        assert len(rows) == 1, table
        answers, per_second, cpu, paced, calls, p50, p95, p99, rss, notes = rows[0].groups()
        assert int(answers) == PARTICIPANTS * PHASE_ONE, (name, notes)
        assert int(per_second) > 0 and float(cpu) > 0 and int(rss) > 20
        assert 1.0 <= float(paced) < 3 and "cbq" in calls
        assert 0 < int(p50) <= int(p95) <= int(p99)
    # The closed loop's targets are judged; the parts not run are said so.
    assert re.search(r"coopbot ≤ 3 ms CPU per answer \| [\d.]+ ms \| (PASS|FAIL) \|", run.stdout)
    assert re.search(r"peak RSS < 150 MB \| not run \| — \|", run.stdout)


def test_writing_again_replaces_its_own_section(tmp_path: Path) -> None:
    document = tmp_path / "PERFORMANCE.md"
    document.write_text("# Performance\n\n## Before\n\nkept\n")
    write(document, "first run\n")
    document.write_text(document.read_text() + "\n## After\n\nalso kept\n")
    write(document, "second run\n")
    text = document.read_text()
    assert text.count(SECTION) == 1 and "second run" in text and "first run" not in text
    assert "## Before\n\nkept" in text and "## After\n\nalso kept" in text
    assert text.index("## Before") < text.index(SECTION) < text.index("## After")
