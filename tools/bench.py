#!/usr/bin/env python3
"""Benchmark suite: brython_jobs against plain-JavaScript baselines, in one browser run.

    python tools/bench.py [--quick] [--browser chromium|firefox|webkit ...] [--json out.json]

Serves the repository on 127.0.0.1 (a free port), drives a browser through Selenium
(tools/browsers.py starts it: headless Chromium by default, headless Firefox, or WebKitGTK
under Xvfb; ``--browser`` repeated or ``--browser all`` runs the suite once per engine)
and prints one table per engine: each figure's median (and p95 for latencies), the
plain-JS baseline measured in the same engine and run next to it, and their ratio.
Figures that need Chromium's DevTools protocol (the CPU profile, idle CPU) are "n/a" in
the other engines. ``--json`` also writes every figure, with its samples, as JSON.
``--quick`` uses tiny sizes: a smoke test of the suite itself (its numbers mean nothing;
nothing is asserted about timings). The exit status is 1 only if a figure could not be
measured at all.

The browser side lives in tools/bench/: jobs.html + jobs_page.py (a tab running a
JobQueue), baseline.html + baseline.js (the plain-JS baselines and floors), the page-cost
pages (bare.html, start_static.html, start_bundle.html) and the worker page.
"""

import argparse
import functools
import http.server
import json
import os
import platform
import re
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
BRYTHON_DIR = os.path.join(ROOT, "www", "brython")
SHIPPED_BUNDLE = os.path.join(BRYTHON_DIR, "brython_jobs.brython.js")

if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
import browsers  # noqa: E402  (tools/browsers.py: starts each engine)

FULL = {
    "throughput_n": 1000, "throughput_rounds": 3, "profile_n": 300,
    "latency_n": 50, "latency_gap_ms": 50,
    "failover_trials": 10,
    "pick_sizes": (100, 1000, 10000), "pick_reps": 30, "idle_seconds": 10.0,
    "trigger_rounds": 10, "trigger_per_round": 100, "trigger_calls": 100,
    "trigger_every_ms": 10,
    "worker_n": 30, "worker_starts": 3,
    "page_cold": 3, "page_warm": 5, "page_fresh_browser": True,
    "evidence_modes": ("baseline", "one", "many"), "settle_s": 1.0,
}
QUICK = {
    "throughput_n": 20, "throughput_rounds": 1, "profile_n": 10,
    "latency_n": 5, "latency_gap_ms": 20,
    "failover_trials": 1,
    "pick_sizes": (20, 50, 100), "pick_reps": 3, "idle_seconds": 0.5,
    "trigger_rounds": 2, "trigger_per_round": 50, "trigger_calls": 100,
    "trigger_every_ms": 10,
    "worker_n": 3, "worker_starts": 1,
    "page_cold": 1, "page_warm": 1, "page_fresh_browser": False,
    "evidence_modes": ("one",), "settle_s": 0.2,
}


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- statistics --------------------------------------------------------------------------
def median(values):
    return statistics.median(values) if values else None


