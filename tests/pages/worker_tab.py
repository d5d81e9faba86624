"""A test tab whose handlers run in a web worker (worker_jobs.py), driven from Selenium.

URL parameters as in tab.py: ``queue``, ``opts`` (JSON of JobQueue keyword arguments),
``start=0``; and ``bundle``, ``cache``, ``pythonpath`` (see worker_tab.html).

Selenium drives it through ``bjCall`` (driver.py), with ``page.<name>`` for the ``PAGE``
helpers below.
"""

from browser import window
import javascript

from brython_jobs import JobQueue

import driver

params = window.URLSearchParams.new(window.location.search)
QUEUE = params.get("queue") or "test"
opts = params.get("opts")
OPTS = javascript.JSON.parse(opts) if opts else {}
SCRIPT = "worker_jobs.py"

jobs = JobQueue(QUEUE, **OPTS)


# Jobs run by the worker script: the functions only name them.
@jobs.handler("w_noop", worker=SCRIPT)
def w_noop(job):
    pass


@jobs.handler("w_echo", worker=SCRIPT)
def w_echo(job):
    pass


@jobs.handler("w_spin", worker=SCRIPT)
def w_spin(job):
    pass


@jobs.handler("w_fail", worker=SCRIPT)
def w_fail(job):
    pass


@jobs.handler("w_hang_once", worker=SCRIPT, timeout=1.0, backoff=0)
def w_hang_once(job):
    pass


@jobs.handler("w_slow", worker=SCRIPT)
def w_slow(job):
    pass


@jobs.handler("w_bad_result", worker=SCRIPT)
def w_bad_result(job):
    pass


@jobs.handler("w_crash", worker=SCRIPT, backoff=0)
def w_crash(job):
    pass


@jobs.handler("w_js_crash", worker=SCRIPT, backoff=0)
def w_js_crash(job):
    pass


@jobs.handler("w_echo_tag", worker="bj-worker-tag")
def w_echo_tag(job):
    pass  # the worker named by the id of a <script class="webworker"> tag


@jobs.handler("w_broken", worker="worker_broken.py", backoff=0)
def w_broken(job):
    pass  # the script's top level raises


@jobs.handler("w_missing", worker=SCRIPT)
def w_missing(job):
    pass  # the worker script has no handler of this name


@jobs.handler("w_no_script", worker="worker_no_such_script.py", backoff=0)
def w_no_script(job):
    pass


# The same CPU-bound work on the main thread, as a contrast.
def burn(seconds):
    start = window.Date.now()
    x = 0
    while True:
        for i in range(500):
            x = (x * 31 + i) % 1000003
        if window.Date.now() - start >= seconds * 1000:
            return x


@jobs.handler("spin")
def spin(job):
    return {"x": burn(job.payload["seconds"]), "attempt": job.attempt}


@jobs.handler("noop")
def noop(job):
    return None


def page_state():
    return {"is_leader": jobs.is_leader, "tab": jobs.tab_id, "started": jobs.started}


async def page_warm(script=SCRIPT):
    """Start the worker of ``script`` now; its start time in seconds."""
    return await jobs._worker_pool().warm(script)


def page_workers():
    """The live workers ({script URL: count}) and every start time so far."""
    if jobs._workers is None:
        return {"running": {}, "start_seconds": []}
    return {"running": jobs._workers.running(),
            "start_seconds": jobs._workers.start_seconds}


async def page_timed(name, count, payload=None):
    """Enqueue ``count`` jobs ``name`` one after the other, each waited for; the mean
    seconds from enqueue to completion."""
    total = 0
    for i in range(count):
        start = window.performance.now()
        job = await jobs.enqueue(name, payload)
        done = await jobs.wait(job.id, timeout=30)
        if done.status != "completed":
            raise RuntimeError(f"{name} ended {done.status}: {done.error}")
        total += window.performance.now() - start
    return total / count / 1000


def page_details():
    """What the pool recorded about each worker start."""
    return [] if jobs._workers is None else jobs._workers.start_details


PAGE = {"state": page_state, "warm": page_warm, "workers": page_workers,
        "timed": page_timed, "details": page_details}


driver.install(jobs, PAGE)
