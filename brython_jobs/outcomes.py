"""One attempt of a job (pure): call its handler (in the page or a worker, with the
handler's timeout) and store the outcome, over an injected ``Runtime``.

The outcome write is the one write that must not be lost: a transient store error is
retried; a result the store cannot hold (no space) fails the attempt with
``storage_full`` (retried while attempts remain: space may come back); when nothing can
be written the tab gives up leadership, so the next leader recovers the job instead of
leaving it ``processing`` under a live leader that will never finish it.
"""

from .errors import Fenced, StaleWrite, StorageFull
from .events import job_event
from .records import (
    Job, PENDING, HANDLER_ERROR, TIMEOUT, NO_HANDLER, STORAGE_FULL, check_name, check_number,
    check_payload,
)
from .runtime import later, sleep

WRITE_TRIES = 4


class RunningJob(Job):
    """The job a handler receives: a ``Job`` plus ``attempt`` (1 for the first) and
    ``update_progress``. ``cancelled`` turns True when the attempt's outcome will be
    discarded (cancelled, timed out, leadership lost)."""

    def __init__(self, rec, epoch, progress_sink):
        Job.__init__(self, rec)
        self.attempt = rec["attempts"]
        self.record = rec
        self.epoch = epoch
        self.cancelled = False
        self.writing = False   # the outcome write has begun (set by AttemptRunner)
        self.in_flight = []    # monotonic starts of this attempt's store calls in flight
        self._sink = progress_sink

    async def update_progress(self, fraction, message=None):
        """Store ``progress = {"fraction": fraction, "message": message}``; every tab
        gets a ``progress`` event. Ignored once the attempt was cancelled or timed out."""
        if self.cancelled:
            return
        rec = await self._sink(self, fraction, message)
        if rec is not None:
            self.progress = rec["progress"]


class Reserved:
    """A slot held by an enqueue that may claim in its own transaction (``Dispatcher.reserve``):
    no job in it yet, so nothing can cancel or finish it."""

    def __init__(self, queue, since):
        self.queue = queue
        self.id = None
        self.record = {}
        self.cancelled = False
        self.writing = True  # a cancel leaves the slot to ``Dispatcher.reserved``
        self.in_flight = [since]  # the enqueue holding it is a store call in flight


class Handler:
    """A registered handler: the function (or the worker script that has it) and its
    defaults."""

    def __init__(self, fn, name, queue, retries, timeout, backoff, worker=None):
        self.fn = fn
        self.name = name
        self.queue = queue
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.worker = worker


def check_handler(name, queue, retries, timeout, backoff, worker):
    """Raise TypeError/ValueError for a bad ``@jobs.handler(...)`` declaration."""
    check_name(name, "name")
    if queue is not None:
        check_name(queue, "queue")
    if retries is not None and (type(retries) is not int or retries < 0):
        raise ValueError(f"retries must be an int >= 0, not {retries!r}")
    check_number(timeout, "timeout", minimum=0)
    check_number(backoff, "backoff", minimum=0)
    if worker is not None:
        check_name(worker, "worker")


