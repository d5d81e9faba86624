"""Page cost: navigation to ``await jobs.start()`` resolved, with the package from static
``.py`` files and from the script-tag bundle, cold (the first load in a fresh browser
profile) and warm (reloads), against a bare Brython page importing ``browser``; and the
bundle's size. The full run starts a browser per cold sample; ``--quick`` shares one."""

import os
import time

from .core import figure, log, median, summary
from .session import Browser

PAGES = (("bare", "tools/bench/bare.html"), ("static", "tools/bench/start_static.html"),
         ("bundle", "tools/bench/start_bundle.html"))
KINDS = (("static", "static .py files"), ("bundle", "script-tag bundle"))
BASELINE = "bare Brython page importing browser"


def _page_time(b, breakdown):
    """ms from navigation to start() resolved, and how many .py files the page fetched;
    the page's own marks go into ``breakdown``."""
    b.wait_ready(flag="benchStartMs", timeout=120)
    ms, n_py, py_net, script, imported = b.driver.execute_script(
        "var py = performance.getEntriesByType('resource')"
        ".filter(e => /\\.py(\\?|$)/.test(e.name));"
        "return [window.benchStartMs, py.length,"
        " py.reduce((a, e) => a + e.duration, 0),"
        " window.benchScriptMs || null, window.benchImportMs || null];")
    if script is not None:
        breakdown.setdefault("script running", []).append(script)
        breakdown.setdefault("brython_jobs imported", []).append(imported)
        breakdown.setdefault("start() resolved", []).append(ms)
        breakdown.setdefault("(.py downloads, summed)", []).append(py_net)
    return ms, n_py


def _sample(b, kind, path, cfg, times, breakdown, py_requests, fresh):
    """One cold load of ``path`` and ``page_warm`` reloads."""
    if fresh:
        b.driver.get("about:blank")
        time.sleep(0.5)  # let the fresh browser settle
    marks = breakdown.setdefault(kind, {})
    b.driver.get(b.url(path))
    ms, py_requests[kind] = _page_time(b, marks.setdefault("cold", {}))
    times["cold"][kind].append(ms)
    for _ in range(cfg["page_warm"]):
        b.driver.refresh()
        ms, _n = _page_time(b, marks.setdefault("warm", {}))
        times["warm"][kind].append(ms)


def run(r):
    cfg, bundle = r.cfg, r.bundle
    pages = PAGES if bundle[0] is not None else PAGES[:2]
    times = {phase: {k: [] for k, _ in PAGES} for phase in ("cold", "warm")}
    py_requests, breakdown = {}, {}
    fresh = cfg["page_fresh_browser"]
    for rep in range(cfg["page_cold"]):
        for kind, path in pages:
            log(f"page cost: {kind}, cold #{rep + 1} and {cfg['page_warm']} reloads")
            if not fresh:
                _sample(r.browser, kind, path, cfg, times, breakdown, py_requests, False)
                continue
            b = Browser(r.base_url, r.engine)
            try:
                _sample(b, kind, path, cfg, times, breakdown, py_requests, True)
            finally:
                b.quit()
    r.evidence["page_py_requests"] = py_requests
    r.evidence["page_breakdown_ms"] = {
        kind: {phase: {k: median(v) for k, v in marks.items()}
               for phase, marks in phases.items()}
        for kind, phases in breakdown.items() if any(phases.values())}
    for kind, label in KINDS:
        if kind not in dict(pages):
            r.add({"id": f"page_{kind}", "label": f"Page cost, {label}",
                   "na": f"n/a ({bundle[1]})"})
            continue
        for phase in ("cold", "warm"):
            s = summary(times[phase][kind])
            r.add(figure(f"page_{kind}_{phase}",
                         f"Page cost {phase}, {label} (nav->start())", s["n"], "ms", s,
                         summary(times[phase]["bare"]), BASELINE, latency=True))
    if bundle[0] is not None:
        r.add(figure("bundle_size", "Script-tag bundle size", 1, "bytes",
                     {"median": os.path.getsize(bundle[0])}, source=bundle[1]))
