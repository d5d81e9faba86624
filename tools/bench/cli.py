"""``python tools/bench.py [--quick] [--browser ENGINE ...] [--only GROUPS] [--json PATH]
[--no-http-cache]``: the whole suite once per engine, a table each.

Serves the repository on 127.0.0.1 (tools/serve.py, a free port), brings the bundle up to
date (tools/build.py), drives a browser through Selenium (tools/browsers.py: headless
Chromium by default, headless Firefox, or WebKitGTK under Xvfb; ``--browser`` repeated or
``--browser all`` runs the suite once per engine) and prints per engine: one table of every
figure's median (and p95 for latencies), the plain-JS baseline measured in the same engine
and run, their ratio and the goal with its verdict; the goals of issue 12 on their own;
and "where the time goes". Figures that need Chromium's DevTools protocol (the CPU profile,
idle CPU) are "n/a" in the other engines. ``--json`` also writes every figure, with its
samples, as JSON. ``--quick`` uses tiny sizes: a smoke test of the suite itself (its
numbers mean nothing; nothing is asserted about timings). The exit status is 1 only if a
figure could not be measured at all, 2 if a browser or the runtime is missing.
"""

import argparse
import os
import platform
import signal
import sys
import time

from . import (evidence, failover, idle, latency, pagecost, pick, report, throughput,
               triggers, workers)
from .core import FULL, QUICK, Run, browsers, build, log
from .session import Browser, bring_bundle_up_to_date, start_server, stop_server

# In the order they run; "page" runs last (in the full run, in fresh browsers).
GROUPS = (("throughput", throughput.run), ("latency", latency.run),
          ("failover", failover.run), ("pick", pick.run), ("idle", idle.run),
          ("triggers", triggers.run), ("workers", workers.run),
          ("evidence", evidence.run), ("page", pagecost.run))


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="tools/bench.py",
        description="brython_jobs against plain-JavaScript baselines, in one browser run.")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: a smoke test of the suite (asserts no timings)")
    parser.add_argument("--json", metavar="PATH", help="also write all figures as JSON")
    parser.add_argument("--no-http-cache", action="store_true",
                        help="serve as the tests do: only the Brython runtime and bundle "
                             "(www/brython/) may be kept, so warm page loads download the "
                             "package's modules again")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated subset: " + ",".join(n for n, _ in GROUPS))
    parser.add_argument("--browser", action="append", metavar="ENGINE",
                        choices=browsers.ENGINES + ("all",),
                        help="chromium (default), firefox, webkit or all; repeat for several:"
                             " the suite runs once per engine, each against baselines in"
                             " the same engine")
    args = parser.parse_args(argv)
    if args.only:
        unknown = set(args.only.split(",")) - {n for n, _ in GROUPS}
        if unknown:
            parser.error(f"--only: unknown group(s) {', '.join(sorted(unknown))}")
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = QUICK if args.quick else FULL
    only = set(args.only.split(",")) if args.only else None
    engines = args.browser or ["chromium"]
    if "all" in engines:
        engines = list(browsers.ENGINES)
    engines = list(dict.fromkeys(engines))
    problems = [f"{engine}: {path}" for engine in engines for path in browsers.missing(engine)]
    if problems:
        print(f"missing {', '.join(problems)} (run tools/bootstrap.sh first)", file=sys.stderr)
        return 2

    # A terminated run still quits its browsers and removes its temporary files.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    runs = []
    for engine in engines:
        run = run_engine(engine, cfg, only, args)
        if run is None:
            return 2
        runs.append(run)
        print(report.render(run["figures"], run["meta"], args.quick))
        print(report.render_goals(run["figures"], args.quick))
        print(report.render_evidence(run["evidence"]))
        print(report.render_console(engine, run["meta"]))
        if len(engines) > 1:
            print()
    if args.json:
        report.write_json(args.json, runs)
        log(f"wrote {args.json}")
    return 1 if any(run["meta"]["failures"] for run in runs) else 0


def _step(r, name, fn, failures):
    """Run group ``name``; a failure becomes an error row, and the next group goes on."""
    try:
        fn(r)
    except Exception as exc:
        log(f"{name} failed: {type(exc).__name__}: {exc}")
        failures.append(name)
        r.add({"id": name, "label": name, "error": f"{type(exc).__name__}: {str(exc)[:200]}"})
        try:
            if r.browser is not None:
                r.browser.only_tab()
        except Exception:
            pass


def run_engine(engine, cfg, only, args):
    """The whole suite in one engine: {"meta", "figures", "evidence"} (None when the
    Brython runtime could not be built)."""
    started = time.time()
    load_before = os.getloadavg()
    Browser.console_errors, Browser.console_warnings = [], []
    failures = []
    bundle = bring_bundle_up_to_date()
    if not os.path.exists(os.path.join(build.OUT_DIR, "brython.js")):
        print(f"no Brython runtime in {build.OUT_DIR}: {bundle[1]}", file=sys.stderr)
        return None
    server, base_url = start_server(http_cache=not args.no_http_cache)
    r = Run(engine, cfg, base_url, bundle, None)
    version = label = "unknown"
    try:
        log(f"{engine}: serving the repository at {base_url}; bundle: {bundle[1]}")
        r.browser = Browser(base_url, engine)
        version, label = r.browser.version, r.browser.label
        for name, fn in GROUPS:
            if only is not None and name not in only:
                continue
            if name == "page":
                if cfg["page_fresh_browser"]:  # a fresh browser per cold sample
                    r.browser.quit()
                    r.browser = None
                else:
                    r.browser.only_tab()
            _step(r, name, fn, failures)
    finally:
        if r.browser is not None:
            r.browser.quit()
        stop_server(server)
    report.apply_goals(r.figures)
    console, warnings = Browser.console_errors, Browser.console_warnings
    meta = {"mode": "quick" if args.quick else "full", "engine": engine, "browser": version,
            "browser_label": label, "brython": build.brython_version(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "throughput_n": cfg["throughput_n"], "seconds": time.time() - started,
            "config": {k: list(v) if type(v) is tuple else v for k, v in cfg.items()},
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "failures": failures,
            "http_cache": not args.no_http_cache, "bundle": bundle[1],
            "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "console_errors": console[:20], "package_warnings": warnings[:20],
            "console_error_count": len(console), "package_warning_count": len(warnings)}
    return {"meta": meta, "figures": r.figures, "evidence": r.evidence}
