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
#
# Without arguments and with several engines, the engines run side by side: one pytest
# process per engine (the last also runs the CPython tests: the first, Chromium's, also
# runs the Chromium-only fault tests, so this evens them out), each with its own browser,
# server and Xvfb, its output kept in a log that is printed whole when it ends. Why: a
# browser test mostly waits (on timers, page loads and the WebDriver round trip), so the
# engines overlap well even on two cores, and run one after the other they need more than
# the suite's 12-minute budget. SERIAL=1 runs them in one process instead.
# The exit code is pytest's (with several processes: 1 if any of them failed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/bootstrap.sh
PY=.venv/bin/python

if [ "$#" -ne 0 ]; then
    exec "$PY" -m pytest "$@"
fi

IFS=',' read -r -a ENGINES <<< "${BROWSERS:-chromium,firefox,webkit}"
if [ "${SERIAL:-0}" = "1" ] || [ "${#ENGINES[@]}" -lt 2 ]; then
    exec "$PY" -m pytest tests -q
fi

LOGS="$(mktemp -d)"
PIDS=()
started=$SECONDS
for i in "${!ENGINES[@]}"; do
    engine="${ENGINES[$i]// /}"
    if [ "$i" -eq $((${#ENGINES[@]} - 1)) ]; then targets=(tests); else targets=(tests/browser); fi
    # No shared pytest cache: the processes would write it at the same time.
    BROWSERS="$engine" "$PY" -m pytest "${targets[@]}" -q -p no:cacheprovider \
        > "$LOGS/$engine.log" 2>&1 &
    PIDS+=("$!")
    echo "test.sh: ${targets[*]} in $engine: pid $!, log $LOGS/$engine.log"
done
# A stopped run stops its own pytest processes (they quit their browsers themselves).
trap 'kill "${PIDS[@]}" 2>/dev/null || true' INT TERM

status=0
summary=()
for i in "${!ENGINES[@]}"; do
    engine="${ENGINES[$i]// /}"
    rc=0
    wait "${PIDS[$i]}" || rc=$?
    [ "$rc" -eq 0 ] || status=1
    echo
    echo "================ $engine (exit $rc, done after $((SECONDS - started)) s) ================"
    cat "$LOGS/$engine.log"
    summary+=("$engine: exit $rc: $(tail -n 1 "$LOGS/$engine.log")")
done
echo
echo "================ all engines ($((SECONDS - started)) s) ================"
printf '%s\n' "${summary[@]}"
rm -rf "$LOGS"
exit "$status"
