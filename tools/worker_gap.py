"""The page's longest main-thread stall while its FIRST worker job runs, in a real browser.

Opens tests/pages/worker_tab.html (its 16 ms ``bjHeartbeat`` records the longest gap
between ticks) in a fresh tab per run, waits until the tab leads and has been idle for a
second, as a page is before its first job, then enqueues one no-op worker job and reads
the longest gap until the job completed. That first job starts the worker; whatever the
page does on its main thread meanwhile (before: importing workers.py) shows as a stall.
The ``floor`` arm is the same page starting a plain-JS worker that only loads
brython.js, brython_stdlib.js and the bundle (what every Brython worker loads) and answers:
what starting such a worker costs the page whatever the page's own code does.

Usage: ``.venv/bin/python tools/worker_gap.py [--browser chromium] [--runs 5]
[--root DIR]`` (``--root``: serve another checkout, e.g. an older commit's, with its
www/brython/ built). Asserts nothing: a measuring tool.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
import browsers  # noqa: E402
import serve  # noqa: E402


def call(driver, method, *args, **kwargs):
    raw = driver.execute_async_script(
        "bjCall(arguments[0], arguments[1], arguments[2], arguments[arguments.length - 1])",
        method, json.dumps(args), json.dumps(kwargs))
    reply = json.loads(raw)
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply.get("ok")


def wait(fn, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout} s")


def one_run(driver, base, bundle, n):
    query = f"?queue=gap-{int(time.time() * 1000)}-{n}" + ("&bundle=1" if bundle else "")
    driver.get(base + "/tests/pages/worker_tab.html" + query)
    wait(lambda: driver.execute_script("return window.bjReady === true || !!window.bjError"))
    wait(lambda: call(driver, "page.state")["is_leader"], 20)
    time.sleep(1.0)  # the page sits idle before its first job
    driver.execute_script("bjHeartbeat.start()")
    t0 = time.monotonic()
    job = call(driver, "enqueue", "w_noop", None, retries=0)
    done = call(driver, "wait", job["id"], timeout=60)
    elapsed = (time.monotonic() - t0) * 1000
    beat = driver.execute_script("return bjHeartbeat.stop()")
    if done["status"] != "completed":
        raise RuntimeError(f"first worker job ended {done['status']}: {done['error']}")
    return beat["maxGap"], elapsed


FLOOR = """
var done = arguments[arguments.length - 1];
var base = location.origin + "/www/brython/";
var src = "importScripts(" + JSON.stringify(base + "brython.js") + ", " +
  JSON.stringify(base + "brython_stdlib.js") + ", " +
  JSON.stringify(base + "brython_jobs.brython.js") + "); postMessage('loaded');";
var w = new Worker(URL.createObjectURL(new Blob([src], {type: "text/javascript"})));
bjHeartbeat.start();
w.onmessage = function () { var beat = bjHeartbeat.stop(); w.terminate(); done(beat); };
w.onerror = function (e) { bjHeartbeat.stop(); done({error: String(e.message)}); };
"""


def floor_run(driver, base, n):
    """The same page, but a plain-JS worker that only loads Brython's files and the
    bundle (what every Brython worker loads) and says so: the floor of the figure."""
    driver.get(base + f"/tests/pages/worker_tab.html?queue=gapfloor-{n}&start=0&bundle=1")
    wait(lambda: driver.execute_script("return window.bjReady === true || !!window.bjError"))
    time.sleep(1.0)
    t0 = time.monotonic()
    beat = driver.execute_async_script(FLOOR)
    if "error" in beat:
        raise RuntimeError(f"plain worker failed: {beat['error']}")
    return beat["maxGap"], (time.monotonic() - t0) * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browser", default="chromium", choices=browsers.ENGINES)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", default=ROOT, help="the checkout to serve")
    args = parser.parse_args(argv)
    server, thread, port = serve.start_server(args.root, port=0)
    base = f"http://127.0.0.1:{port}"
    work = tempfile.mkdtemp(prefix="worker-gap-")
    session = browsers.start(args.browser, work, script_timeout=120, page_load_timeout=120)
    out = {"bundle": [], "static": [], "floor": []}
    try:
        for n in range(args.runs):
            for arm in out:
                if arm == "floor":
                    gap, ms = floor_run(session.driver, base, n)
                else:
                    gap, ms = one_run(session.driver, base, arm == "bundle", n)
                out[arm].append((gap, ms))
                print(f"[worker_gap] {arm} run {n + 1}: max gap {gap:.0f} ms, "
                      f"first job {ms:.0f} ms", file=sys.stderr, flush=True)
    finally:
        session.quit()
        shutil.rmtree(work, ignore_errors=True)
        server.shutdown()
        server.server_close()
    print(f"first worker job, {session.label}, root {args.root}")
    for arm, rows in out.items():
        gaps = sorted(g for g, _ in rows)
        print(f"  {arm:6}: max gap per run {', '.join(f'{g:.0f}' for g, _ in rows)} ms "
              f"(worst {gaps[-1]:.0f}, median {gaps[len(gaps) // 2]:.0f}); first job "
              f"median {sorted(m for _, m in rows)[len(rows) // 2]:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
