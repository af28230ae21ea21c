#!/usr/bin/env bash
# The main job. With TELEGRAM_BOT_TOKEN set: the bot. Without: the offline rehearsal.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-venv.sh
exec .venv/bin/coopbot run "$@"
