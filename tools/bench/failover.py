"""Failover: a long job runs in the leader tab; that tab is closed; how long until a
follower restarted the job. Against the plain-JS floor: a Web Locks handover between two
tabs. Times run from the closed page's ``pagehide`` (common.js), or from the close command
when the page recorded none."""

import json
import time

from .core import BenchError, figure, log, median, run_id, summary


def _poll_storage(b, key, timeout=15.0, check=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = b.storage(key)
        if value is not None and (check is None or check(value)):
            return value
        time.sleep(0.005)
    return None


def _closed_at(b, t_close):
    hidden = _poll_storage(b, "bench:pagehide", timeout=2.0)
    return float(hidden) if hidden is not None else t_close


def _close(b, handle, then):
    """Close tab ``handle`` and switch to ``then``; returns the close command's time (ms)."""
    b.switch(handle)
    t_close = time.time() * 1000
    b.driver.close()
    b.switch(then)
    return t_close


def run(r):
    b, trials = r.browser, r.cfg["failover_trials"]
    q = f"fo-{run_id()}"
    log(f"failover: brython_jobs, {trials} leader closes")
    b.only_tab()
    b.load("tools/bench/jobs.html", q=q)
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
        t_close = _close(b, leader, follower)
        restarted = _poll_storage(b, f"bench:hold:{t + 2}")
        if restarted is None:
            raise BenchError(f"failover trial {t}: the job did not restart")
        closed = _closed_at(b, t_close)
        led = b.storage("bench:leader")
        start = float(restarted)
        values.append(start - closed)
        via_close_cmd.append(start - t_close)
        if led is not None:
            to_leader.append(float(led) - closed)
            to_restart.append(start - float(led))
        for k, v in b.py("timers").items():
            timers.setdefault(k, []).append(v["ms"] / v["calls"])
        leader = follower
    r.evidence["failover_close_to_leader_event_ms"] = summary(to_leader)
    r.evidence["failover_leader_event_to_restart_ms"] = summary(to_restart)
    r.evidence["failover_engine_ms_per_call"] = {k: median(v) for k, v in timers.items()}
    r.evidence["failover_from_close_command_ms"] = summary(via_close_cmd)
    r.add(figure("failover", "Failover: leader tab close->job restarted", trials, "ms",
                 summary(values), summary(_lock_floor(b, trials)),
                 "plain JS: Web Locks handover", latency=True))


def _lock_floor(b, trials):
    """Plain JS: a tab holds a Web Lock, another waits for it; close the holder."""
    log(f"failover floor: Web Locks handover, {trials} closes")
    b.only_tab()
    lock = f"bench-lock-{run_id()}"
    b.load("tools/bench/baseline.html")
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
        t_close = _close(b, holder, waiter)
        got = _poll_storage(b, "bench:lockgot", check=lambda v: json.loads(v)["tag"] == tag)
        if got is None:
            raise BenchError(f"lock floor trial {t}: the lock was not handed over")
        floors.append(json.loads(got)["at"] - _closed_at(b, t_close))
        holder = waiter
    return floors
