"""The report: the goals and their verdicts, the table of figures, the goals of issue 12
in the issue's order, the "where the time goes" section, and the JSON."""

import json

# Figures of issue 12's table, in its order (the goals section lists them so).
ISSUE_12 = ("throughput_one", "throughput_many", "latency_follower", "latency_same",
            "page_bundle_warm", "page_bundle_cold", "page_static_warm",
            "worker_first_job_gap")


class Goal:
    """What a figure must reach: ``op`` (">=" or "<=") ``target`` (a number, or a function
    of the figure for goals that scale with its size), checked ``on`` the figure's ratio to
    its baseline ("ratio"), its median ("median") or its largest sample ("max": every run
    must meet it); ``unit`` is how the target prints."""

    def __init__(self, op, target, on="ratio", unit="x"):
        self.op, self.target, self.on, self.unit = op, target, on, unit

    def value(self, fig):
        if self.on == "ratio":
            return fig.get("ratio")
        return (fig.get("value") or {}).get(self.on)

    def check(self, fig):
        """{"text", "target", "on", "value", "ok", "off"}: ``ok`` None when the figure has
        no value; ``off`` how far from the goal (x): >1 means missed by that factor."""
        target = self.target(fig) if callable(self.target) else self.target
        value = self.value(fig)
        text = f"{self.op} {target:g}{self.unit}" + (" every run" if self.on == "max" else "")
        out = {"text": text, "target": target, "on": self.on, "value": value, "ok": None,
               "off": None}
        if value is None:
            return out
        out["ok"] = value >= target if self.op == ">=" else value <= target
        if value and target:
            out["off"] = target / value if self.op == ">=" else value / target
        return out


GOALS = {
    # issue 12
    "throughput_one": Goal(">=", 1.0),
    "throughput_many": Goal(">=", 1.5),
    "latency_follower": Goal("<=", 5.0, "median", " ms"),
    "latency_same": Goal("<=", 3.0, "median", " ms"),
    "page_bundle_warm": Goal("<=", 1.2),
    "page_bundle_cold": Goal("<=", 2.0),
    "page_static_warm": Goal("<=", 2.0),
    "worker_first_job_gap": Goal("<=", 50.0, "max", " ms"),
    # earlier rounds
    "failover": Goal("<=", 100.0, "median", " ms"),
    "pick_scaling": Goal("<=", 1.5, "median"),
    "idle_cpu": Goal("<=", lambda fig: 50.0 * fig["seconds"] / 10.0, "median", " ms"),
    "trigger_writes": Goal("<=", lambda fig: 10.0 * fig["n"] / 100, "median", ""),
    "trigger_writes_tight": Goal("<=", lambda fig: 10.0 * fig["n"] / 100, "median", ""),
}


def apply_goals(figures):
    """Give every measured figure that has a goal its ``goal`` verdict (see Goal.check)."""
    for fig in figures:
        goal = GOALS.get(fig["id"])
        if goal is not None and "value" in fig:
            fig["goal"] = goal.check(fig)
    return figures


# -- formatting ----------------------------------------------------------------------------
def fmt_num(value, unit):
    if value is None:
        return "-"
    if unit == "bytes":
        return f"{value:,.0f} B"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "writes":
        return f"{value:.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    if abs(value) >= 10:
        return f"{value:.1f} {unit}"
    return f"{value:.2f} {unit}"


def fmt_stat(stat, fig):
    """The median, and for latencies the p95 (the max where the goal is on every run)."""
    if not stat:
        return "-"
    text = fmt_num(stat.get("median"), fig["unit"])
    spread = "max" if (fig.get("goal") or {}).get("on") == "max" else "p95"
    if fig.get("latency") and stat.get(spread) is not None:
        text += f" ({spread} {fmt_num(stat[spread], fig['unit']).split(' ')[0]})"
    return text


def fmt_verdict(goal):
    if not goal:
        return ""
    if goal["ok"] is None:
        return goal["text"] + "  (no value)"
    return f"{goal['text']}  " + ("met" if goal["ok"] else "MISSED")


def _row(fig):
    if "na" in fig or "error" in fig:
        # One line, cut short: the table stays readable (the JSON has the whole error).
        text = fig.get("na") or "error: " + fig["error"].splitlines()[0][:100]
        return (fig["label"], "", text, "", "", "")
    r = fig.get("ratio")
    return (fig["label"], str(fig.get("n", "")), fmt_stat(fig["value"], fig),
            fmt_stat(fig.get("baseline"), fig), "-" if r is None else f"{r:.2f}x",
            fmt_verdict(fig.get("goal")))


