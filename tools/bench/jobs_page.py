"""A benchmark tab: one JobQueue with no-op and timing handlers, driven by the benchmark
tool through ``pyCall(name, args_json, done)`` (the Python twin of common.js's
``benchCall``): ``done`` gets JSON ``{"ok": value}`` or ``{"error": text}``.

URL parameters: ``q`` queue name, ``o`` JSON of JobQueue keyword arguments, ``start=0``
to leave the queue stopped; ``timers=engine`` times every engine operation (wall time of
each awaited call), ``timers=1`` also the JSON conversions of the IndexedDB store and the
bus; ``count=1`` counts IndexedDB transactions and requests (common.js). Engine operations
and event deliveries are timed through the public hook ``jobs.observe``; only the
conversion timers wrap the package's functions from here.
"""

from browser import window, aio
import javascript

from brython_jobs import JobQueue
from brython_jobs import jsenv
from brython_jobs import records
from brython_jobs import transitions

JSON = javascript.JSON
params = window.URLSearchParams.new(window.location.search)
QUEUE = params.get("q") or "bench"
opts = params.get("o")
OPTS = JSON.parse(opts) if opts else {}
storage = window.localStorage
perf = window.performance


def stamp():
    return perf.timeOrigin + perf.now()


# -- optional timers around the JSON conversions (to_js / to_py) ------------------------
TIMERS = {}


def record(label, t0):
    """Count one call of ``label`` that started at ``t0`` (performance.now())."""
    entry = TIMERS.get(label)
    if entry is None:
        entry = TIMERS[label] = [0, 0.0]
    entry[0] += 1
    entry[1] += perf.now() - t0


def timed(label, fn):
    def wrapper(*args):
        t0 = perf.now()
        try:
            return fn(*args)
        finally:
            record(label, t0)
    return wrapper


if params.get("timers") == "1":
    from brython_jobs import idb_store, bus
    idb_store.to_js = timed("store to_js", idb_store.to_js)
    idb_store.to_py = timed("store to_py", idb_store.to_py)
    # Envelopes are posted as JSON text: time the whole post (serialise + postMessage).
    bus.Bus.post = timed("bus post", bus.Bus.post)


jobs = JobQueue(QUEUE, **OPTS)
if params.get("timers") in ("1", "engine"):
    # Wall time of each engine operation (its IndexedDB transaction, awaited), per call,
    # and of each event delivery, through the queue's public observer hook.
    def observe_operation(operation, seconds):
        label = operation if operation.startswith("event:") else "engine." + operation
        entry = TIMERS.get(label)
        if entry is None:
            entry = TIMERS[label] = [0, 0.0]
        entry[0] += 1
        entry[1] += seconds * 1000
    jobs.observe(observe_operation)
state = {"completed": 0, "target": None, "resolve": None}


@jobs.handler("noop")
def noop(job):
    return None


@jobs.handler("stamp")
def stamp_handler(job):
    """Records when the handler started; the enqueuing tab reads it from the result."""
    return {"start": stamp()}


@jobs.handler("hold")
async def hold(job):
    """A long job for the failover figure: notes its start in localStorage, then sleeps."""
    at = stamp()
    storage.setItem("bench:hold:" + str(job.attempt), str(at))
    await aio.sleep(job.payload["seconds"])


@jobs.handler("wnoop", worker="bench_worker.py")
def wnoop(job):
    """Runs in a web worker (bench_worker.py has the code); only used by worker.html."""


def on_completed(job):
    state["completed"] += 1
    target = state["target"]
    if target is not None and state["completed"] >= target:
        resolve = state["resolve"]
        if resolve is not None:
            state["resolve"] = None
            state["target"] = None
            resolve(True)


jobs.on("completed", on_completed)


def on_leader(leading):
    if leading:
        storage.setItem("bench:leader", str(stamp()))


jobs.on("leader", on_leader)


def completed_promise(count):
    """A promise resolved once ``count`` more completed events arrived."""
    def executor(resolve, reject):
        state["resolve"] = resolve
        state["target"] = state["completed"] + count
    return window.Promise.new(executor)


async def sleep_ms(ms):
    await aio.sleep(ms / 1000)


