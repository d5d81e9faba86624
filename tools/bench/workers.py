"""Web-worker handlers (worker.html): how long a worker takes to start, what a no-op job
costs in a worker against the same handler on the main thread, and the main thread's
longest stall (a 16 ms heartbeat) while the first worker job runs, against the same
heartbeat while a plain-JS worker starts and answers one message. Each start is a fresh
page load (``worker_starts`` of them). The evidence adds what importing the worker pool's
module costs the main thread on a fresh page."""

import os

from .core import ROOT, figure, log, median, run_id, summary


def _fresh_page(b):
    b.load("tools/bench/worker.html", q=f"wk-{run_id()}")
    b.wait_leader()


def run(r):
    b, n = r.browser, r.cfg["worker_n"]
    if not os.path.exists(os.path.join(ROOT, "brython_jobs", "workers.py")):
        r.add({"id": "worker", "label": "Worker", "na": "n/a (no worker support yet)"})
        return
    log(f"workers: start and {n} round trips")
    b.only_tab()
    _fresh_page(b)
    res = b.py("worker_round_trips", n, 20)
    floor = b.js("js_worker", n)
    starts, firsts, gaps = list(res["start_ms"][:1]), [res["first_job_ms"]], \
        [res["first_job_gap_ms"]]
    floor_starts, floor_gaps = [floor["start"]], [floor["first_gap"]]
    for _ in range(r.cfg["worker_starts"] - 1):
        _fresh_page(b)
        more = b.py("worker_round_trips", 0, 0)
        starts.extend(more["start_ms"][:1])
        firsts.append(more["first_job_ms"])
        gaps.append(more["first_job_gap_ms"])
        again = b.js("js_worker", 0)
        floor_starts.append(again["start"])
        floor_gaps.append(again["first_gap"])
    st = summary(starts)
    r.add(figure("worker_start", "Worker start (until ready)", st["n"], "ms", st,
                 summary(floor_starts), "plain JS worker start", latency=True))
    gap = summary(gaps)
    r.add(figure("worker_first_job_gap",
                 "Main-thread max gap while the first worker job runs (16 ms heartbeat)",
                 gap["n"], "ms", gap, summary(floor_gaps),
                 "plain JS worker start + 1 message", latency=True))
    w, m = summary(res["worker"]), summary(res["main"])
    r.add(figure("worker_job", "No-op job enqueue->completed, in a worker", n, "ms", w, m,
                 "same handler on the main thread", latency=True))
    # What the first job's stall is made of: the worker pool's module, compiled on the
    # main thread when it is first imported (a fresh page, before any job).
    _fresh_page(b)
    import_ms = b.py("import_cost", "brython_jobs.workers")
    r.evidence["worker"] = {
        "first_job_ms": median(firsts), "start_ms": starts, "import_workers_ms": import_ms,
        "overhead_ms_median": (w["median"] - m["median"]) if w["median"] is not None else None,
        "plain_js_postmessage_round_trip_ms": summary(floor["trips"])}
