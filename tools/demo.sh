#!/usr/bin/env bash
# Set up (see bootstrap.sh), then serve the demo on 127.0.0.1:${PORT:-8000}.
# It prints the URL to open; Ctrl-C stops it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/bootstrap.sh
exec .venv/bin/python tools/serve.py --port "${PORT:-8000}"
