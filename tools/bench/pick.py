"""Pick cost: what a leader pays to find and claim the next job (``overview`` +
``claim_next``) with 100 to 10,000 jobs stored (90% completed, 10% pending and due),
against a plain-JS head cursor and claim transaction on the same records; and how it
scales from the smallest to the largest store."""

from .core import BenchError, figure, log, ratio, run_id, summary

BASELINE = "plain JS: head cursor + claim tx"


def run(r):
    b, reps = r.browser, r.cfg["pick_reps"]
    b.only_tab()
    b.load("tools/bench/jobs.html", q=f"pickhost-{run_id()}", start="0")
    medians, js_medians = {}, {}
    for size in r.cfg["pick_sizes"]:
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
        fig = r.add(figure(
            f"pick_{size}", f"Pick cost ({res['plan_call']} + claim_next), {size:,} stored",
            reps, "ms", summary(res["total"]), summary(js), BASELINE, latency=True))
        medians[size], js_medians[size] = fig["value"]["median"], fig["baseline"]["median"]
        r.evidence[f"pick_{size}_plan_ms"] = summary(res["plan"])
        r.evidence[f"pick_{size}_claim_ms"] = summary(res["claim"])
    r.evidence["pick_stored"] = "90% completed + 10% pending (due, queue 'default', priority 0)"
    small, large = min(r.cfg["pick_sizes"]), max(r.cfg["pick_sizes"])
    r.add(figure(
        "pick_scaling", f"Pick cost {large:,} vs {small:,} stored (x)", reps, "x",
        {"median": ratio(medians[large], medians[small])},
        {"median": ratio(js_medians[large], js_medians[small])},
        "plain JS pick, same sizes", ratio=None))
