"""The bot at rest does not load what it needs only now and then: matplotlib (and numpy
under it) for charts, python-docx (and lxml) for the report. Loaded at start, they were
about half of its memory, on every deployment, for features used a few times a workshop."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("matplotlib", "numpy", "docx", "lxml", "PIL")


def test_starting_the_bot_loads_no_chart_or_document_library() -> None:
    probe = (
        "import sys, bot.cli, bot.app, bot.views.syntheses, bot.views.quotes, reports.files\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == ""


def test_drawing_a_chart_loads_matplotlib_then() -> None:
    probe = (
        "import sys\n"
        "from reports import charts\n"
        "assert 'matplotlib' not in sys.modules\n"
        "figure, axes = charts._figure()\n"
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "True"
