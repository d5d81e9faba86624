"""The worker script of the worker tests (tests/pages/worker_tab.py declares its jobs).

It is what a page author writes: handlers registered by job name with
``brython_jobs.worker.handler``; nothing else is needed.
"""

from browser import self as scope, aio

from brython_jobs.worker import handler


def burn(seconds, job=None, steps=4):
    """Keep the CPU busy for ``seconds``; report progress ``steps`` times if ``job``."""
    start = scope.Date.now()
    step_ms = seconds * 1000 / steps
    done = 0
    x = 0
    while True:
        for i in range(500):
            x = (x * 31 + i) % 1000003
        now = scope.Date.now()
        if job is not None and now - start >= (done + 1) * step_ms and done < steps:
            done += 1
            job.update_progress(done / steps, f"worker step {done} of {steps}")
        if now - start >= seconds * 1000:
            return x


@handler("w_noop")
def noop(job):
    return None


@handler("w_echo")
@handler("w_echo_tag")
def echo(job):
    return {"payload": job.payload, "attempt": job.attempt, "id": job.id,
            "name": job.name, "queue": job.queue, "in_worker": True}


@handler("w_spin")
def spin(job):
    """CPU-bound for ``payload["seconds"]``, with progress at each quarter."""
    x = burn(job.payload["seconds"], job)
    return {"x": x, "attempt": job.attempt}


@handler("w_fail")
def fail(job):
    raise ValueError("bad input: " + str(job.payload))


@handler("w_hang_once")
def hang_once(job):
    """Spins forever on the first attempt (only terminating the worker stops it)."""
    if job.attempt == 1:
        while True:
            pass
    return {"attempt": job.attempt}


@handler("w_slow")
async def slow(job):
    """Sleeps ``payload["seconds"]`` in steps, awaiting progress like a page handler."""
    steps = job.payload.get("steps", 10)
    for i in range(steps):
        await aio.sleep(job.payload["seconds"] / steps)
        await job.update_progress((i + 1) / steps, f"slept {i + 1} of {steps}")
    return {"attempt": job.attempt, "in_worker": True}


@handler("w_bad_result")
def bad_result(job):
    return {1, 2}


@handler("w_crash")
def crash(job):
    """Kills the worker from inside: an uncaught error in a timer callback."""
    scope.setTimeout(lambda: scope.no_such_function(), 0)
    return aio.sleep(5)


@handler("w_js_crash")
def js_crash(job):
    """Kills the worker with a JavaScript error (an error event in the page)."""
    scope.eval("setTimeout(function () { throw new Error('boom from JS'); }, 0)")
    return aio.sleep(5)
