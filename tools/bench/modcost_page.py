"""What each brython_jobs module costs to load in the browser (driven by tools/modcost.py).

``?mode=each&mods=a,b,c``: import ``brython_jobs`` (its ``__init__`` with ``records`` and
``errors``, without the facade), then each named module in that order (dependencies
first, so each figure is the module's own compile and top-level cost), timing each
``import`` with ``performance.now()``; then ``JobQueue("...").start()``.
``?mode=start``: what a page pays: ``from brython_jobs import JobQueue``, one handler,
``await start()``, and which modules that loaded.
Results: ``window.modcost`` (a JSON string), or ``window.modcostFatal``.
"""

import sys

import browser
from browser import window, aio
from javascript import JSON

perf = window.performance
params = window.URLSearchParams.new(window.location.search)
mode = params.get("mode") or "each"
out = {"mode": mode, "script_ms": perf.now(), "rows": []}


def loaded():
    return sorted(name[len("brython_jobs."):] if name != "brython_jobs" else "__init__"
                  for name in sys.modules if name.split(".")[0] == "brython_jobs")


def import_each(names):
    # Brython's own modules the package uses (a bare page imports only ``browser``).
    for name in ("javascript", "browser.aio"):
        t0 = perf.now()
        __import__(name)
        out["rows"].append(["(stdlib) " + name, perf.now() - t0])
    # The package's __init__ imports the page facade (and with it the whole start path)
    # unless it runs in a worker: claim to be one for that single import.
    real = browser.is_webworker
    browser.is_webworker = True
    t0 = perf.now()
    try:
        __import__("brython_jobs")
    finally:
        browser.is_webworker = real
    out["rows"].append(["__init__", perf.now() - t0])
    for name in names:
        if "brython_jobs." + name in sys.modules:
            out["rows"].append([name, 0.0])
            continue
        t0 = perf.now()
        __import__("brython_jobs." + name)
        out["rows"].append([name, perf.now() - t0])


async def main():
    try:
        if mode == "each":
            mods = params.get("mods")
            import_each(mods.split(",") if mods else [])
        t0 = perf.now()
        if mode == "each":  # (the package's __init__ ran without the facade)
            from brython_jobs.jobqueue import JobQueue
        else:
            from brython_jobs import JobQueue
        out["import_ms"] = perf.now() - t0
        jobs = JobQueue(params.get("queue") or "modcost")

        @jobs.handler("noop")
        def noop(job):
            return None

        t1 = perf.now()
        await jobs.start()
        out["start_ms"] = perf.now() - t1
        out["nav_to_start_ms"] = perf.now()
        out["loaded"] = loaded()
        window.modcost = JSON.stringify(out)
    except Exception as exc:
        window.modcostFatal = f"{type(exc).__name__}: {exc}"

aio.run(main())
