#!/usr/bin/env bash
# Every check: lint, format, types, then the tests (end to end against the emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-venv.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
status=0
# Both cores by default (COOPBOT_TEST_WORKERS=1 runs the tests one after another; any
# `-n` given after it wins).
.venv/bin/pytest -n "${COOPBOT_TEST_WORKERS:-2}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "no tests were collected" >&2
    exit 1
fi
exit "$status"
