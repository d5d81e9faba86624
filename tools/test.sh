#!/usr/bin/env bash
# Set up (see bootstrap.sh), then run pytest from the repository root.
# Arguments go to pytest; without any, the whole tests/ tree runs quietly: the unit tests
# once under CPython, every browser test once in each engine (Chromium, Firefox, WebKit).
#   bash tools/test.sh                          # everything, all three engines
#   BROWSERS=chromium bash tools/test.sh        # browser tests in Chromium only
#   BROWSERS=firefox,webkit bash tools/test.sh  # a comma list of engines
#   bash tools/test.sh tests/browser --browser webkit   # the same, as a pytest option
#   bash tools/test.sh tests/unit               # CPython only, no browser
#   bash tools/test.sh -m "not browser"         # same, by marker
# The exit code is pytest's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/bootstrap.sh
if [ "$#" -eq 0 ]; then
    set -- tests -q
fi
exec .venv/bin/python -m pytest "$@"
