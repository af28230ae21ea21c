"""`python -m bench.workers` runs one process on SQLite and one and two webhook workers on
PostgreSQL under the same load (a few participants, seconds)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from flows.journey_file import default_journey

ROOT = Path(__file__).resolve().parents[1]
PHASE_ONE = len(default_journey().live_prompts())
ROW = re.compile(r"^\| (SQLite|1 worker|2 workers) \| (\d+) \| (\d+) \| ([\d.]+) \|", re.M)


def test_one_process_on_sqlite_and_one_and_two_workers_on_postgresql(
    postgresql_server: str,
) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.workers",
            "--participants",
            "4",
            "--timeout",
            "10",
            "--server",
            postgresql_server,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {
        label: (int(answers), float(ratio)) for label, answers, _, ratio in ROW.findall(run.stdout)
    }
    assert set(rows) == {"SQLite", "1 worker", "2 workers"}, run.stdout
    # Every participant answered all of phase 1 in each, and the baseline is 1.00 × itself.
    assert {answers for answers, _ in rows.values()} == {4 * PHASE_ONE}
    assert rows["SQLite"][1] == 1.0
