"""The long soak: three tabs of one queue enqueue jobs while the leader is killed every
few seconds, alternately by closing its tab and by crashing its renderer (headless
Chromium, CDP Page.crash). Prints jobs, kills, lost jobs, re-runs per kill and leader
changes; exits 1 on any loss (or a re-run without a kill, more than one per kill, not
exactly one leader at the end, a Python error in a page).

    .venv/bin/python tools/soak.py --minutes 30 [--every 4] [--rate 8]

The code is the short soak's (tests/browser/soak_support.py). The pages are served
from a copy of the package and pages taken at start, so editing the working tree during
a long run does not change what it tests.
"""

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))

import faults_support as fs  # noqa: E402
import harness  # noqa: E402
import soak_support  # noqa: E402


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bj_tools_{name}",
                                                  os.path.join(ROOT, "tools", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def snapshot(dest):
    """Copy what the soak pages load (package, pages, Brython runtime) to ``dest``."""
    for part in ("brython_jobs", os.path.join("tests", "pages"), os.path.join("www", "brython")):
        shutil.copytree(os.path.join(ROOT, part), os.path.join(dest, part),
                        ignore=shutil.ignore_patterns("__pycache__"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=4.0,
                        help="seconds between kills (about)")
    parser.add_argument("--rate", type=float, default=8.0,
                        help="jobs enqueued per second, all tabs together")
    args = parser.parse_args(argv)
    if _load("build").main([]) != 0:
        return 2
    work = tempfile.mkdtemp(prefix="bj-soak-")
    snapshot(os.path.join(work, "root"))
    serve = _load("serve")
    httpd, thread, port = serve.start_server(os.path.join(work, "root"), 0)
    server = f"http://127.0.0.1:{port}"
    browser = fs.Browser(os.path.join(work, "profile"))
    queue = f"soak_{int(time.time())}"
    per_round = max(3, int(args.rate * args.every))
    every_ms = int(1000 * soak_support.TABS / args.rate)
    soak = soak_support.Soak(browser, server, queue, say=print, every_ms=every_ms)
    deadline = time.monotonic() + args.minutes * 60
    summary = None
    try:
        soak.start()
        next_report = time.monotonic() + 60
        while time.monotonic() < deadline:
            soak.run_round(per_round)
            if time.monotonic() >= next_report:
                next_report += 60
                print(f"soak: {(args.minutes * 60 - (deadline - time.monotonic())) / 60:.1f}"
                      f" min, {soak.acked()} jobs acknowledged, {len(soak.kills)} kills",
                      flush=True)
        summary = soak.finish(drain_timeout=300)
    finally:
        soak.close()
        browser.quit()
        httpd.shutdown()
        httpd.server_close()
        shutil.rmtree(work, ignore_errors=True)
    print(soak_support.summary_line(summary), flush=True)
    if summary["lost_ids"]:
        print("lost: " + ", ".join(summary["lost_ids"]))
    for line in summary["samples"] + summary["console_errors"]:
        print(line)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