def p95(values):
    """Nearest-rank 95th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))
    return ordered[rank - 1]


def summary(values):
    return {"median": median(values), "p95": p95(values), "n": len(values),
            "samples": [round(v, 4) for v in values]}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


# -- static server -----------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class _FallbackServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many tabs load many modules at once


def start_static_server(root, http_cache=True):
    """Serve ``root`` on 127.0.0.1 at a free port with the project's tools/serve.py (the
    standard library's threading server when it is missing). Returns (server, port).

    serve.py forbids HTTP caching (``no-store``) so tests always see edited files. With
    ``http_cache`` the benchmark lets the browser keep files and revalidate them
    (``no-cache``: a reload gets 304s), as an ordinary static host would; otherwise a
    "warm" page load would download the 6.5 MB Brython runtime again."""
    try:
        if TOOLS not in sys.path:
            sys.path.insert(0, TOOLS)
        import serve  # noqa: E402
    except ImportError:
        serve = None
    if serve is not None:
        if not http_cache:
            server, thread, port = serve.start_server(root, port=0)
            return server, port

        class Handler(serve.Handler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)

            def send_header(self, keyword, value):
                if keyword.lower() == "cache-control" and value == "no-store":
                    value = "no-cache"
                super().send_header(keyword, value)
        server = serve.Server(("127.0.0.1", 0), Handler)
    else:
        server = _FallbackServer(("127.0.0.1", 0),
                                 functools.partial(_QuietHandler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def make_site(tmp, bundle_path):
    """A served root of symbolic links: the repository's brython_jobs/, www/ and tools/,
    plus /bundle/brython_jobs.brython.js (the bundle under test, wherever it was built)."""
    site = os.path.join(tmp, "site")
    os.makedirs(os.path.join(site, "bundle"))
    for name in ("brython_jobs", "www", "tools"):
        os.symlink(os.path.join(ROOT, name), os.path.join(site, name))
    if bundle_path is not None:
        os.symlink(bundle_path, os.path.join(site, "bundle", "brython_jobs.brython.js"))
    return site


def _sources_mtime():
    src = os.path.join(ROOT, "brython_jobs")
    return max(os.path.getmtime(os.path.join(src, f)) for f in os.listdir(src)
               if f.endswith(".py"))


def find_bundle(tmp):
    """The script-tag bundle to measure: the build's www/brython/brython_jobs.brython.js
    when it is newer than every module, else one built now into ``tmp`` with the same
    ``brython-cli make_package`` command. Returns (path, where it came from) or
    (None, why there is none)."""
    if os.path.exists(SHIPPED_BUNDLE) and os.path.getmtime(SHIPPED_BUNDLE) >= _sources_mtime():
        return SHIPPED_BUNDLE, "www/brython/brython_jobs.brython.js (from the build)"
    commands = [[sys.executable, "-m", "brython"]]
    for cli in (os.path.join(ROOT, ".venv", "bin", "brython-cli"), shutil.which("brython-cli")):
        if cli and os.path.exists(cli):
            commands.append([cli])
    problem = "no brython-cli to build one"
    for command in commands:
        out = os.path.join(tmp, "brython_jobs.brython.js")
        proc = subprocess.run(
            command + ["make_package", "brython_jobs", "--src-dir",
                       os.path.join(ROOT, "brython_jobs"), "-o", out],
            cwd=tmp, capture_output=True, text=True)
        if proc.returncode == 0 and os.path.exists(out):
            return out, ("built now with brython-cli make_package (the build's bundle is "
                         "missing or older than the sources)")
        problem = f"brython-cli make_package failed: {proc.stderr.strip()[-300:]}"
    if os.path.exists(SHIPPED_BUNDLE):
        return SHIPPED_BUNDLE, ("www/brython/brython_jobs.brython.js, OLDER than the "
                                f"sources ({problem})")
    return None, problem


def brython_version():
    try:
        with open(os.path.join(BRYTHON_DIR, "brython.js"), encoding="utf-8") as f:
            for _ in range(5):
                line = f.readline()
                if line.startswith("// version"):
                    parts = line.split("[", 1)[1].split(",")
                    return ".".join(p.strip() for p in parts[:3])
    except OSError:
        pass
    return "unknown"


# -- browser -----------------------------------------------------------------------------
class BenchError(Exception):
    pass


class Browser:
    """One browser of ``engine`` with a fresh temporary profile."""

    # Console output of every browser of the engine's run: errors (a Python traceback, a
    # failed callback) and the package's warnings. main() empties them per engine.
    console_errors = []
    console_warnings = []

    def __init__(self, base_url, engine="chromium"):
        self.base_url = base_url
        self.engine = engine
        self.profile = tempfile.mkdtemp(prefix=f"bench-{engine}-")
        try:
            self.session = browsers.start(engine, self.profile, script_timeout=900,
                                          page_load_timeout=120)
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.driver = self.session.driver
        self.has_cdp = self.session.cdp

    @property
    def version(self):
        return self.session.version

    @property
    def label(self):
        return self.session.label

    def quit(self):
        try:
            self.collect_console()
            self.session.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def collect_console(self):
        """Move the console's errors and package warnings into the class lists: from
        chromedriver's log in Chromium, else from every open page's ``benchConsole``
        (tools/bench/common.js), which only lives as long as the page."""
        try:
            if self.session.console_log:
                for entry in self.driver.get_log("browser"):
                    message = entry.get("message", "")
                    # 404s are expected: Brython probes name.py before name/__init__.py.
                    if entry.get("level") == "SEVERE" and "Failed to load resource" \
                            not in message:
                        self.console_errors.append(message[:400])
                    elif entry.get("level") == "WARNING" and "brython_jobs:" in message:
                        self.console_warnings.append(message[:400])
                return
            current = self.driver.current_window_handle
            for handle in self.driver.window_handles:
                self.driver.switch_to.window(handle)
                lines = self.driver.execute_script(
                    "return (window.benchConsole && window.benchConsole.splice(0)) || []")
                for level, message in lines:
                    if level == "error":
                        self.console_errors.append(message[:400])
                    elif level == "warn" and "brython_jobs:" in message:
                        self.console_warnings.append(message[:400])
            self.driver.switch_to.window(current)
        except Exception:
            pass

    # tabs
    def url(self, path, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{self.base_url}/{path}" + (f"?{query}" if query else "")

    def open_tab(self, path, ready=True, **params):
        """Open a new tab on ``path`` and wait until its page is ready; returns the handle."""
        # A window of its own where background tabs are throttled (tools/browsers.py).
        self.driver.switch_to.new_window(self.session.foreground)
        self.driver.get(self.url(path, **params))
        if ready:
            self.wait_ready()
        return self.driver.current_window_handle

    def only_tab(self):
        """Close every tab but one and leave that one blank."""
        self.collect_console()
        handles = self.driver.window_handles
        for handle in handles[1:]:
            self.driver.switch_to.window(handle)
            self.driver.close()
        self.driver.switch_to.window(handles[0])
        self.driver.get("about:blank")

    def switch(self, handle):
        self.driver.switch_to.window(handle)

    def close(self, handle, keep):
        self.driver.switch_to.window(handle)
        self.collect_console()
        self.driver.close()
        self.driver.switch_to.window(keep)

    def wait_ready(self, timeout=90.0, flag="benchReady"):
        deadline = time.time() + timeout
        while True:
            ready, fatal, errors = self.driver.execute_script(
                f"return [window.{flag} || null, window.benchFatal || null,"
                " window.benchErrors || []]")
            if fatal:
                raise BenchError(f"page failed: {fatal}; console: {errors[:3]}")
            if ready:
                return ready
            if time.time() > deadline:
                self.collect_console()
                raise BenchError(f"page not ready after {timeout}s: {self.driver.current_url};"
                                 f" console: {errors[:3] or self.console_errors[-3:]}")
            time.sleep(0.02)

    # calls into the page
    def _call(self, entry, name, args):
        raw = self.driver.execute_async_script(
            f"var done = arguments[arguments.length - 1];"
            f" window.{entry}(arguments[0], arguments[1], done);", name, json.dumps(args))
        out = json.loads(raw)
        if "error" in out:
            self.collect_console()
            raise BenchError(f"{name}{tuple(args)}: {out['error']}")
        return out["ok"]

    def js(self, name, *args):
        """A plain-JS bench function (baseline.js)."""
        return self._call("benchCall", name, list(args))

    def py(self, name, *args):
        """A Python bench function of jobs_page.py."""
        return self._call("pyCall", name, list(args))

    def storage(self, key):
        return self.driver.execute_script("return localStorage.getItem(arguments[0]);", key)

    def wait_leader(self, want=True, timeout=20.0):
        deadline = time.time() + timeout
        while True:
            state = self.py("state")
            if state["is_leader"] == want and state["started"]:
                return state
            if time.time() > deadline:
                raise BenchError(f"tab did not become {'leader' if want else 'follower'}")
            time.sleep(0.02)

    def cdp(self, cmd, params=None):
        if not self.has_cdp:
            raise BenchError(f"{cmd} needs Chromium's DevTools protocol")
        return self.driver.execute_cdp_cmd(cmd, params or {})


def run_id():
    return uuid.uuid4().hex[:8]


# -- 1. throughput -----------------------------------------------------------------------
def bench_throughput(b, cfg, figures, evidence):
    n = cfg["throughput_n"]
    base, one, many = [], [], []
    details = []
    for r in range(cfg["throughput_rounds"]):
        log(f"throughput round {r + 1}/{cfg['throughput_rounds']} (N={n})")
        b.only_tab()
        b.driver.get(b.url("tools/bench/baseline.html"))
        b.wait_ready()
        res = b.js("js_throughput", n, f"bench-tp-{run_id()}")
        base.append(n / res["ms"] * 1000)
        details.append({"round": r, "kind": "baseline", **res})
        for mode, sink in (("one", one), ("many", many)):
            b.driver.get(b.url("tools/bench/jobs.html", q=f"tp-{mode}-{run_id()}"))
            b.wait_ready()
            b.wait_leader()
            res = b.py("throughput", n, mode, 100)
            if res["completed"] != n:
                raise BenchError(f"throughput {mode}: {res['completed']} of {n} completed")
            sink.append(n / res["ms"] * 1000)
            details.append({"round": r, "kind": mode, **res})
    evidence["throughput_rounds"] = details
    base_s = summary(base)
    for label, key, values in (
            ("Throughput, enqueue awaited one by one", "throughput_one", one),
            ("Throughput, enqueue_many in batches of 100", "throughput_many", many)):
        s = summary(values)
        figures.append({
            "id": key, "label": label, "n": n, "unit": "jobs/s", "higher_is_better": True,
            "value": s, "baseline": base_s,
            "baseline_label": "plain JS: 3 readwrite tx per job",
            "ratio": ratio(s["median"], base_s["median"]), "goal": (">=", 1.0)})


_COMPILED = re.compile(r"^(.*?)(\d{3,})$")
# Python functions of the package whose inclusive time is reported (Brython compiles each
# to a JS function named after it plus a number).
STAGES = (
    ("enqueue_many", "enqueue path (enqueue_many, incl. its events)"),
    ("overview", "dispatch read (overview)"),
    ("claim_next", "claim transaction (claim_next)"),
    ("_finish_and_claim", "finish + claim next transaction"),
    ("_emit", "job events (_emit, incl. bus post)"),
    ("post", "bus post (serialise + postMessage)"),
    ("_write", "store writes (to_js + put)"),
    ("to_js", "to_js (all callers)"),
    ("to_py", "to_py (all callers)"),
    ("_tx", "opening transactions (_tx)"),
)
NATIVE = ("put", "get", "transaction", "objectStore", "index", "openCursor", "openKeyCursor",
          "continue", "postMessage", "count", "getAll", "delete")


def profile_summary(profile, n):
    """Where a CDP Profiler profile's time went, in ms per job: self time by kind, and the
    inclusive time of the package's main operations and of native calls."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {}
    for node in profile["nodes"]:
        for child in node.get("children", []):
            parent[child] = node["id"]

    def name_of(node_id):
        frame = nodes[node_id]["callFrame"]
        name = frame.get("functionName") or "(anonymous)"
        url = frame.get("url") or ""
        if url:
            return name, url.rsplit("/", 1)[-1]
        m = _COMPILED.match(name)
        if m and m.group(1):
            return m.group(1), "python"
        return name, ""

    kinds = {}
    inclusive = {}
    for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
        name, where = name_of(sample)
        if name in ("(idle)", "(program)", "(garbage collector)"):
            kind = name
        elif where == "python":
            kind = "compiled Python code"
        elif where == "brython.js":
            kind = "Brython runtime (brython.js)"
        elif where == "":
            kind = "native calls (IndexedDB, BroadcastChannel, ...)"
        else:
            kind = "page JS (" + where + ")"
        kinds[kind] = kinds.get(kind, 0) + delta
        seen = set()
        node_id = sample
        while node_id is not None:
            key = name_of(node_id)
            if key not in seen:
                seen.add(key)
                inclusive[key] = inclusive.get(key, 0) + delta
            node_id = parent.get(node_id)
    total = sum(kinds.values())
    per = lambda us: round(us / 1000 / n, 3)  # noqa: E731
    return {
        "sampled_ms": total / 1000,
        "self_ms_per_job": {k: per(v) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])},
        "python_ms_per_job": {label: per(inclusive[(fn, "python")]) for fn, label in STAGES
                              if (fn, "python") in inclusive},
        "native_ms_per_job": {fn: per(inclusive[(fn, "")]) for fn in NATIVE
                              if (fn, "") in inclusive and per(inclusive[(fn, "")]) > 0},
    }