def _table(header, rows):
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(header)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for row in rows:
        lines.append("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(row)).rstrip())
    return lines


def render(figures, meta, quick):
    """The table of every figure, with the run's conditions above it."""
    header = ("Figure", "N", "brython_jobs median (p95)", "baseline median (p95)", "ratio",
              "goal")
    lines = [f"brython_jobs benchmark: {meta['mode']} run, {meta['browser_label']}, "
             f"Brython {meta['brython']}, {meta['cpus']} CPUs, "
             f"N(throughput)={meta['throughput_n']}, {meta['seconds']:.0f} s, load average "
             f"{meta['load_average'][0]:.1f} at start, {meta['load_average'][1]:.1f} at end",
             ""]
    lines += _table(header, [_row(fig) for fig in figures])
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
        lines.append("Quick run: tiny sizes, a smoke test of the suite; these numbers and"
                     " their verdicts mean nothing.")
    return "\n".join(lines)


def render_goals(figures, quick):
    """Issue 12's figures in the issue's order: value, baseline, ratio, goal, verdict and
    how far off a missed goal is."""
    by_id = {fig["id"]: fig for fig in figures}
    rows, met, missed = [], 0, []
    for fid in ISSUE_12:
        fig = by_id.get(fid)
        if fig is None:
            rows.append((fid, "not measured in this run", "", "", "", ""))
            continue
        row = _row(fig)
        goal = fig.get("goal") or {}
        off = ""
        if goal.get("ok"):
            met += 1
        elif goal.get("ok") is False:
            missed.append(fid)
            off = f"{goal['off']:.2f}x" if goal.get("off") else ""
        rows.append((row[0], row[2], row[3], row[4], row[5], off))
    header = ("Goal figure (issue 12)", "brython_jobs", "baseline", "ratio", "goal", "short by")
    lines = ["", f"Goals of issue 12: {met} met, {len(missed)} missed"
             + (f" ({', '.join(missed)})" if missed else "")
             + (" (quick run: meaningless)" if quick else ""), ""]
    lines += _table(header, rows)
    lines.append("short by: how many times better the figure must get (ratio or ms) to meet"
                 " its goal.")
    return "\n".join(lines)


def _fmt_map(d, digits=2):
    return ", ".join(f"{k} {v:.{digits}f}" if isinstance(v, (int, float)) else f"{k} {v}"
                     for k, v in d.items())


def _per_job_lines(counts, timers, indent="    "):
    lines = []
    tx = {k[3:]: v for k, v in counts.items() if k.startswith("tx:")}
    reqs = {k: v for k, v in counts.items() if not k.startswith("tx:") and v}
    if tx:
        lines.append(indent + "transactions: " + _fmt_map(tx))
    if reqs:
        lines.append(indent + "requests: " + _fmt_map(reqs))
    for k, v in timers.items():
        lines.append(f"{indent}{k}: {v['calls_per_job']} calls, {v['ms_per_job']:.3f} ms")
    return lines


def _profile_lines(mode, p):
    pr = p.get("profile")
    if pr is None:  # no CPU profiler outside Chromium
        return [f"  {mode} (N={p['n']}): {p['counted_ms_per_job']:.2f} ms/job with counters"
                " (no CPU profile in this engine)"]
    kinds = dict(pr["self_ms_per_job"])
    idle = kinds.pop("(idle)", 0.0)
    lines = [f"  {mode} (N={p['n']}): {p['profiled_ms_per_job']:.2f} ms/job under the profiler",
             f"    main thread busy {sum(kinds.values()):.2f} ms/job (" + _fmt_map(kinds)
             + f"), idle {idle:.2f} ms/job"]
    if pr["python_ms_per_job"]:
        lines.append("    inclusive, package code: " + _fmt_map(pr["python_ms_per_job"]))
    if pr["native_ms_per_job"]:
        lines.append("    inclusive, native calls: " + _fmt_map(pr["native_ms_per_job"]))
    return lines


def render_evidence(evidence):
    """The "where the time goes" section (the CPU profile in Chromium only)."""
    lines = []
    prof = evidence.get("throughput_profile")
    if prof:
        lines.append("throughput, one profiled and one counted run per mode (ms or counts"
                     " per job):")
        for mode in ("baseline", "one", "many"):
            p = prof.get(mode)
            if p:
                lines += _profile_lines(mode, p)
                lines += _per_job_lines(p.get("per_job_counts", {}), p.get("timers", {}))
    lat = evidence.get("latency_same_tab_per_job")
    if lat:
        lines.append("  latency jobs (same tab), per job:")
        lines += _per_job_lines({k: v for k, v in lat["counts"].items()
                                 if k.startswith("tx:")}, lat["timers"])
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
            f"{_num(evidence['failover_close_to_leader_event_ms']['median'])}; -> handler "
            f"restarted {_num(evidence['failover_leader_event_to_restart_ms']['median'])}; "
            "engine ms per call on the new leader: "
            + _fmt_map(evidence["failover_engine_ms_per_call"], 1))
    idle = evidence.get("idle_cpu_ms")
    if idle:
        lines.append("  idle CPU (ms): " + "; ".join(f"{k}: " + _fmt_map(v)
                                                      for k, v in idle.items()))
    worker = evidence.get("worker")
    if worker:
        lines.append(f"  worker: first job {_num(worker['first_job_ms'], 0)} ms (includes the "
                     f"start; median), per-job overhead vs main thread "
                     f"{_num(worker['overhead_ms_median'])} ms")
        if "import_workers_ms" in worker:
            cost = worker["import_workers_ms"]
            lines.append("  worker: import brython_jobs.workers on a fresh page, before any "
                         "job: " + ("already imported by then" if cost is None else
                                    f"{cost:.0f} ms on the main thread"))
    if not lines:
        return ""
    return "\n".join(["", "Where the time goes (the CPU profile in Chromium only):"] + lines)


def _num(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def render_console(engine, meta):
    console, warnings = meta["console_errors"], meta["package_warnings"]
    return (f"\n{engine} console: {meta['console_error_count']} errors, "
            f"{meta['package_warning_count']} brython_jobs warnings"
            + (f"; first error: {console[0][:300]}" if console else "")
            + (f"; first warning: {warnings[0][:300]}" if warnings else ""))


def write_json(path, runs):
    """One engine: {"meta", "figures", "evidence"}; several: {"runs": [...]}."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(runs[0] if len(runs) == 1 else {"runs": runs}, f, indent=1)
