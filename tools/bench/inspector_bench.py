"""Benchmark: the inspector's first render with 10,000 stored jobs against 100.

Runs headless Chromium on a 127.0.0.1 server (as the tests do), opens
tools/bench/inspector.html, seeds a queue with N job records and times
``Inspector(jobs).mount(element)`` until its first render is complete, ``--runs`` times
per N (after one cold mount that also compiles the inspector's modules, reported apart).
Prints the medians, p95 and the ratio 10,000 / 100.

Usage: ``.venv/bin/python tools/bench/inspector_bench.py [--runs 15] [--json FILE]``
(after tools/bootstrap.sh). Exits non-zero if the page reports an error.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))

import harness  # noqa: E402  (the test suite's browser and server helpers)

SIZES = (100, 10000)


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure(driver, base, n, runs):
    driver.get(f"{base}/tools/bench/inspector.html")
    harness.wait_for(lambda: driver.execute_script("return window.benchReady === true"),
                     timeout=30, message="the benchmark page never became ready")
    raw = driver.execute_async_script(
        "benchInspector(arguments[0], arguments[1], arguments[arguments.length - 1])",
        n, runs)
    out = json.loads(raw)
    if "error" in out:
        raise RuntimeError(f"N={n}: {out['error']}")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    serve = harness.load_serve_module()  # tools/serve.py
    httpd, thread, port = serve.start_server(ROOT, 0)
    profile = tempfile.mkdtemp(prefix="bj-bench-inspector-")
    session = harness.start_browser("chromium", profile)  # tools/browsers.py
    driver = session.driver
    driver.set_script_timeout(600)
    started = time.time()
    try:
        version = driver.capabilities.get("browserVersion", "?")
        results = {}
        for n in SIZES:
            results[n] = measure(driver, f"http://127.0.0.1:{port}", n, args.runs)
    finally:
        session.quit()
        httpd.shutdown()
        httpd.server_close()
    small = statistics.median(results[SIZES[0]]["runs_ms"])
    large = statistics.median(results[SIZES[1]]["runs_ms"])
    print(f"inspector first render: Chromium {version}, {os.cpu_count()} CPUs, "
          f"{platform.machine()}, {args.runs} runs per size, {time.time() - started:.0f} s")
    print(f"{'stored jobs':>12}  {'median ms':>10}  {'p95 ms':>8}  {'cold ms':>8}  "
          f"{'page(25) ms':>11}  rows")
    for n in SIZES:
        r = results[n]
        print(f"{r['stored']:>12,}  {statistics.median(r['runs_ms']):>10.1f}  "
              f"{p95(r['runs_ms']):>8.1f}  {r['cold_ms']:>8.1f}  "
              f"{statistics.median(r['page_ms']):>11.2f}  {r['rows']}")
    print(f"ratio 10,000 / 100 stored (median first render): {large / small:.2f}x")
    for n in SIZES:
        print(f"reads of one render, {n:,} stored (ms): " + ", ".join(
            f"{k} {v}" for k, v in results[n]["parts_ms"].items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"browser": version, "results": {str(k): v for k, v in results.items()},
                       "median_ms": {str(SIZES[0]): small, str(SIZES[1]): large},
                       "ratio": large / small}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