def _reset_counts(b):
    b.driver.execute_script("if (window.benchCounts) for (var k in benchCounts)"
                            " delete benchCounts[k];")


def _open_queue_tab(b, prefix, **params):
    b.only_tab()
    b.driver.get(b.url("tools/bench/jobs.html", q=f"{prefix}-{run_id()}", **params))
    b.wait_ready()
    b.wait_leader()
    time.sleep(0.3)  # let start-up transactions settle


def _timers_per(timers, n):
    return {k: {"calls_per_job": round(v["calls"] / n, 2), "ms_per_job": round(v["ms"] / n, 3)}
            for k, v in sorted(timers.items())}


def bench_evidence(b, cfg, evidence):
    """Where the time goes. Per throughput mode: a run under the CPU profiler, and a run
    with counters (transactions and requests per job) and timers (JSON conversions and
    engine operations). Then the same counters for latency jobs, and what one put costs
    with the package's indexes."""
    n = cfg["profile_n"]
    out = {}
    for mode in cfg["evidence_modes"]:
        log(f"evidence: throughput {mode} (N={n}), "
            + ("profiled run and counted run" if b.has_cdp else "counted run"))
        entry = out[mode] = {"n": n}
        # The CPU profile needs Chromium's DevTools protocol; other engines count only.
        for counted in ((False, True) if b.has_cdp else (True,)):
            if mode == "baseline":
                b.only_tab()
                b.driver.get(b.url("tools/bench/baseline.html",
                                   **({"count": "1"} if counted else {})))
                b.wait_ready()
            else:
                _open_queue_tab(b, f"ev-{mode}",
                                **({"count": "1", "timers": "1"} if counted else {}))
                if counted:
                    b.py("reset_timers")
            _reset_counts(b)
            if not counted:
                b.cdp("Profiler.enable")
                b.cdp("Profiler.setSamplingInterval", {"interval": 1000})
                b.cdp("Profiler.start")
            if mode == "baseline":
                res = b.js("js_throughput", n, f"bench-ev-{run_id()}")
            else:
                res = b.py("throughput", n, mode, 100)
            if not counted:
                profile = b.cdp("Profiler.stop")["profile"]
                b.cdp("Profiler.disable")
                entry["profiled_ms_per_job"] = res["ms"] / n
                entry["profile"] = profile_summary(profile, n)
            else:
                counts = b.driver.execute_script("return window.benchCounts || {};")
                entry["counted_ms_per_job"] = res["ms"] / n
                entry["per_job_counts"] = {k: round(v / n, 2) for k, v in sorted(counts.items())}
                if mode != "baseline":
                    entry["timers"] = _timers_per(b.py("timers"), n)
    evidence["throughput_profile"] = out

    m = cfg["latency_n"]
    log(f"evidence: latency jobs (N={m}), counted")
    _open_queue_tab(b, "ev-lat", count="1", timers="1")
    b.py("latency", 3, cfg["latency_gap_ms"])
    b.py("reset_timers")
    _reset_counts(b)
    b.py("latency", m, cfg["latency_gap_ms"])
    counts = b.driver.execute_script("return window.benchCounts || {};")
    evidence["latency_same_tab_per_job"] = {
        "counts": {k: round(v / m, 2) for k, v in sorted(counts.items())},
        "timers": _timers_per(b.py("timers"), m)}

    log("evidence: cost of one put with the package's indexes")
    b.only_tab()
    b.driver.get(b.url("tools/bench/jobs.html", q=f"evhost-{run_id()}", start="0"))
    b.wait_ready()
    name = f"evput-{run_id()}"
    b.py("pick_fill", name, 0, 0)
    reps = 50 if n >= 100 else 5
    evidence["put_cost_ms"] = b.py("put_cost", name, reps)
    evidence["tx_cost_ms"] = {k: summary(v) for k, v in b.py("tx_cost", name, reps).items()}
    b.py("pick_drop", name)


