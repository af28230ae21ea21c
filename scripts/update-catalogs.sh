#!/usr/bin/env bash
# Re-extract interface strings into locales/messages.pot and merge them into each catalog.
# New entries arrive empty: fill them (tests fail while one is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-venv.sh
.venv/bin/pybabel extract -F locales/babel.cfg -o locales/messages.pot \
    --no-location --sort-output --project coopbot --copyright-holder "coopbot" .
for language in fr en; do
    po="locales/$language/LC_MESSAGES/messages.po"
    if [ -f "$po" ]; then
        .venv/bin/pybabel update -i locales/messages.pot -d locales -l "$language" --no-fuzzy-matching --ignore-obsolete
    else
        .venv/bin/pybabel init -i locales/messages.pot -d locales -l "$language"
    fi
done
