"""Debounced and throttled triggers: callables for page code that turn a burst of calls
(from any tab) into one job.

A call returns at once (safe in a DOM event handler). Calls made in quick succession in
one tab are coalesced in memory and written as one batch: the first call of a quiet tab
is written at once, later ones at most every ``COALESCE`` seconds. Each batch carries the
time of its first and last call and the latest payload, and joins the burst stored with
the pending job in one IndexedDB transaction (engine.debounce / engine.throttle), so every
tab's calls count toward the same burst and a reload loses nothing that was written.
"""

from .records import Job, check_name, check_number, check_payload
from .runtime import later

COALESCE = 0.2  # seconds: at most one write per window per trigger and tab


class Trigger:
    """``trigger(payload=None)`` records a call; awaiting what it returns gives the
    pending ``Job`` the call joined (or raises what writing it raised)."""

    def __init__(self, runtime, write, kind, name, period, max_wait, queue, key, priority):
        check_name(name, "name")
        check_number(period, "wait" if kind == "debounce" else "interval",
                     allow_none=False, minimum=0)
        check_number(max_wait, "max_wait", minimum=0)
        if key is not None:
            check_name(key, "key")
        self._rt = runtime
        self._write_batch = write  # the queue's writer: waits for start(), then writes
        self.kind = kind
        self.name = name
        self.period = period
        self.max_wait = max_wait
        self.queue = queue
        self.key = key if key is not None else name
        self.priority = priority
        self.writes = 0          # batches written, for the benchmark
        self._batch = None
        self._last_flush = -COALESCE
        self._flushing = False

    def __call__(self, payload=None):
        check_payload(payload)  # bad input raises here, before anything is written
        now = self._rt.now()
        batch = self._batch
        if batch is None:
            batch = {"first": now, "last": now, "payload": payload,
                     "future": self._rt.future()}
            self._batch = batch
            # Coalescing runs on the monotonic clock: a wall-clock step back must not hold
            # a write back for as long as the step.
            wait = self._last_flush + COALESCE - self._rt.monotonic()
            later(self._rt, wait if wait > 0 and not self._flushing else 0, self._flush)
        else:
            batch["last"] = now
            batch["payload"] = payload
        return batch["future"]

    def _flush(self):
        if self._flushing:
            # One batch at a time from this tab; the next flush follows the current one.
            later(self._rt, COALESCE, self._flush)
            return
        batch = self._batch
        if batch is None:
            return
        self._batch = None
        self._flushing = True
        self._last_flush = self._rt.monotonic()
        self._rt.spawn(self._write(batch), f"{self.kind} trigger {self.key}")

    async def _write(self, batch):
        future = batch["future"]
        try:
            rec = await self._write_batch(self.kind, self.name, batch["payload"],
                                          self.queue, self.priority, self.key,
                                          batch["first"], batch["last"], self.period,
                                          self.max_wait)
            self.writes += 1
            future.set_result(Job(rec))
        except Exception as exc:
            self._rt.report(f"{self.kind} trigger {self.key}", exc)
            future.set_exception(exc)
        finally:
            self._flushing = False
