"""Where the time goes. Per throughput mode: one run under Chromium's CPU profiler (CDP;
the other engines have none) and one counted run (transactions and requests per job from
common.js, and jobs_page.py's timers of the JSON conversions and engine operations); the
same counters for latency jobs; what one put costs with the package's indexes."""

import re
import time

from .core import log, run_id, summary

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


def _kind(name, where):
    if name in ("(idle)", "(program)", "(garbage collector)"):
        return name
    if where == "python":
        return "compiled Python code"
    if where == "brython.js":
        return "Brython runtime (brython.js)"
    if where == "":
        return "native calls (IndexedDB, BroadcastChannel, ...)"
    return "page JS (" + where + ")"


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

    kinds, inclusive = {}, {}
    for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
        kind = _kind(*name_of(sample))
        kinds[kind] = kinds.get(kind, 0) + delta
        seen = set()
        node_id = sample
        while node_id is not None:
            key = name_of(node_id)
            if key not in seen:
                seen.add(key)
                inclusive[key] = inclusive.get(key, 0) + delta
            node_id = parent.get(node_id)

    def per(us):
        return round(us / 1000 / n, 3)
    return {
        "sampled_ms": sum(kinds.values()) / 1000,
        "self_ms_per_job": {k: per(v) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])},
        "python_ms_per_job": {label: per(inclusive[(fn, "python")]) for fn, label in STAGES
                              if (fn, "python") in inclusive},
        "native_ms_per_job": {fn: per(inclusive[(fn, "")]) for fn in NATIVE
                              if (fn, "") in inclusive and per(inclusive[(fn, "")]) > 0},
    }


def _reset_counts(b):
    b.driver.execute_script("if (window.benchCounts) for (var k in benchCounts)"
                            " delete benchCounts[k];")


def _counts(b):
    return b.driver.execute_script("return window.benchCounts || {};")


def _queue_tab(b, prefix, **params):
    b.queue_tab(prefix, **params)
    time.sleep(0.3)  # let start-up transactions settle


def _timers_per(timers, n):
    return {k: {"calls_per_job": round(v["calls"] / n, 2), "ms_per_job": round(v["ms"] / n, 3)}
            for k, v in sorted(timers.items())}


def _throughput_mode(b, mode, n, counted):
    """One throughput run of ``mode`` (baseline, one, many): profiled, or ``counted``."""
    if mode == "baseline":
        b.only_tab()
        b.load("tools/bench/baseline.html", **({"count": "1"} if counted else {}))
    else:
        _queue_tab(b, f"ev-{mode}", **({"count": "1", "timers": "1"} if counted else {}))
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
        return {"profiled_ms_per_job": res["ms"] / n, "profile": profile_summary(profile, n)}
    out = {"counted_ms_per_job": res["ms"] / n,
           "per_job_counts": {k: round(v / n, 2) for k, v in sorted(_counts(b).items())}}
    if mode != "baseline":
        out["timers"] = _timers_per(b.py("timers"), n)
    return out


def run(r):
    b, cfg = r.browser, r.cfg
    n = cfg["profile_n"]
    out = {}
    for mode in cfg["evidence_modes"]:
        log(f"evidence: throughput {mode} (N={n}), "
            + ("profiled run and counted run" if b.has_cdp else "counted run"))
        entry = out[mode] = {"n": n}
        for counted in ((False, True) if b.has_cdp else (True,)):
            entry.update(_throughput_mode(b, mode, n, counted))
    r.evidence["throughput_profile"] = out

    m = cfg["latency_n"]
    log(f"evidence: latency jobs (N={m}), counted")
    _queue_tab(b, "ev-lat", count="1", timers="1")
    b.py("latency", 3, cfg["latency_gap_ms"])
    b.py("reset_timers")
    _reset_counts(b)
    b.py("latency", m, cfg["latency_gap_ms"])
    r.evidence["latency_same_tab_per_job"] = {
        "counts": {k: round(v / m, 2) for k, v in sorted(_counts(b).items())},
        "timers": _timers_per(b.py("timers"), m)}

    log("evidence: cost of one put with the package's indexes")
    b.only_tab()
    b.load("tools/bench/jobs.html", q=f"evhost-{run_id()}", start="0")
    name = f"evput-{run_id()}"
    b.py("pick_fill", name, 0, 0)
    reps = 50 if n >= 100 else 5
    r.evidence["put_cost_ms"] = b.py("put_cost", name, reps)
    r.evidence["tx_cost_ms"] = {k: summary(v) for k, v in b.py("tx_cost", name, reps).items()}
    b.py("pick_drop", name)
