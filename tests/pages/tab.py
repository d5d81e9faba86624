"""A test tab: one JobQueue with a fixed set of test handlers, driven from Selenium.

URL parameters: ``queue`` (the queue name), ``opts`` (JSON of JobQueue keyword arguments),
``bundle=1`` (load the package from the script-tag bundle), ``start=0`` (do not start).

``bjCall(method, args_json, kwargs_json, done)`` calls ``jobs.<method>(*args, **kwargs)``
(or one of the ``PAGE`` helpers below), awaits it and calls back ``done`` with JSON
``{"ok": value}`` or ``{"error": {"type": ..., "message": ...}}``. Every event of the queue
is appended to ``window.bjEvents`` as JSON.
"""

from browser import window, aio
import javascript

from brython_jobs import JobQueue, Job

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


def decode(value):
    """JSON from the driver -> Python; ``{"__set__": [...]}`` and ``{"__tuple__": [...]}``
    make values JSON cannot carry, to test that they are refused."""
    if type(value) is dict:
        if list(value) == ["__set__"]:
            return set(value["__set__"])
        if list(value) == ["__tuple__"]:
            return tuple(value["__tuple__"])
        out = {}
        for k in value:
            out[k] = decode(value[k])
        return out
    if type(value) is list:
        out = []
        for item in value:
            out.append(decode(item))
        return out
    return value


def encode(value):
    if isinstance(value, Job):
        return value.to_dict()
    if type(value) in (list, tuple):
        out = []
        for item in value:
            out.append(encode(item))
        return out
    if type(value) in (set, frozenset):
        return sorted(value)
    return value


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


def where(exc):
    """File:line of each frame of the exception (the traceback module is costly here)."""
    out = []
    tb = exc.__traceback__
    while tb is not None:
        out.append(f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}")
        tb = tb.tb_next
    return out


def bj_call(method, args_json, kwargs_json, done):
    async def run():
        try:
            args = decode(javascript.JSON.parse(args_json))
            kwargs = decode(javascript.JSON.parse(kwargs_json))
            if method.startswith("page."):
                fn = PAGE[method[5:]]
            else:
                fn = getattr(jobs, method)
            result = fn(*args, **kwargs)
            if aio.iscoroutine(result) or hasattr(result, "then"):
                result = await result
            done(javascript.JSON.stringify({"ok": encode(result)}))
        except Exception as exc:
            done(javascript.JSON.stringify(
                {"error": {"type": type(exc).__name__, "message": str(exc),
                           "where": where(exc)}}))
    aio.run(run())


def page_handler_trigger(kind, handler_name, **kwargs):
    """A trigger made with the decorator sugar: ``echo.debounced(...)`` on a function
    registered with ``@jobs.handler``."""
    fn = globals()[handler_name]
    trig = fn.debounced(**kwargs) if kind == "debounce" else fn.throttled(**kwargs)
    triggers[len(triggers)] = trig
    return len(triggers) - 1


PAGE["handler_trigger"] = page_handler_trigger
window.bjCall = bj_call
window.bjBurstDone = 0


def recorder(event):
    def record_event(value):
        data = value.to_dict() if isinstance(value, Job) else value
        window.bjEvents.push(javascript.JSON.stringify(
            {"event": event, "data": data, "at": window.Date.now() / 1000}))
    return record_event


for _event in ("enqueued", "started", "progress", "completed", "failed", "cancelled",
               "retrying", "leader", "closed"):
    jobs.on(_event, recorder(_event))


async def main():
    try:
        if params.get("start") != "0":
            await jobs.start()
        window.bjReady = True
    except Exception as exc:
        window.bjError = f"{type(exc).__name__}: {exc}"

aio.run(main())