class AttemptRunner:
    """Runs attempts for the ``Dispatcher``. ``handlers``: {name: Handler};
    ``emit(event, record)``; ``leadership``: for fencing and giving up;
    ``worker_pool()``: the web worker pool, made on first use."""

    def __init__(self, runtime, engine, handlers, emit, leadership, worker_pool=None):
        self._rt = runtime
        self._engine = engine
        self._handlers = handlers
        self._emit = emit
        self._leadership = leadership
        self._worker_pool = worker_pool

    async def run(self, job, epoch, claim_next):
        """Call the handler, record the outcome and, with ``claim_next``, claim the
        queue's next due job in the same transaction. Returns that job's record or None
        (also when the outcome was discarded: cancelled, superseded or fenced)."""
        rec = job.record
        handler = self._handlers.get(rec["name"])
        if handler is None:
            return await self._write(job, epoch, claim_next, "fail", NO_HANDLER,
                                     f"no handler for {rec['name']!r} is registered in "
                                     "the leader tab", True, None)
        outcome = await self._call(handler, job)
        if job.cancelled and outcome[0] != "timeout":
            return None  # cancelled or leadership lost: the outcome is discarded
        if outcome[0] == "ok":
            try:
                check_payload(outcome[1], "result")
            except (TypeError, ValueError) as exc:
                outcome = ("error", exc)
        if outcome[0] == "ok":
            return await self._write(job, epoch, claim_next, "ok", outcome[1])
        if outcome[0] == "timeout":
            job.cancelled = True
            return await self._write(job, epoch, claim_next, "fail", TIMEOUT,
                                     f"attempt {job.attempt} ran longer than "
                                     f"{handler.timeout}s", False, handler.backoff)
        exc = outcome[1]
        message = f"{type(exc).__name__}: {exc}"
        self._rt.warn(f"job {rec['name']} {rec['id']} attempt {job.attempt} failed: "
                      f"{message}")
        return await self._write(job, epoch, claim_next, "fail", HANDLER_ERROR, message,
                                 False, handler.backoff)

    async def _write(self, job, epoch, claim_next, kind, value, message=None, final=False,
                     backoff=None):
        rec = job.record
        job.writing = True
        delay = 0.05
        tries = 0
        while True:
            tries += 1
            try:
                # Claim the next job only while this runner's epoch still leads here.
                live = self._leadership.leads
                since = self._rt.monotonic()
                job.in_flight.append(since)  # watched (stall.py)
                try:
                    if kind == "ok":
                        new, nxt, gone = await self._engine.complete(
                            rec, epoch, value, claim_next=claim_next, effects=True,
                            live=lambda: live(epoch))
                    else:
                        new, nxt, gone = await self._engine.fail(
                            rec, epoch, value, message, final=final, backoff=backoff,
                            claim_next=claim_next, effects=True, live=lambda: live(epoch))
                finally:
                    job.in_flight.remove(since)
                break
            except StaleWrite:
                return None  # cancelled, or recovered by a newer leader: discarded
            except Fenced:
                self._leadership.fenced(epoch)
                return None
            except StorageFull as exc:
                if kind == "ok":
                    # The result does not fit: fail the attempt instead (no result).
                    kind, value, final = "fail", STORAGE_FULL, False
                    message = (f"the result of attempt {job.attempt} could not be stored: "
                               f"{exc.name or 'StorageFull'}: {exc}")
                    continue
                if tries >= WRITE_TRIES:
                    return self._cannot_write(job, epoch, exc)
            except Exception as exc:
                if tries >= WRITE_TRIES:
                    return self._cannot_write(job, epoch, exc)
            if job.epoch != epoch or self._leadership.epoch != epoch:
                return None
            await sleep(self._rt, delay)
            delay *= 4
        self._emit("retrying" if new["status"] == PENDING else new["status"], new)
        for side in gone:
            self._emit(job_event(side), side)
        return nxt

    def _cannot_write(self, job, epoch, exc):
        self._rt.report(f"storing the outcome of job {job.id}", exc)
        self._leadership.give_up(epoch, f"the outcome of job {job.id} cannot be stored")
        return None

    async def _call(self, handler, job):
        """Run the handler: ``("ok", result)``, ``("error", exc)`` or ``("timeout",)``."""
        if handler.worker is not None:
            return await self._worker_pool().run(handler, job)
        rt = self._rt
        future = rt.future()
        state = {"done": False}

        def settle(value):
            if not state["done"]:
                state["done"] = True
                future.set_result(value)

        async def body():
            try:
                result = handler.fn(job)
                if rt.is_awaitable(result):
                    result = await result
                settle(("ok", result))
            except BaseException as exc:  # noqa: B902 - SystemExit too must settle
                settle(("error", exc))
        timer = None
        if handler.timeout is not None:
            timer = later(rt, handler.timeout, lambda: settle(("timeout",)))
        rt.spawn(body(), f"handler of job {job.id}")
        outcome = await future
        if timer is not None:
            timer.cancel()
        return outcome

    async def progress(self, job, fraction, message):
        """The sink of ``RunningJob.update_progress``: store it, fenced; None if refused."""
        since = self._rt.monotonic()
        job.in_flight.append(since)  # watched (stall.py): the handler may await it
        try:
            rec = await self._engine.progress(job.record, job.epoch, fraction, message)
        except StaleWrite:
            return None
        except Fenced:
            self._leadership.fenced(job.epoch)
            return None
        finally:
            job.in_flight.remove(since)
        self._emit("progress", rec)
        return rec