# -- 2. latency --------------------------------------------------------------------------
def bench_latency(b, cfg, figures, evidence):
    n, gap = cfg["latency_n"], cfg["latency_gap_ms"]
    q = f"lat-{run_id()}"
    b.only_tab()
    log(f"latency: leader tab, same-tab enqueues (N={n})")
    b.driver.get(b.url("tools/bench/jobs.html", q=q))
    b.wait_ready()
    b.wait_leader()
    leader = b.driver.current_window_handle
    b.py("latency", 3, gap)  # warm-up
    same = b.py("latency", n, gap)
    log(f"latency: follower tab (N={n})")
    b.open_tab("tools/bench/jobs.html", q=q)
    follower = b.driver.current_window_handle
    b.wait_leader(want=False)
    b.py("latency", 3, gap)
    fol = b.py("latency", n, gap)
    b.close(follower, leader)
    log("latency: plain-JS floors")
    b.only_tab()
    channel = f"bench-floor-{run_id()}"
    b.driver.get(b.url("tools/bench/baseline.html"))
    b.wait_ready()
    b.js("js_bc_listen", channel)
    listener = b.driver.current_window_handle
    b.open_tab("tools/bench/baseline.html")
    db = f"bench-floor-{run_id()}"
    b.js("js_latency_same", 3, gap, db)
    floor_same = b.js("js_latency_same", n, gap, db)
    b.js("js_latency_bc", 3, gap, db, channel)
    floor_bc = b.js("js_latency_bc", n, gap, db, channel)
    b.switch(listener)
    for label, key, rows, floor, floor_label in (
            ("Latency enqueue->handler start, same tab", "latency_same", same, floor_same,
             "plain JS: 1 readwrite tx"),
            ("Latency enqueue->handler start, follower tab", "latency_follower", fol,
             floor_bc, "plain JS: 1 readwrite tx + 1 BroadcastChannel msg")):
        s = summary([r[0] for r in rows])
        f = summary(floor)
        figures.append({
            "id": key, "label": label, "n": n, "unit": "ms", "latency": True,
            "value": s, "baseline": f, "baseline_label": floor_label,
            "ratio": ratio(s["median"], f["median"]),
            "goal": ("<=ms", 5.0) if key == "latency_follower" else None})
        evidence[key + "_enqueue_returned_ms"] = summary([r[1] for r in rows])


