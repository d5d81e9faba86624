"""Throughput: N no-op jobs enqueued and completed in one leader tab, ``enqueue`` awaited
one by one and ``enqueue_many`` in batches of 100, against the plain-JS lifecycle (three
readwrite transactions per job: insert, claim, complete) in the same browser."""

from .core import BenchError, figure, log, run_id, summary

BASELINE = "plain JS: 3 readwrite tx per job"
MODES = (("one", "throughput_one", "Throughput, enqueue awaited one by one"),
         ("many", "throughput_many", "Throughput, enqueue_many in batches of 100"))


def run(r):
    b, n = r.browser, r.cfg["throughput_n"]
    rates = {"baseline": [], "one": [], "many": []}
    details = []
    for rnd in range(r.cfg["throughput_rounds"]):
        log(f"throughput round {rnd + 1}/{r.cfg['throughput_rounds']} (N={n})")
        b.only_tab()
        b.load("tools/bench/baseline.html")
        res = b.js("js_throughput", n, f"bench-tp-{run_id()}")
        rates["baseline"].append(n / res["ms"] * 1000)
        details.append({"round": rnd, "kind": "baseline", **res})
        for mode, _fid, _label in MODES:
            b.load("tools/bench/jobs.html", q=f"tp-{mode}-{run_id()}")
            b.wait_leader()
            res = b.py("throughput", n, mode, 100)
            if res["completed"] != n:
                raise BenchError(f"throughput {mode}: {res['completed']} of {n} completed")
            rates[mode].append(n / res["ms"] * 1000)
            details.append({"round": rnd, "kind": mode, **res})
    r.evidence["throughput_rounds"] = details
    base = summary(rates["baseline"])
    for mode, fid, label in MODES:
        r.add(figure(fid, label, n, "jobs/s", summary(rates[mode]), base, BASELINE,
                     higher_is_better=True))
