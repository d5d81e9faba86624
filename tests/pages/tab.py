"""A test tab: one JobQueue with a fixed set of test handlers, driven from Selenium.

URL parameters: ``queue`` (the queue name), ``opts`` (JSON of JobQueue keyword arguments),
``bundle=1`` (load the package from the script-tag bundle), ``start=0`` (do not start).

Selenium drives it through ``bjCall`` (driver.py), with ``page.<name>`` for the ``PAGE``
helpers below.
"""

from browser import window, aio
import javascript

from brython_jobs import JobQueue

import driver

params = window.URLSearchParams.new(window.location.search)
QUEUE = params.get("queue") or "test"
opts = params.get("opts")
OPTS = javascript.JSON.parse(opts) if opts else {}
storage = window.localStorage


def bump(counter):
    """A counter in localStorage: survives closing the tab that ran the handler."""
    name = f"bj:{QUEUE}:{counter}"
    value = int(storage.getItem(name) or 0) + 1
    storage.setItem(name, str(value))
    return value


def append(listname, item):
    name = f"bj:{QUEUE}:{listname}"
    items = javascript.JSON.parse(storage.getItem(name) or "[]")
    items.append(item)
    storage.setItem(name, javascript.JSON.stringify(items))


jobs = JobQueue(QUEUE, **OPTS)


@jobs.handler("echo")
def echo(job):
    return job.payload


@jobs.handler("count")
def count(job):
    tag = (job.payload or {}).get("tag", job.id) if type(job.payload) is dict else job.id
    append("runs", {"id": job.id, "tag": tag, "attempt": job.attempt,
                    "at": window.Date.now() / 1000})
    return bump("run:" + str(tag))


@jobs.handler("record")
async def record(job):
    append("order", job.payload)
    return job.payload


@jobs.handler("flaky")
def flaky(job):
    if job.attempt < job.payload["succeed_on"]:
        raise RuntimeError(f"flaky failure on attempt {job.attempt}")
    return {"attempt": job.attempt}


@jobs.handler("fail")
def fail(job):
    raise ValueError("always fails: " + str(job.payload))


@jobs.handler("sleep")
async def sleep(job):
    """Sleeps ``payload["seconds"]``; counts starts and finishes in localStorage."""
    tag = job.payload.get("tag", job.id)
    bump("start:" + tag)
    append("runs", {"id": job.id, "tag": tag, "attempt": job.attempt,
                    "at": window.Date.now() / 1000, "tab": jobs.tab_id})
    await aio.sleep(job.payload["seconds"])
    bump("finish:" + tag)
    return {"slept": job.payload["seconds"], "tab": jobs.tab_id}


@jobs.handler("progress")
async def progress(job):
    steps = job.payload.get("steps", 4)
    for i in range(steps):
        await aio.sleep(job.payload.get("step_seconds", 0.05))
        await job.update_progress((i + 1) / steps, f"step {i + 1} of {steps}")
    return {"steps": steps}


@jobs.handler("bad_result")
def bad_result(job):
    return {1, 2, 3}


triggers = {}


def page_trigger(kind, name, **kwargs):
    """Create a trigger; returns its handle (an int) for page_fire/page_burst."""
    trig = jobs.debounced(name, **kwargs) if kind == "debounce" else \
        jobs.throttled(name, **kwargs)
    triggers[len(triggers)] = trig
    return len(triggers) - 1


def page_fire(handle, payload=None):
    """Call a trigger once (not awaited: as from a DOM event handler)."""
    triggers[handle](payload)
    return True


async def page_fire_await(handle, payload=None):
    return await triggers[handle](payload)


def page_burst(handle, count, every_ms, prefix="call"):
    """Call the trigger ``count`` times, every ``every_ms``, from page timers (so the
    test driver's round trips do not set the pace). Payload: {"n": i, "prefix": ...}."""
    state = {"i": 0}

    def tick():
        i = state["i"]
        triggers[handle]({"n": i, "prefix": prefix})
        state["i"] = i + 1
        if state["i"] < count:
            window.setTimeout(tick, every_ms)
        else:
            window.bjBurstDone = window.bjBurstDone + 1
    tick()
    return True


def page_writes(handle):
    return triggers[handle].writes


def page_storage(name):
    value = storage.getItem(f"bj:{QUEUE}:{name}")
    return javascript.JSON.parse(value) if value else None  # JS null: nothing stored


def page_state():
    return {"is_leader": jobs.is_leader, "tab": jobs.tab_id, "started": jobs.started}


PAGE = {"trigger": page_trigger, "fire": page_fire, "fire_await": page_fire_await,
        "burst": page_burst, "writes": page_writes, "storage": page_storage,
        "state": page_state}

# Timed bursts: each call's payload carries the page clock time of the call, and every
# call is kept in ``timed_calls`` (page.calls), so a test can tell which call was the last
# one across tabs and when the first one happened.
timed_calls = []


def page_timed_burst(handle, count, every_ms, prefix="call", start_ms=0):
    """Like burst, starting after ``start_ms``; payload: {"n": i, "prefix": ..., "at": t}.
    Call i is aimed at ``start + i * every_ms``, so late timers do not stretch the burst."""
    state = {"i": 0, "start": window.Date.now() + start_ms}

    def tick():
        payload = {"n": state["i"], "prefix": prefix, "at": window.Date.now() / 1000}
        timed_calls.append(payload)
        triggers[handle](payload)
        state["i"] += 1
        if state["i"] < count:
            target = state["start"] + state["i"] * every_ms
            window.setTimeout(tick, max(0, target - window.Date.now()))
    window.setTimeout(tick, start_ms)
    return True


def page_calls():
    return timed_calls


PAGE.update({"timed_burst": page_timed_burst, "calls": page_calls})


def page_handler_trigger(kind, handler_name, **kwargs):
    """A trigger made with the decorator sugar: ``echo.debounced(...)`` on a function
    registered with ``@jobs.handler``."""
    fn = globals()[handler_name]
    trig = fn.debounced(**kwargs) if kind == "debounce" else fn.throttled(**kwargs)
    triggers[len(triggers)] = trig
    return len(triggers) - 1


PAGE["handler_trigger"] = page_handler_trigger


async def page_done_after_commit(db_name):
    """A readwrite transaction that reads and writes nothing commits by itself once its
    read settles. Await its ``idb.done`` only after that commit (a 200 ms sleep later):
    "committed" if it resolves, "hung" if it has not within 3 s."""
    from brython_jobs import idb

    def upgrade(db, old, tx):
        db.createObjectStore("s")
    db = await idb.open_db(db_name, 1, upgrade)
    try:
        tx = idb.watch(db.transaction(["s"], "readwrite"))
        await idb.request(tx.objectStore("s").get("nothing"))
        await aio.sleep(0.2)  # the transaction commits meanwhile
        timeout = window.Promise.new(lambda ok, bad: window.setTimeout(lambda: ok("hung"), 3000))
        return await window.Promise.race([idb.done(tx).then(lambda v: "committed"), timeout])
    finally:
        db.close()
        window.indexedDB.deleteDatabase(db_name)


PAGE["done_after_commit"] = page_done_after_commit
window.bjBurstDone = 0
driver.install(jobs, PAGE)
