"""The inspector benchmark page (tools/bench/inspector_bench.py drives it).

``window.benchInspector(n, runs, done)``: a fresh queue with ``n`` stored jobs (seeded in
plain JS), then ``runs`` times: mount a new ``Inspector`` and time until its first render
is complete (``first_render``), unmount. The first mount, which also imports and compiles
the inspector's modules, is reported apart. ``done`` gets JSON
``{"cold_ms", "runs_ms": [...], "page_ms": [...], "rows"}`` or ``{"error": text}``.
"""

from browser import document, window, aio
import javascript

from brython_jobs import JobQueue

perf = window.performance


async def parts(jobs):
    """Each read of a render, timed once (where the render's time goes)."""
    out = {}
    calls = (("counts", jobs.counts, ()), ("queue_counts", jobs.queue_counts, ()),
             ("paused", jobs.paused, ()), ("page", jobs.page, ()),
             ("finished_per_minute", jobs.finished_per_minute, ()),
             ("leader_info", jobs.leader_info, ()), ("schedules", jobs.schedules, ()),
             ("bursts", jobs.bursts, ()))
    for label, fn, args in calls:
        t0 = perf.now()
        await fn(*args)
        out[label] = round(perf.now() - t0, 2)
    return out


def bench(n, runs, done):
    async def go():
        try:
            name = f"bench_inspector_{n}_{int(window.Date.now())}"
            jobs = JobQueue(name)
            await jobs.start(lead=False)  # watch only: no dispatcher competes for the CPU
            await window.seedJobs("brython_jobs." + name, n)
            counts = await jobs.counts()
            t0 = perf.now()
            from brython_jobs.inspector import Inspector
            out = {"cold_ms": None, "runs_ms": [], "page_ms": [], "stored": sum(counts.values())}
            for i in range(runs + 1):
                stage = document.createElement("div")
                document["stage"].appendChild(stage)
                if i:
                    t0 = perf.now()
                insp = Inspector(jobs)
                insp.mount(stage)
                await insp.first_render
                ms = perf.now() - t0
                out["rows"] = len(stage.querySelectorAll("tr.bji-job"))
                insp.unmount()
                stage.remove()
                if i == 0:
                    out["cold_ms"] = ms
                else:
                    out["runs_ms"].append(ms)
                t1 = perf.now()
                await jobs.page(limit=25)
                out["page_ms"].append(perf.now() - t1)
            out["parts_ms"] = await parts(jobs)
            await jobs.stop()
            done(javascript.JSON.stringify(out))
        except Exception as exc:
            done(javascript.JSON.stringify({"error": f"{type(exc).__name__}: {exc}"}))
    aio.run(go())


window.benchInspector = bench
window.benchReady = True