# -- 1. throughput ------------------------------------------------------------------------
async def throughput(n, mode, batch=100):
    done = completed_promise(n)
    t0 = stamp()
    if mode == "one":
        for i in range(n):
            await jobs.enqueue("noop")
    else:
        i = 0
        while i < n:
            k = min(batch, n - i)
            items = []
            for _ in range(k):
                items.append({"name": "noop", "payload": None})
            await jobs.enqueue_many(items)
            i += k
    t_enq = stamp()
    await done
    t1 = stamp()
    counts = await jobs.counts()
    return {"ms": t1 - t0, "enqueue_ms": t_enq - t0, "completed": counts["completed"],
            "pending": counts["pending"]}


# -- 2. latency ---------------------------------------------------------------------------
async def latency(n, gap_ms):
    """Enqueue ``stamp`` jobs one at a time from this tab; each result holds the handler's
    start time. Returns [enqueue-to-start ms, enqueue-returned ms] per job."""
    out = []
    for i in range(n):
        t0 = stamp()
        job = await jobs.enqueue("stamp", {"i": i})
        t_enq = stamp()
        finished = await jobs.wait(job.id, timeout=30)
        out.append([finished.result["start"] - t0, t_enq - t0])
        await sleep_ms(gap_ms)
    return out


def tab_state():
    return {"is_leader": jobs.is_leader, "started": jobs.started, "tab": jobs.tab_id}


async def enqueue_hold(seconds):
    job = await jobs.enqueue("hold", {"seconds": seconds}, retries=50)
    return job.id


# -- 4. pick cost -------------------------------------------------------------------------
pick_queues = {}


async def pick_fill(name, n_completed, n_pending):
    """Create queue ``name``'s database and bulk-fill it (plain JS, see baseline.js) with
    copies of a completed and a due pending record made by the package's own code."""
    q = JobQueue(name)
    await q.store.open()
    pick_queues[name] = q
    now = jsenv.now()
    pend = records.new_record("template", "noop", None, "default", 0, now - 3600,
                              now - 3600, None, "fail", 4)
    claimed = transitions.claim(pend, now - 3600, 1)
    done = transitions.complete(claimed, now - 3500, 1, None, claimed["claim"])
    count = await window.benchFns.js_fill(q.store.db_name, jsenv.to_js(done),
                                          jsenv.to_js(pend), n_completed, n_pending)
    return int(count)


async def pick_measure(name, reps):
    """``engine.overview`` + ``engine.claim_next`` as a leader would; after each (untimed) the
    claimed job is put back to pending so every repetition does the same work."""
    q = pick_queues[name]
    engine = q.engine
    store = q.store
    epoch = await engine.become_leader("bench")
    total = []
    plan_ms = []
    claim_ms = []
    for r in range(reps):
        t0 = stamp()
        queues, wake_at, expired_any = await engine.overview(set(), set())
        t1 = stamp()
        claimed, expired = await engine.claim_next(queues[0], epoch)
        t2 = stamp()
        if claimed is None:
            raise RuntimeError("nothing claimed")
        total.append(t2 - t0)
        plan_ms.append(t1 - t0)
        claim_ms.append(t2 - t1)
        back = dict(claimed)
        back["status"] = "pending"
        back["attempts"] = 0
        back["owner"] = None
        back["started_at"] = None
        records.touch(back)

        def put_back(tx, rec=back):
            tx.put(rec)
        await store.atomic(put_back)
    return {"total": total, "plan": plan_ms, "claim": claim_ms,
            "plan_call": "overview" if hasattr(engine, "overview") else "plan"}


async def put_cost(name, n):
    """Plain-JS puts of a brython_jobs record into queue ``name``'s real schema and into
    a one-index store (baseline.js js_put_cost): what the schema's indexes cost."""
    q = pick_queues[name]
    now = jsenv.now()
    rec = records.new_record("template", "noop", None, "default", 0, now, now, None,
                             "fail", 4)
    return await window.benchFns.js_put_cost(q.store.db_name, jsenv.to_js(rec), n)


async def tx_cost(name, n):
    """Sequential single transactions through the package on an idle page, in ms:
    ``Engine.enqueue_many`` of one job (readwrite), ``store.atomic`` writing one meta value
    (readwrite), ``store.get`` of one job (readonly). Compare with js_put_cost."""
    from brython_jobs.engine import job_spec
    q = pick_queues[name]
    engine = q.engine
    store = q.store
    enq, atom, got = [], [], []
    for i in range(n):
        spec = job_spec("noop", None, now=jsenv.now())
        t0 = perf.now()
        out = await engine.enqueue_many([spec])
        enq.append(perf.now() - t0)

        def write_meta(tx, i=i):
            tx.put_meta("bench", i)
        t0 = perf.now()
        await store.atomic(write_meta)
        atom.append(perf.now() - t0)
        t0 = perf.now()
        await store.get(out[0][0]["id"])
        got.append(perf.now() - t0)
    return {"enqueue_one": enq, "atomic_meta": atom, "get": got}


