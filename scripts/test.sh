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
# COOPBOT_TEST_POSTGRESQL names a PostgreSQL server (by default the one on this machine;
# "off": none). The first run is on SQLite files, its few tests about PostgreSQL itself
# (the copy to it, the two schemas) on that server.
server="${COOPBOT_TEST_POSTGRESQL:-postgresql://postgres@127.0.0.1:5432/postgres}"
env -u COOPBOT_TEST_POSTGRESQL COOPBOT_TEST_SERVER="$server" \
    .venv/bin/pytest -n "${COOPBOT_TEST_WORKERS:-2}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "no tests were collected" >&2
    exit 1
fi
# Then every test that runs the bot on its database, again on PostgreSQL, each in a
# database of its own, when the server answers.
if [ "$server" = off ]; then
    echo "the PostgreSQL run is off (COOPBOT_TEST_POSTGRESQL=off)"
elif .venv/bin/python -m tests.stored "$server"; then
    pg_status=0
    COOPBOT_TEST_POSTGRESQL="$server" .venv/bin/pytest -n "${COOPBOT_TEST_WORKERS:-2}" "$@" ||
        pg_status=$?
    # 5: the tests chosen (`bash scripts/test.sh tests/test_x.py`) include none of these.
    if [ "$pg_status" -eq 5 ]; then pg_status=0; fi
    if [ "$status" -eq 0 ]; then status=$pg_status; fi
fi
exit "$status"
