#!/usr/bin/env python3
"""Benchmark suite: brython_jobs against plain-JavaScript baselines, in one browser run.

    python tools/bench.py [--quick] [--browser chromium|firefox|webkit|all ...]
                          [--only GROUPS] [--json out.json] [--no-http-cache]

The suite is the package tools/bench/ (see its __init__.py; the options are in cli.py);
this script only runs it. Run as a script, its folder tools/ is sys.path[0], where the
package directory bench/ is found before this file.
"""

import os
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from bench.cli import main  # noqa: E402  (tools/bench/cli.py)

if __name__ == "__main__":
    sys.exit(main())