async def pick_drop(name):
    q = pick_queues.pop(name)
    db_name = q.store.db_name
    q.store.close()
    await window.benchFns.js_delete_db(db_name)
    return True


# -- 5. triggers --------------------------------------------------------------------------
async def trigger_cost(rounds, per_round):
    """Per-call cost (ms) of a debounced trigger, one figure per round of calls."""
    trig = jobs.debounced("noop", wait=5.0, key="bench-cost")
    out = []
    for r in range(rounds):
        t0 = perf.now()
        for i in range(per_round):
            trig({"lesson": i})
        out.append((perf.now() - t0) / per_round)
        await sleep_ms(20)
    return out


async def trigger_writes(calls, every_ms, key):
    """``calls`` calls of a fresh debounced trigger, ``every_ms`` apart (0: in one tight
    loop); returns how many IndexedDB writes they made."""
    trig = jobs.debounced("noop", wait=5.0, key=key)
    t0 = stamp()
    last = None
    for i in range(calls):
        last = trig({"lesson": i})
        if every_ms:
            await sleep_ms(every_ms)
    span = stamp() - t0
    await last
    await sleep_ms(300)  # any flush still scheduled
    return {"writes": trig.writes, "span_ms": span}


# -- 6. workers --------------------------------------------------------------------------
async def run_one(name):
    t0 = stamp()
    job = await jobs.enqueue(name)
    done = await jobs.wait(job.id, timeout=60)
    if done.status != "completed":
        raise RuntimeError(f"{name} job ended {done.status}: {done.error}")
    return stamp() - t0


async def worker_round_trips(n, gap_ms):
    """First worker job (starts the worker), then ``n`` worker jobs and ``n`` main-thread
    jobs of the same no-op handler, alternating; enqueue-to-completed times in ms. A 16 ms
    heartbeat (common.js) runs through the first job and 50 ms after it: its longest gap
    is the main thread's longest stall meanwhile."""
    window.benchHeartbeat.start()
    first = await run_one("wnoop")
    await sleep_ms(50)
    beat = window.benchHeartbeat.stop()
    pool = jobs._workers
    start_s = list(pool.start_seconds) if pool is not None else []
    worker = []
    main = []
    for i in range(n):
        worker.append(await run_one("wnoop"))
        await sleep_ms(gap_ms)
        main.append(await run_one("noop"))
        await sleep_ms(gap_ms)
    return {"first_job_ms": first, "first_job_gap_ms": beat.maxGap,
            "first_job_beats": beat.ticks, "start_ms": [s * 1000 for s in start_s],
            "worker": worker, "main": main}


# -- evidence -----------------------------------------------------------------------------
def import_cost(name):
    """ms to import module ``name`` now, on the main thread (Brython compiles it here);
    None when the page already imported it (then it paid earlier, e.g. at start)."""
    import sys
    if name in sys.modules:
        return None
    t0 = perf.now()
    __import__(name)
    return perf.now() - t0


def get_timers():
    out = {}
    for label in TIMERS:
        out[label] = {"calls": TIMERS[label][0], "ms": TIMERS[label][1]}
    return out


def reset_timers():
    TIMERS.clear()
    return True


FNS = {"throughput": throughput, "latency": latency, "state": tab_state,
       "enqueue_hold": enqueue_hold, "pick_fill": pick_fill, "pick_measure": pick_measure,
       "pick_drop": pick_drop, "put_cost": put_cost,
       "tx_cost": tx_cost, "trigger_cost": trigger_cost,
       "trigger_writes": trigger_writes,
       "worker_round_trips": worker_round_trips, "timers": get_timers, "reset_timers": reset_timers,
       "import_cost": import_cost}


def py_call(name, args_json, done):
    async def run():
        try:
            args = JSON.parse(args_json)
            result = FNS[name](*args)
            if aio.iscoroutine(result) or hasattr(result, "then"):
                result = await result
            done(JSON.stringify({"ok": result}))
        except Exception as exc:
            done(JSON.stringify({"error": f"{type(exc).__name__}: {exc}"}))
    aio.run(run())


window.pyCall = py_call


async def main():
    try:
        if params.get("start") != "0":
            await jobs.start()
        window.benchReady = True
    except Exception as exc:
        window.benchFatal = f"{type(exc).__name__}: {exc}"

aio.run(main())
