"""Idle CPU: the main-thread task time of an idle leader tab over a few seconds, against a
bare Brython page (Chromium's DevTools ``Performance`` metrics; n/a elsewhere)."""

import time

from .core import figure, log, run_id


def _task_ms(b, seconds):
    b.cdp("Performance.enable", {"timeDomain": "threadTicks"})
    before = {m["name"]: m["value"] for m in b.cdp("Performance.getMetrics")["metrics"]}
    time.sleep(seconds)
    after = {m["name"]: m["value"] for m in b.cdp("Performance.getMetrics")["metrics"]}
    b.cdp("Performance.disable")
    return {k: (after.get(k, 0) - before.get(k, 0)) * 1000
            for k in ("TaskDuration", "ScriptDuration")}


def run(r):
    b, seconds = r.browser, r.cfg["idle_seconds"]
    if not b.has_cdp:
        r.add({"id": "idle_cpu", "label": f"Idle leader CPU over {seconds:g} s",
               "na": "n/a (needs Chromium's CDP)"})
        return
    results = {}
    for kind in ("leader", "bare"):
        log(f"idle CPU over {seconds:g} s: {kind}")
        b.only_tab()
        if kind == "leader":
            b.load("tools/bench/jobs.html", q=f"idle-{run_id()}")
            b.wait_leader()
        else:
            b.load("tools/bench/bare.html", ready=False)
            b.wait_ready(flag="benchStartMs")
        time.sleep(r.cfg["settle_s"])
        results[kind] = _task_ms(b, seconds)
    r.evidence["idle_cpu_ms"] = results
    r.add(figure("idle_cpu", f"Idle leader CPU over {seconds:g} s (TaskDuration)", 1, "ms",
                 {"median": results["leader"]["TaskDuration"]},
                 {"median": results["bare"]["TaskDuration"]}, "bare Brython page, idle",
                 seconds=seconds))
