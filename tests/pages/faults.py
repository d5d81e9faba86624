"""A fault-test tab: one JobQueue whose handlers count their runs in the server's run
log (tools/serve.py), outside the browser, so the count survives a renderer crash and a
killed browser. Driven from Selenium through driver.py's ``bjCall``.

URL parameters: ``queue``, ``opts`` (JSON of JobQueue keyword arguments), ``log`` (run
log name), ``version`` (open the database at this schema version, as a newer release of
the package would), ``start=0``.
"""

from browser import window, aio
import javascript

import brython_jobs.idb_store as idb_store
from brython_jobs import JobQueue

import driver

params = window.URLSearchParams.new(window.location.search)
QUEUE = params.get("queue") or "faults"
LOG = params.get("log") or QUEUE
opts = params.get("opts")
OPTS = javascript.JSON.parse(opts) if opts else {}
if params.get("version"):
    # A newer release: the same stores at the next schema version (no migration needed).
    idb_store.VERSION = int(params.get("version"))

jobs = JobQueue(QUEUE, **OPTS)


async def log(kind, **fields):
    """Append one JSON line to the run log; returns once the server has it."""
    fields["kind"] = kind
    fields["tab"] = jobs.tab_id
    fields["page_at"] = window.Date.now() / 1000
    init = javascript.JSON.parse(javascript.JSON.stringify(
        {"method": "POST", "body": javascript.JSON.stringify(fields)}))
    resp = await window.fetch("/__runlog/" + LOG, init)
    if not resp.ok:
        raise RuntimeError(f"run log answered {resp.status}")


@jobs.handler("work")
async def work(job):
    """Logs its run, sleeps ``payload["seconds"]`` (default 0; only in the first
    ``payload["slow_attempts"]`` attempts when given), logs its end."""
    payload = job.payload if type(job.payload) is dict else {}
    await log("run", id=job.id, attempt=job.attempt, tag=payload.get("tag"))
    seconds = payload.get("seconds", 0)
    if seconds and job.attempt <= payload.get("slow_attempts", job.attempt):
        await aio.sleep(seconds)
    await log("end", id=job.id, attempt=job.attempt)
    return {"tab": jobs.tab_id, "attempt": job.attempt}


@jobs.handler("big_result")
async def big_result(job):
    """Returns ``payload["bytes"]`` characters of incompressible text."""
    await log("run", id=job.id, attempt=job.attempt)
    return window.bjNoise(job.payload["bytes"])


def leader_changed(value):
    async def send():
        try:
            await log("leader", value=bool(value))
        except Exception as exc:
            window.console.warn(f"run log: {exc}")
    aio.run(send())


jobs.on("leader", leader_changed)


def page_state():
    return {"is_leader": jobs.is_leader, "tab": jobs.tab_id, "started": jobs.started}


async def page_log(kind, **fields):
    await log(kind, **fields)
    return True


async def page_enqueue_big(nbytes):
    """Enqueue a job whose payload is ``nbytes`` characters of noise (made here, not
    sent through the driver). The error's type and name come back on failure."""
    try:
        job = await jobs.enqueue("work", {"blob": window.bjNoise(nbytes)})
    except Exception as exc:
        return {"error": type(exc).__name__, "name": getattr(exc, "name", None),
                "message": str(exc)}
    return {"id": job.id}


def page_probe(nbytes):
    """One probe write of ``nbytes`` into a database of its own (same origin, so the same
    quota): "ok", or the browser's error name. Each probe replaces the last."""
    future = window.Promise.new(lambda resolve, reject: _probe(nbytes, resolve))
    return future


def _probe(nbytes, resolve):
    req = window.indexedDB.open("bj_probe", 1)

    def upgrade(ev):
        req.result.createObjectStore("p")

    def opened(ev):
        db = req.result
        tx = db.transaction(["p"], "readwrite")
        tx.objectStore("p").put(window.bjNoise(nbytes), "blob")

        def finish(value):
            db.close()
            resolve(value)

        def failed(ev):
            err = tx.error
            if err is None or err is javascript.NULL:
                err = getattr(ev.target, "error", None)
            finish(str(err.name) if err is not None and err is not javascript.NULL
                   else "Error")
            ev.preventDefault()
        tx.oncomplete = lambda ev: finish("ok")
        tx.onabort = failed
    req.onupgradeneeded = upgrade
    req.onsuccess = opened
    req.onerror = lambda ev: resolve("open failed: " + str(req.error.name))


def page_clear_probe():
    def run(resolve, reject):
        req = window.indexedDB.deleteDatabase("bj_probe")
        req.onsuccess = lambda ev: resolve(True)
        req.onerror = lambda ev: resolve(False)
    return window.Promise.new(run)


stream = {"n": 0, "stop": False}


def page_stream(count, every_ms, prefix, seconds=0.02):
    """Enqueue ``count`` "work" jobs, one every ``every_ms`` from page timers; each job
    is logged ("enq") only once its enqueue returned (durable)."""
    state = {"i": 0}

    async def one(i):
        try:
            job = await jobs.enqueue("work", {"tag": f"{prefix}-{i}",
                                              "seconds": seconds})
            await log("enq", id=job.id, tag=f"{prefix}-{i}")
        except Exception as exc:
            window.console.warn(f"stream enqueue {i}: {type(exc).__name__}: {exc}")

    def tick():
        if stream["stop"] or state["i"] >= count:
            return
        aio.run(one(state["i"]))
        state["i"] += 1
        window.setTimeout(tick, every_ms)
    tick()
    return True


def page_stop_stream():
    stream["stop"] = True
    return True


async def page_statuses(name):
    """{status: [[id, error code], ...]} of every job called ``name``: ids only, so a
    long soak's tens of thousands of jobs travel to the driver cheaply."""
    out = {}
    for rec in await jobs.store.query(None, None, name, None):
        err = rec.get("error")
        code = err.get("code") if type(err) is dict else None
        out.setdefault(rec["status"], []).append([rec["id"], code])
    return out


async def page_storage_info():
    return await jobs.storage()


PAGE = {"state": page_state, "log": page_log, "enqueue_big": page_enqueue_big,
        "probe": page_probe, "clear_probe": page_clear_probe, "stream": page_stream,
        "stop_stream": page_stop_stream, "statuses": page_statuses,
        "storage": page_storage_info}
driver.install(jobs, PAGE)
