#!/usr/bin/env bash
# Install coopbot as an operator would (`pip install .`, not editable, no extras) into a
# fresh virtualenv outside the clone, then run its `coopbot check` from another folder:
# the tests run from the clone, so only this shows that the installed package ships its
# catalogs, journey file and the live screen's assets. Also checks that `coopbot run`
# without a token plays the offline rehearsal and leaves its files.
#
# The clone's files are copied first (tracked and untracked, minus what .gitignore skips):
# setuptools builds in the source folder, and a stale build/ there would leak removed
# modules into the wheel and litter a shared working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
clone=$(pwd)
PYTHON="${PYTHON:-python3}"
work=$(mktemp -d "${TMPDIR:-/tmp}/coopbot-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
    echo "check-install: FAILED: $*" >&2
    exit 1
}

mkdir "$work/src" "$work/elsewhere"
if git -C "$clone" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$clone" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' file; do
            if [ -e "$clone/$file" ]; then printf '%s\0' "$file"; fi
        done |
        tar -C "$clone" --null -T - -cf - | tar -C "$work/src" -xf -
else
    tar -C "$clone" --exclude=./.venv --exclude=./.git --exclude=./build --exclude=./dist \
        --exclude='*.egg-info' --exclude=__pycache__ --exclude='*.sqlite3*' -cf - . |
        tar -C "$work/src" -xf -
fi

"$PYTHON" -m venv "$work/venv" || fail "$PYTHON cannot create a virtualenv"
if ! "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "$work/src" >"$work/pip.log" 2>&1; then
    cat "$work/pip.log" >&2
    fail "pip install . did not succeed (its output is above)"
fi

# From a folder with no .env and nothing of the clone, with only what `check` reads.
cd "$work/elsewhere"
clean_env=(env -i "PATH=/usr/bin:/bin" "HOME=$work" "LANG=C.UTF-8")
if ! "${clean_env[@]}" TELEGRAM_BOT_TOKEN=123456:check-install \
    COOPBOT_DB="$work/elsewhere/coopbot.sqlite3" \
    "$work/venv/bin/coopbot" check >"$work/check.log" 2>&1; then
    cat "$work/check.log" >&2
    fail "the installed 'coopbot check' did not pass (its output is above)"
fi
cat "$work/check.log"
# The files it found must be the installed ones, not the clone's.
if grep -F "$clone/" "$work/check.log" >/dev/null; then
    fail "the installed 'coopbot check' read files from the clone, not from the install"
fi

# Without a token, the installed `coopbot run` plays the offline rehearsal (the emulator
# ships with the package, and aiohttp is a dependency of the live screen): it must go
# through and leave its files, with no traceback (no browser here: no screenshot).
status=0
"${clean_env[@]}" "$work/venv/bin/coopbot" run >"$work/run.log" 2>&1 || status=$?
reports=(rehearsal/*.docx)
if [ "$status" -ne 0 ] || [ ! -s rehearsal/chats/facilitator.md ] ||
    [ ! -s "${reports[0]}" ] || grep -q Traceback "$work/run.log"; then
    cat "$work/run.log" >&2
    fail "without a token, the installed 'coopbot run' should play the rehearsal and leave" \
        "its files in ./rehearsal/ (exit $status, output above)"
fi
echo "check-install: ok (installed without extras, 'coopbot run' played the rehearsal:" \
    "$(ls rehearsal | tr '\n' ' '))"
