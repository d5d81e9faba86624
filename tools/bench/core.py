"""What every group of figures shares: paths, the tools reused from tools/, sizes,
statistics, logging and the ``Run`` a group adds its figures to."""

import os
import statistics
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")

# tools/ is a folder of scripts (the test harness loads them the same way): the server,
# the build and the browser launcher are those of the tests, not copies.
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
import browsers  # noqa: E402  (tools/browsers.py)
import build  # noqa: E402  (tools/build.py)
import serve  # noqa: E402  (tools/serve.py)

__all__ = ["ROOT", "browsers", "build", "serve", "FULL", "QUICK", "BenchError", "Run", "log",
           "median", "p95", "summary", "ratio", "run_id", "figure"]

# Sizes of a run: (full, --quick). The quick sizes only prove the suite runs end to end.
SIZES = {
    "throughput_n": (1000, 20), "throughput_rounds": (3, 1), "profile_n": (300, 10),
    "latency_n": (50, 5), "latency_gap_ms": (50, 20),
    "failover_trials": (10, 1),
    "pick_sizes": ((100, 1000, 10000), (20, 50, 100)), "pick_reps": (30, 3),
    "idle_seconds": (10.0, 0.5),
    "trigger_rounds": (10, 2), "trigger_per_round": (100, 50), "trigger_calls": (100, 100),
    "trigger_every_ms": (10, 10),
    "worker_n": (30, 3), "worker_starts": (3, 1),
    # the full run starts a fresh browser for every cold page load; quick shares one
    "page_cold": (3, 1), "page_warm": (5, 1), "page_fresh_browser": (True, False),
    "evidence_modes": (("baseline", "one", "many"), ("one",)), "settle_s": (1.0, 0.2),
}
FULL = {key: full for key, (full, quick) in SIZES.items()}
QUICK = {key: quick for key, (full, quick) in SIZES.items()}


class BenchError(Exception):
    """A figure could not be measured (the page failed, a job never ran, ...)."""


class Run:
    """One engine's run as the groups see it: the shared ``browser`` (a session.Browser),
    the sizes ``cfg``, the server's ``base_url``, the ``bundle`` (path or None, where it
    came from), and what the groups add: ``figures`` (a list of figure dicts, see
    ``figure``) and ``evidence`` (a dict of whatever explains them)."""

    def __init__(self, engine, cfg, base_url, bundle, browser):
        self.engine = engine
        self.cfg = cfg
        self.base_url = base_url
        self.bundle = bundle
        self.browser = browser
        self.figures = []
        self.evidence = {}

    def add(self, fig):
        self.figures.append(fig)
        return fig


def figure(fid, label, n, unit, value, baseline=None, baseline_label=None, latency=False,
           **extra):
    """A figure: its ``id`` (report.GOALS keys goals on it), a ``label``, the number of
    samples ``n``, a ``unit``, the measured ``value`` and the plain-JS ``baseline`` (each a
    ``summary``), and their ``ratio``. ``latency`` figures also print their p95."""
    fig = {"id": fid, "label": label, "n": n, "unit": unit, "value": value,
           "baseline": baseline, "baseline_label": baseline_label, "latency": latency,
           "ratio": ratio((value or {}).get("median"), (baseline or {}).get("median"))}
    fig.update(extra)
    return fig


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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
    values = list(values)
    return {"median": median(values), "p95": p95(values), "max": max(values, default=None),
            "n": len(values), "samples": [round(v, 4) for v in values]}


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def run_id():
    return uuid.uuid4().hex[:8]
