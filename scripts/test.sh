#!/usr/bin/env bash
# Every check: lint, format, types, then the tests (end to end against the emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-venv.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
status=0
.venv/bin/pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "no tests were collected" >&2
    exit 1
fi
exit "$status"