# -- 3. failover -------------------------------------------------------------------------
def _poll_storage(b, key, timeout=15.0, check=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = b.storage(key)
        if value is not None and (check is None or check(value)):
            return value
        time.sleep(0.005)
    return None


def bench_failover(b, cfg, figures, evidence):
    trials = cfg["failover_trials"]
    # brython_jobs: a long job runs in the leader; close that tab; the follower restarts it.
    b.only_tab()
    q = f"fo-{run_id()}"
    log(f"failover: brython_jobs, {trials} leader closes")
    b.driver.get(b.url("tools/bench/jobs.html", q=q))
    b.wait_ready()
    b.wait_leader()
    b.driver.execute_script(
        "Object.keys(localStorage).filter(k => k.startsWith('bench:'))"
        ".forEach(k => localStorage.removeItem(k));")
    leader = b.driver.current_window_handle
    b.py("enqueue_hold", 600)
    if _poll_storage(b, "bench:hold:1") is None:
        raise BenchError("the hold job never started")
    values, via_close_cmd, to_leader, to_restart = [], [], [], []
    timers = {}
    for t in range(trials):
        follower = b.open_tab("tools/bench/jobs.html", q=q, timers="engine")
        b.wait_leader(want=False)
        time.sleep(0.3)
        b.driver.execute_script("localStorage.removeItem('bench:pagehide');"
                                "localStorage.removeItem('bench:leader');")
        b.switch(leader)
        t_close = time.time() * 1000
        b.driver.close()
        b.switch(follower)
        restarted = _poll_storage(b, f"bench:hold:{t + 2}")
        if restarted is None:
            raise BenchError(f"failover trial {t}: the job did not restart")
        hidden = _poll_storage(b, "bench:pagehide", timeout=2.0)
        led = b.storage("bench:leader")
        start = float(restarted)
        closed = float(hidden) if hidden is not None else t_close
        values.append(start - closed)
        via_close_cmd.append(start - t_close)
        if led is not None:
            to_leader.append(float(led) - closed)
            to_restart.append(start - float(led))
        for k, v in b.py("timers").items():
            timers.setdefault(k, []).append(v["ms"] / v["calls"])
        leader = follower
    evidence["failover_close_to_leader_event_ms"] = summary(to_leader)
    evidence["failover_leader_event_to_restart_ms"] = summary(to_restart)
    evidence["failover_engine_ms_per_call"] = {k: median(v) for k, v in timers.items()}
    evidence["failover_from_close_command_ms"] = summary(via_close_cmd)

    # floor: plain-JS Web Locks handover between two tabs.
    log(f"failover floor: Web Locks handover, {trials} closes")
    b.only_tab()
    lock = f"bench-lock-{run_id()}"
    b.driver.get(b.url("tools/bench/baseline.html"))
    b.wait_ready()
    b.js("js_lock_hold", lock, "t0")
    holder = b.driver.current_window_handle
    if _poll_storage(b, "bench:lockgot", check=lambda v: json.loads(v)["tag"] == "t0") is None:
        raise BenchError("the first tab never got the lock")
    floors = []
    for t in range(trials):
        tag = f"t{t + 1}"
        waiter = b.open_tab("tools/bench/baseline.html")
        b.js("js_lock_hold", lock, tag)
        time.sleep(0.2)
        b.driver.execute_script("localStorage.removeItem('bench:pagehide');")
        b.switch(holder)
        t_close = time.time() * 1000
        b.driver.close()
        b.switch(waiter)
        got = _poll_storage(b, "bench:lockgot", check=lambda v: json.loads(v)["tag"] == tag)
        if got is None:
            raise BenchError(f"lock floor trial {t}: the lock was not handed over")
        hidden = _poll_storage(b, "bench:pagehide", timeout=2.0)
        floors.append(json.loads(got)["at"] -
                      (float(hidden) if hidden is not None else t_close))
        holder = waiter
    s, f = summary(values), summary(floors)
    figures.append({
        "id": "failover", "label": "Failover: leader tab close->job restarted",
        "n": trials, "unit": "ms", "latency": True, "value": s, "baseline": f,
        "baseline_label": "plain JS: Web Locks handover",
        "ratio": ratio(s["median"], f["median"]), "goal": ("<=ms", 100.0)})


# -- 4. pick cost and idle CPU -----------------------------------------------------------
def bench_pick(b, cfg, figures, evidence):
    b.only_tab()
    b.driver.get(b.url("tools/bench/jobs.html", q=f"pickhost-{run_id()}", start="0"))
    b.wait_ready()
    reps = cfg["pick_reps"]
    medians = {}
    js_medians = {}
    for size in cfg["pick_sizes"]:
        name = f"pick{size}-{run_id()}"
        pending = max(1, size // 10)
        log(f"pick cost: {size} stored jobs ({size - pending} completed + {pending} pending)")
        count = b.py("pick_fill", name, size - pending, pending)
        if count != size:
            raise BenchError(f"pick fill: {count} records, expected {size}")
        b.py("pick_measure", name, max(3, reps // 3))  # warm-up
        res = b.py("pick_measure", name, reps)
        js = b.js("js_pick", "brython_jobs." + name, reps)
        b.py("pick_drop", name)
        s, f = summary(res["total"]), summary(js)
        medians[size], js_medians[size] = s["median"], f["median"]
        evidence[f"pick_{size}_plan_ms"] = summary(res["plan"])
        evidence[f"pick_{size}_claim_ms"] = summary(res["claim"])
        evidence["pick_stored"] = "90% completed + 10% pending (due, queue 'default', priority 0)"
        figures.append({
            "id": f"pick_{size}",
            "label": f"Pick cost ({res['plan_call']} + claim_next), {size:,} stored",
            "n": reps, "unit": "ms", "latency": True, "value": s, "baseline": f,
            "baseline_label": "plain JS: head cursor + claim tx",
            "ratio": ratio(s["median"], f["median"]), "goal": None})
    small, large = min(cfg["pick_sizes"]), max(cfg["pick_sizes"])
    figures.append({
        "id": "pick_scaling", "label": f"Pick cost {large:,} vs {small:,} stored (x)",
        "n": reps, "unit": "x", "value": {"median": ratio(medians[large], medians[small])},
        "baseline": {"median": ratio(js_medians[large], js_medians[small])},
        "baseline_label": "plain JS pick, same sizes",
        "ratio": None, "goal": ("<=x", 1.5), "check_value": True})


def bench_idle(b, cfg, figures, evidence):
    seconds = cfg["idle_seconds"]
    if not b.has_cdp:
        figures.append({"id": "idle_cpu", "label": f"Idle leader CPU over {seconds:g} s",
                        "na": "n/a (needs Chromium's CDP)"})
        return
    results = {}
    for kind in ("leader", "bare"):
        log(f"idle CPU over {seconds:g} s: {kind}")
        b.only_tab()
        if kind == "leader":
            b.driver.get(b.url("tools/bench/jobs.html", q=f"idle-{run_id()}"))
            b.wait_ready()
            b.wait_leader()
        else:
            b.driver.get(b.url("tools/bench/bare.html"))
            b.wait_ready(flag="benchStartMs")
        time.sleep(cfg["settle_s"])
        b.cdp("Performance.enable", {"timeDomain": "threadTicks"})
        before = {m["name"]: m["value"] for m in b.cdp("Performance.getMetrics")["metrics"]}
        time.sleep(seconds)
        after = {m["name"]: m["value"] for m in b.cdp("Performance.getMetrics")["metrics"]}
        b.cdp("Performance.disable")
        results[kind] = {k: (after.get(k, 0) - before.get(k, 0)) * 1000
                         for k in ("TaskDuration", "ScriptDuration")}
    evidence["idle_cpu_ms"] = results
    figures.append({
        "id": "idle_cpu", "label": f"Idle leader CPU over {seconds:g} s (TaskDuration)",
        "n": 1, "unit": "ms", "value": {"median": results["leader"]["TaskDuration"]},
        "baseline": {"median": results["bare"]["TaskDuration"]},
        "baseline_label": "bare Brython page, idle",
        "ratio": ratio(results["leader"]["TaskDuration"], results["bare"]["TaskDuration"]),
        "goal": ("<=ms", 50.0 * seconds / 10.0), "check_value": True})


# -- 5. triggers -------------------------------------------------------------------------
def bench_triggers(b, cfg, figures, evidence):
    log("trigger cost and writes")
    b.only_tab()
    b.driver.get(b.url("tools/bench/jobs.html", q=f"trig-{run_id()}"))
    b.wait_ready()
    b.wait_leader()
    rounds, per = cfg["trigger_rounds"], cfg["trigger_per_round"]
    b.py("trigger_cost", 2, per)  # warm-up
    cost = [v * 1000 for v in b.py("trigger_cost", rounds, per)]
    floor = [v * 1000 for v in b.js("js_debounce_cost", rounds, per)]
    s, f = summary(cost), summary(floor)
    figures.append({
        "id": "trigger_call",
        "label": f"Debounced trigger: one call on the calling tab (rounds of {per})",
        "n": rounds * per, "unit": "us", "latency": True, "value": s, "baseline": f,
        "baseline_label": "plain JS in-memory debounce",
        "ratio": ratio(s["median"], f["median"]), "goal": None})
    calls, every = cfg["trigger_calls"], cfg["trigger_every_ms"]
    spread = b.py("trigger_writes", calls, every, f"bench-w1-{run_id()}")
    tight = b.py("trigger_writes", calls, 0, f"bench-w2-{run_id()}")
    figures.append({
        "id": "trigger_writes", "n": calls, "unit": "writes",
        "label": f"IndexedDB writes per {calls} trigger calls ({every} ms apart)",
        "value": {"median": spread["writes"]},
        "baseline": {"median": calls}, "baseline_label": "one write per call",
        "ratio": ratio(spread["writes"], calls), "goal": ("<=", 10.0 * calls / 100),
        "check_value": True})
    figures.append({
        "id": "trigger_writes_tight", "n": calls, "unit": "writes",
        "label": f"IndexedDB writes per {calls} trigger calls (one tight loop)",
        "value": {"median": tight["writes"]},
        "baseline": {"median": calls}, "baseline_label": "one write per call",
        "ratio": ratio(tight["writes"], calls), "goal": ("<=", 10.0 * calls / 100),
        "check_value": True})
    evidence["trigger_writes"] = {"spread": spread, "tight": tight}


# -- 6. workers --------------------------------------------------------------------------
def bench_workers(b, cfg, figures, evidence):
    if not os.path.exists(os.path.join(ROOT, "brython_jobs", "workers.py")):
        figures.append({"id": "worker", "label": "Worker", "na": "n/a (no worker support yet)"})
        return
    n = cfg["worker_n"]
    log(f"workers: start and {n} round trips")
    b.only_tab()
    b.driver.get(b.url("tools/bench/worker.html", q=f"wk-{run_id()}"))
    b.wait_ready()
    b.wait_leader()
    res = b.py("worker_round_trips", n, 20)
    floor = b.js("js_worker", n)
    starts = list(res["start_ms"][:1])
    floor_starts = [floor["start"]]
    firsts = [res["first_job_ms"]]
    for _ in range(cfg["worker_starts"] - 1):
        b.driver.get(b.url("tools/bench/worker.html", q=f"wk-{run_id()}"))
        b.wait_ready()
        b.wait_leader()
        more = b.py("worker_round_trips", 0, 0)
        starts.extend(more["start_ms"][:1])
        firsts.append(more["first_job_ms"])
        floor_starts.append(b.js("js_worker", 0)["start"])
    st, fs = summary(starts), summary(floor_starts)
    figures.append({
        "id": "worker_start", "label": "Worker start (until ready)", "n": st["n"],
        "unit": "ms", "latency": True, "value": st, "baseline": fs,
        "baseline_label": "plain JS worker start",
        "ratio": ratio(st["median"], fs["median"]), "goal": None})
    w, m = summary(res["worker"]), summary(res["main"])
    figures.append({
        "id": "worker_job", "label": "No-op job enqueue->completed, in a worker", "n": n,
        "unit": "ms", "latency": True, "value": w, "baseline": m,
        "baseline_label": "same handler on the main thread",
        "ratio": ratio(w["median"], m["median"]), "goal": None})
    evidence["worker"] = {
        "first_job_ms": median(firsts), "start_ms": starts,
        "overhead_ms_median": (w["median"] - m["median"]) if w["median"] is not None else None,
        "plain_js_postmessage_round_trip_ms": summary(floor["trips"])}


# -- 7. page cost ------------------------------------------------------------------------
PAGES = (("bare", "tools/bench/bare.html"), ("static", "tools/bench/start_static.html"),
         ("bundle", "tools/bench/start_bundle.html"))


def _page_time(b, breakdown):
    b.wait_ready(flag="benchStartMs", timeout=120)
    ms, n_py, py_net, script, imported = b.driver.execute_script(
        "var py = performance.getEntriesByType('resource')"
        ".filter(e => /\\.py(\\?|$)/.test(e.name));"
        "return [window.benchStartMs, py.length,"
        " py.reduce((a, e) => a + e.duration, 0),"
        " window.benchScriptMs || null, window.benchImportMs || null];")
    if script is not None:
        breakdown.setdefault("script running", []).append(script)
        breakdown.setdefault("brython_jobs imported", []).append(imported)
        breakdown.setdefault("start() resolved", []).append(ms)
        breakdown.setdefault("(.py downloads, summed)", []).append(py_net)
    return ms, n_py


def bench_page_cost(cfg, base_url, bundle, figures, evidence, shared=None, engine="chromium"):
    cold = {k: [] for k, _ in PAGES}
    warm = {k: [] for k, _ in PAGES}
    py_requests = {}
    breakdown = {}
    pages = PAGES if bundle[0] is not None else PAGES[:2]
    # Cold = the first load in a fresh browser profile (a new browser per sample); warm =
    # reloads. The quick run shares one browser among the pages to save time.
    own = shared is None and not cfg["page_fresh_browser"]
    if own:
        shared = Browser(base_url, engine)
    try:
        for rep in range(cfg["page_cold"]):
            for kind, path in pages:
                log(f"page cost: {kind}, cold #{rep + 1} and {cfg['page_warm']} reloads")
                b = shared if shared is not None else Browser(base_url, engine)
                try:
                    if shared is None:
                        b.driver.get("about:blank")
                        time.sleep(0.5)  # let the fresh browser settle
                    b.driver.get(b.url(path))
                    ms, n_py = _page_time(b, breakdown.setdefault(kind, {}).setdefault(
                        "cold", {}))
                    cold[kind].append(ms)
                    py_requests[kind] = n_py
                    for _ in range(cfg["page_warm"]):
                        b.driver.refresh()
                        ms, n_py = _page_time(b, breakdown.setdefault(kind, {}).setdefault(
                            "warm", {}))
                        warm[kind].append(ms)
                finally:
                    if shared is None:
                        b.quit()
    finally:
        if own:
            shared.quit()
    evidence["page_py_requests"] = py_requests
    evidence["page_breakdown_ms"] = {
        kind: {phase: {k: median(v) for k, v in marks.items()}
               for phase, marks in phases.items()}
        for kind, phases in breakdown.items() if any(phases.values())}
    for kind, label in (("static", "static .py files"), ("bundle", "script-tag bundle")):
        if kind not in [k for k, _ in pages]:
            figures.append({"id": f"page_{kind}", "label": f"Page cost, {label}",
                            "na": f"n/a ({bundle[1]})"})
            continue
        for phase, data in (("cold", cold), ("warm", warm)):
            s, f = summary(data[kind]), summary(data["bare"])
            figures.append({
                "id": f"page_{kind}_{phase}",
                "label": f"Page cost {phase}, {label} (nav->start())",
                "n": s["n"], "unit": "ms", "value": s, "baseline": f, "latency": True,
                "baseline_label": "bare Brython page importing browser",
                "ratio": ratio(s["median"], f["median"]), "goal": ("<=", 1.2)})
    if bundle[0] is not None:
        size = os.path.getsize(bundle[0])
        figures.append({"id": "bundle_size", "label": "Script-tag bundle size", "n": 1,
                        "unit": "bytes", "value": {"median": size}, "baseline": None,
                        "ratio": None, "goal": None, "source": bundle[1]})


# -- table -------------------------------------------------------------------------------
def fmt_num(value, unit):
    if value is None:
        return "-"
    if unit == "bytes":
        return f"{value:,.0f} B"
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("writes",):
        return f"{value:.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    if abs(value) >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


def fmt_stat(stat, unit, latency):
    if not stat:
        return "-"
    text = fmt_num(stat.get("median"), unit)
    if latency and stat.get("p95") is not None:
        text += f" (p95 {fmt_num(stat['p95'], unit).split(' ')[0]})"
    return text


def verdict(fig):
    goal = fig.get("goal")
    if not goal:
        return "", None
    op, target = goal
    if fig.get("check_value") or op == "<=ms":
        value = fig["value"].get("median")
    else:
        value = fig.get("ratio")
    if value is None:
        return "", None
    if op == ">=":
        ok = value >= target
        text = f">= {target:g}x"
    elif op == "<=ms":
        ok = value <= target
        text = f"<= {target:g} ms"
    elif op == "<=x":
        ok = value <= target
        text = f"<= {target:g}x"
    else:
        ok = value <= target
        text = f"<= {target:g}" + ("" if fig.get("check_value") else "x")
    return text, ok


def render(figures, meta, quick):
    header = ("Figure", "N", "brython_jobs median (p95)", "baseline median (p95)", "ratio",
              "goal")
    rows = []
    for fig in figures:
        if "na" in fig or "error" in fig:
            rows.append((fig["label"], "", fig.get("na") or f"error: {fig['error']}", "", "",
                         ""))
            continue
        unit, lat = fig["unit"], fig.get("latency", False)
        goal_text, ok = verdict(fig)
        if goal_text and not quick:
            goal_text += "  " + ("met" if ok else "MISSED")
        r = fig.get("ratio")
        rows.append((fig["label"], str(fig.get("n", "")), fmt_stat(fig["value"], unit, lat),
                     fmt_stat(fig.get("baseline"), unit, lat), "-" if r is None else f"{r:.2f}x",
                     goal_text))
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    lines = [f"brython_jobs benchmark: {meta['mode']} run, {meta['browser_label']}, "
             f"Brython {meta['brython']}, {meta['cpus']} CPUs, "
             f"N(throughput)={meta['throughput_n']}, {meta['seconds']:.0f} s, load average "
             f"{meta['load_average'][0]:.1f} at start, {meta['load_average'][1]:.1f} at end",
             ""]
    sep = "  "
    lines.append(sep.join(h.ljust(widths[i]) for i, h in enumerate(header)))
    lines.append(sep.join("-" * w for w in widths))
    for row in rows:
        lines.append(sep.join(str(c).ljust(widths[i]) for i, c in enumerate(row)).rstrip())
    lines.append("")
    lines.append("ratio = brython_jobs / baseline (throughput: higher is better; times: lower"
                 " is better). Baselines:")
    groups = {}
    for fig in figures:
        if fig.get("baseline_label"):
            groups.setdefault(fig["baseline_label"], []).append(fig["id"])
    for label, ids in groups.items():
        lines.append(f"  {label}: {', '.join(ids)}")
    if quick:
        lines.append("Quick run: tiny sizes, a smoke test of the suite; these numbers mean"
                     " nothing.")
    return "\n".join(lines)


def _fmt_map(d, digits=2):
    return ", ".join(f"{k} {v:.{digits}f}" if isinstance(v, (int, float)) else f"{k} {v}"
                     for k, v in d.items())


def render_evidence(evidence):
    lines = []
    prof = evidence.get("throughput_profile")
    if prof:
        lines.append("")
        lines.append("Where the time goes: throughput, one profiled and one counted run per "
                     "mode (ms or counts per job)")
        for mode in ("baseline", "one", "many"):
            p = prof.get(mode)
            if not p:
                continue
            pr = p.get("profile")
            if pr is None:  # no CPU profiler outside Chromium
                lines.append(f"  {mode} (N={p['n']}): {p['counted_ms_per_job']:.2f} ms/job with"
                             " counters (no CPU profile in this engine)")
            else:
                lines.append(f"  {mode} (N={p['n']}): {p['profiled_ms_per_job']:.2f} ms/job"
                             " under the profiler")
                kinds = dict(pr["self_ms_per_job"])
                idle = kinds.pop("(idle)", 0.0)
                lines.append(f"    main thread busy {sum(kinds.values()):.2f} ms/job ("
                             + _fmt_map(kinds) + f"), idle {idle:.2f} ms/job")
                if pr["python_ms_per_job"]:
                    lines.append("    inclusive, package code: "
                                 + _fmt_map(pr["python_ms_per_job"]))
                if pr["native_ms_per_job"]:
                    lines.append("    inclusive, native calls: "
                                 + _fmt_map(pr["native_ms_per_job"]))
            counts = p.get("per_job_counts", {})
            tx = {k[3:]: v for k, v in counts.items() if k.startswith("tx:")}
            reqs = {k: v for k, v in counts.items() if not k.startswith("tx:") and v}
            if tx:
                lines.append("    transactions: " + _fmt_map(tx))
            if reqs:
                lines.append("    requests: " + _fmt_map(reqs))
            for k, v in p.get("timers", {}).items():
                lines.append(f"    {k}: {v['calls_per_job']} calls, {v['ms_per_job']:.3f} ms")
    lat = evidence.get("latency_same_tab_per_job")
    if lat:
        lines.append("  latency jobs (same tab), per job:")
        tx = {k[3:]: v for k, v in lat["counts"].items() if k.startswith("tx:")}
        lines.append("    transactions: " + _fmt_map(tx))
        for k, v in lat["timers"].items():
            lines.append(f"    {k}: {v['calls_per_job']} calls, {v['ms_per_job']:.3f} ms")
    put = evidence.get("put_cost_ms")
    if put:
        lines.append("  one put in its own readwrite transaction, plain JS (median ms): "
                     f"package schema: put() call {put['schema']['put_call_ms']:.2f}, whole tx "
                     f"{put['schema']['tx_ms']:.2f}; one-index store: put() call "
                     f"{put['one_index']['put_call_ms']:.2f}, whole tx "
                     f"{put['one_index']['tx_ms']:.2f}; readonly get tx "
                     f"{put['schema']['get_tx_ms']:.2f}")
    txc = evidence.get("tx_cost_ms")
    if txc:
        lines.append("  the same through the package, idle page (median ms): " + ", ".join(
            f"{k} {v['median']:.2f}" for k, v in txc.items()))
    page = evidence.get("page_breakdown_ms")
    if page:
        lines.append("  page cost breakdown (median ms from navigation): " + "; ".join(
            f"{kind} {phase}: " + _fmt_map(v, 0) for kind, phases in page.items()
            for phase, v in phases.items()))
        lines.append(f"  .py requests per load: {evidence.get('page_py_requests')}")
    if evidence.get("failover_close_to_leader_event_ms"):
        lines.append(
            "  failover timeline (median ms): tab close -> 'leader' event (lock handed over "
            "+ become_leader tx) "
            f"{evidence['failover_close_to_leader_event_ms']['median']:.1f}; -> handler "
            f"restarted {evidence['failover_leader_event_to_restart_ms']['median']:.1f}; "
            "engine ms per call on the new leader: " +
            _fmt_map(evidence["failover_engine_ms_per_call"], 1))
    idle = evidence.get("idle_cpu_ms")
    if idle:
        lines.append("  idle CPU (ms): " + "; ".join(f"{k}: " + _fmt_map(v) for k, v in
                                                      idle.items()))
    worker = evidence.get("worker")
    if worker:
        lines.append(f"  worker: first job {worker['first_job_ms']:.0f} ms (includes the "
                     f"start; median), per-job overhead vs main thread "
                     f"{worker['overhead_ms_median']:.2f} ms")
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: a smoke test of the suite (asserts no timings)")
    parser.add_argument("--json", metavar="PATH", help="also write all figures as JSON")
    parser.add_argument("--no-http-cache", action="store_true",
                        help="serve with no-store, as the tests do (warm page loads then "
                             "download the Brython runtime again)")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated subset: throughput,evidence,latency,failover,"
                             "pick,idle,triggers,workers,page")
    parser.add_argument("--browser", action="append", metavar="ENGINE",
                        choices=browsers.ENGINES + ("all",),
                        help="chromium (default), firefox, webkit or all; repeat for several:"
                             " the suite runs once per engine, each against baselines in"
                             " the same engine")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    only = set(args.only.split(",")) if args.only else None
    engines = args.browser or ["chromium"]
    if "all" in engines:
        engines = list(browsers.ENGINES)
    engines = list(dict.fromkeys(engines))

    problems = [f"{engine}: {path}" for engine in engines for path in browsers.missing(engine)]
    problems += [path for path in (os.path.join(BRYTHON_DIR, "brython.js"),
                                   os.path.join(BRYTHON_DIR, "brython_stdlib.js"))
                 if not os.path.exists(path)]
    if problems:
        print(f"missing {', '.join(problems)} (run tools/bootstrap.sh first)", file=sys.stderr)
        return 2

    # A terminated run still quits its browsers and removes its temporary files.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    runs = []
    failed = False
    for engine in engines:
        run = run_engine(engine, cfg, only, args)
        runs.append(run)
        failed = failed or bool(run["meta"]["failures"])
        print(render(run["figures"], run["meta"], args.quick))
        print(render_evidence(run["evidence"]))
        console, warnings = run["meta"]["console_errors"], run["meta"]["package_warnings"]
        print(f"\n{engine} console: {run['meta']['console_error_count']} errors, "
              f"{run['meta']['package_warning_count']} brython_jobs warnings"
              + (f"; first error: {console[0][:300]}" if console else "")
              + (f"; first warning: {warnings[0][:300]}" if warnings else ""))
        if len(engines) > 1:
            print()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            # One engine: {"meta", "figures", "evidence"}; several: {"runs": [...]}.
            json.dump(runs[0] if len(runs) == 1 else {"runs": runs}, f, indent=1)
        log(f"wrote {args.json}")
    return 1 if failed else 0


def run_engine(engine, cfg, only, args):
    """The whole suite in one engine: {"meta", "figures", "evidence"}."""
    started = time.time()
    load_before = os.getloadavg()
    tmp = tempfile.mkdtemp(prefix="bench-")
    figures, evidence, failures = [], {}, []
    server = None
    browser = None
    Browser.console_errors = []
    Browser.console_warnings = []
    version = label = "unknown"
    try:
        bundle = find_bundle(tmp)
        site = make_site(tmp, bundle[0])
        server, port = start_static_server(site, http_cache=not args.no_http_cache)
        base_url = f"http://127.0.0.1:{port}"
        log(f"{engine}: serving {ROOT} at {base_url}; bundle: {bundle[1]}")
        browser = Browser(base_url, engine)
        version, label = browser.version, browser.label

        def step(name, fn, *fargs):
            if only is not None and name not in only:
                return
            try:
                fn(*fargs)
            except Exception as exc:
                log(f"{name} failed: {type(exc).__name__}: {exc}")
                failures.append(name)
                figures.append({"id": name, "label": name, "error": f"{type(exc).__name__}: "
                                f"{str(exc)[:200]}"})
                try:
                    browser.only_tab()
                except Exception:
                    pass

        step("throughput", bench_throughput, browser, cfg, figures, evidence)
        step("latency", bench_latency, browser, cfg, figures, evidence)
        step("failover", bench_failover, browser, cfg, figures, evidence)
        step("pick", bench_pick, browser, cfg, figures, evidence)
        step("idle", bench_idle, browser, cfg, figures, evidence)
        step("triggers", bench_triggers, browser, cfg, figures, evidence)
        step("workers", bench_workers, browser, cfg, figures, evidence)
        step("evidence", bench_evidence, browser, cfg, evidence)
        if not cfg["page_fresh_browser"]:
            browser.only_tab()
            step("page", bench_page_cost, cfg, base_url, bundle, figures, evidence, browser)
        browser.quit()
        browser = None
        if cfg["page_fresh_browser"]:
            step("page", bench_page_cost, cfg, base_url, bundle, figures, evidence,
                 None, engine)
    finally:
        if browser is not None:
            browser.quit()
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
    console, warnings = Browser.console_errors, Browser.console_warnings

    meta = {"mode": "quick" if args.quick else "full", "engine": engine, "browser": version,
            "browser_label": label,
            "brython": brython_version(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "throughput_n": cfg["throughput_n"],
            "seconds": time.time() - started, "config": {k: list(v) if type(v) is tuple
                                                          else v for k, v in cfg.items()},
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "failures": failures,
            "http_cache": not args.no_http_cache,
            "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "console_errors": console[:20], "package_warnings": warnings[:20],
            "console_error_count": len(console), "package_warning_count": len(warnings)}
    return {"meta": meta, "figures": figures, "evidence": evidence}


if __name__ == "__main__":
    sys.exit(main())
