"""Debounced triggers: what one call costs the calling tab (against an in-memory plain-JS
debounce), and how many IndexedDB writes 100 calls make, spread out and in a tight loop
(against one write per call)."""

from .core import figure, log, run_id, summary


def run(r):
    b = r.browser
    log("trigger cost and writes")
    b.only_tab()
    b.load("tools/bench/jobs.html", q=f"trig-{run_id()}")
    b.wait_leader()
    rounds, per = r.cfg["trigger_rounds"], r.cfg["trigger_per_round"]
    b.py("trigger_cost", 2, per)  # warm-up
    cost = [v * 1000 for v in b.py("trigger_cost", rounds, per)]
    floor = [v * 1000 for v in b.js("js_debounce_cost", rounds, per)]
    r.add(figure("trigger_call",
                 f"Debounced trigger: one call on the calling tab (rounds of {per})",
                 rounds * per, "us", summary(cost), summary(floor),
                 "plain JS in-memory debounce", latency=True))
    calls, every = r.cfg["trigger_calls"], r.cfg["trigger_every_ms"]
    spread = b.py("trigger_writes", calls, every, f"bench-w1-{run_id()}")
    tight = b.py("trigger_writes", calls, 0, f"bench-w2-{run_id()}")
    for fid, how, res in (("trigger_writes", f"{every} ms apart", spread),
                          ("trigger_writes_tight", "one tight loop", tight)):
        r.add(figure(fid, f"IndexedDB writes per {calls} trigger calls ({how})", calls,
                     "writes", {"median": res["writes"]}, {"median": calls},
                     "one write per call"))
    r.evidence["trigger_writes"] = {"spread": spread, "tight": tight}
