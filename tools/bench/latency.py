"""Latency from ``enqueue`` to the handler's start, one job at a time with a gap between
jobs: enqueued in the leader tab itself, and in a follower tab (the leader idle), against
the plain-JS floors: one readwrite transaction, and the same plus one BroadcastChannel
message to another tab."""

from .core import figure, log, run_id, summary

FIGURES = (("latency_same", "Latency enqueue->handler start, same tab",
            "plain JS: 1 readwrite tx"),
           ("latency_follower", "Latency enqueue->handler start, follower tab",
            "plain JS: 1 readwrite tx + 1 BroadcastChannel msg"))


def run(r):
    b, n, gap = r.browser, r.cfg["latency_n"], r.cfg["latency_gap_ms"]
    q = f"lat-{run_id()}"
    log(f"latency: leader tab, same-tab enqueues (N={n})")
    b.only_tab()
    b.load("tools/bench/jobs.html", q=q)
    b.wait_leader()
    leader = b.driver.current_window_handle
    b.py("latency", 3, gap)  # warm-up
    same = b.py("latency", n, gap)
    log(f"latency: follower tab (N={n})")
    follower = b.open_tab("tools/bench/jobs.html", q=q)
    b.wait_leader(want=False)
    b.py("latency", 3, gap)
    fol = b.py("latency", n, gap)
    b.close(follower, leader)

    log("latency: plain-JS floors")
    b.only_tab()
    channel = f"bench-floor-{run_id()}"
    b.load("tools/bench/baseline.html")
    b.js("js_bc_listen", channel)
    listener = b.driver.current_window_handle
    b.open_tab("tools/bench/baseline.html")
    db = f"bench-floor-{run_id()}"
    b.js("js_latency_same", 3, gap, db)
    floor_same = b.js("js_latency_same", n, gap, db)
    b.js("js_latency_bc", 3, gap, db, channel)
    floor_bc = b.js("js_latency_bc", n, gap, db, channel)
    b.switch(listener)

    for (fid, label, floor_label), rows, floor in zip(FIGURES, (same, fol),
                                                      (floor_same, floor_bc)):
        r.add(figure(fid, label, n, "ms", summary(row[0] for row in rows), summary(floor),
                     floor_label, latency=True))
        r.evidence[fid + "_enqueue_returned_ms"] = summary(row[1] for row in rows)
