"""Event callbacks of one tab (pure): ``jobs.on``/``jobs.off``, the internal watchers
(``wait``, the dispatcher) and the snapshots they get.

Job events carry a record; callbacks get a ``Job`` snapshot, built only when somebody
listens. A callback that raises (or whose coroutine raises) is reported and never stops
the others.

Operation observers (``Observers``): ``jobs.observe(callback)`` is called as
``callback(operation, seconds)`` after each core operation (the engine's store
operations ``enqueue_many``, ``claim_next``, ``complete``, ``fail``, ``overview``...: the
wall time of the awaited call, its transaction committed, or raised) and after each
delivery of an event to its callbacks (``event:<name>``). Nothing is timed, wrapped or
built while nobody observes: the engine's methods are wrapped on the instance when the
first observer arrives and unwrapped when the last one leaves. An observer that raises is
reported and never breaks the operation.
"""

from .records import Job

EVENTS = ("enqueued", "started", "progress", "completed", "failed", "cancelled",
          "retrying", "leader", "closed")
JOB_EVENTS = ("enqueued", "started", "progress", "completed", "failed", "cancelled",
              "retrying")


def job_event(rec):
    """The event that reports a record a transaction wrote as a side effect: a new job
    (a recurring schedule's next run) is ``enqueued``, a job waiting for another attempt
    ``retrying``, a finished one its status."""
    status = rec["status"]
    if status == "pending":
        return "retrying" if rec.get("attempts") or rec.get("error") else "enqueued"
    return status


class Events:
    """Callbacks by event name, plus watchers ``watcher(event, record)`` that see every
    job event before the callbacks do."""

    def __init__(self, runtime, observers=None):
        self._rt = runtime
        self._callbacks = {}
        self._watchers = []
        self._observers = observers  # observe.Observers: each delivery is timed

    def on(self, event, callback):
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {', '.join(EVENTS)}")
        self._callbacks.setdefault(event, []).append(callback)
        return callback

    def off(self, event, callback):
        callbacks = self._callbacks.get(event, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def watch(self, watcher):
        self._watchers.append(watcher)

    def unwatch(self, watcher):
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def fire(self, event, value):
        """Deliver an event in this tab: a record for job events, else the value."""
        callbacks = self._callbacks.get(event)
        if event in JOB_EVENTS:
            for watcher in list(self._watchers):
                watcher(event, value)
            if not callbacks:
                return
            value = Job(value)  # a snapshot only for someone to read it
        if not callbacks:
            return
        observers = self._observers
        if observers is not None and observers.active:
            t0 = observers.clock()
            self._deliver(event, value, callbacks)
            observers.report("event:" + event, observers.clock() - t0)
        else:
            self._deliver(event, value, callbacks)

    def _deliver(self, event, value, callbacks):
        for callback in list(callbacks):
            try:
                result = callback(value)
                if self._rt.is_awaitable(result):
                    self._rt.spawn(result, event + " callback")
            except Exception as exc:
                self._rt.report(event + " callback", exc)


# The engine's operations that are timed (async methods of ``Engine``).
OPERATIONS = (
    "enqueue_many", "enqueue_and_claim", "overview", "claim_next", "complete", "fail", "progress",
    "sweep_expired", "purge_finished", "purge_completed", "heartbeat", "become_leader",
    "resign", "claim_takeover", "recover", "ensure_schedules", "paused", "set_paused",
    "cancel", "redrive", "redrive_failed", "every", "unschedule", "debounce", "throttle",
)


class Observers:
    """The observers of one queue. ``clock()``: monotonic seconds; ``report(where,
    exc)``: how an observer's exception is reported."""

    def __init__(self, clock, report):
        self._clock = clock
        self._report = report
        self._callbacks = []
        self._targets = []   # (object, names) whose methods are timed while observed
        self._wrapped = []   # (object, name) of each wrapper installed
        self.active = False  # True while at least one observer is registered

    def attach(self, target, names=OPERATIONS):
        """Time ``target``'s async methods ``names`` while anybody observes."""
        self._targets.append((target, names))
        if self.active:
            self._wrap(target, names)

    def add(self, callback):
        if not callable(callback):
            raise TypeError(f"an observer must be callable, not {callback!r}")
        self._callbacks.append(callback)
        if not self.active:
            self.active = True
            for pair in self._targets:
                self._wrap(pair[0], pair[1])
        return callback

    def remove(self, callback):
        if callback in self._callbacks:
            self._callbacks.remove(callback)
        if self.active and not self._callbacks:
            self.active = False
            for pair in self._wrapped:
                delattr(pair[0], pair[1])  # back to the class's plain method
            self._wrapped = []

    def clock(self):
        return self._clock()

    def report(self, operation, seconds):
        """Tell every observer that ``operation`` took ``seconds``."""
        for callback in list(self._callbacks):
            try:
                callback(operation, seconds)
            except Exception as exc:
                self._report(f"observer of {operation}", exc)

    def _wrap(self, target, names):
        for name in names:
            method = getattr(target, name, None)
            if method is not None:
                setattr(target, name, self._timed(name, method))
                self._wrapped.append((target, name))

    def _timed(self, name, method):
        observers = self

        async def timed(*args, **kwargs):
            t0 = observers._clock()
            try:
                return await method(*args, **kwargs)
            finally:
                observers.report(name, observers._clock() - t0)
        return timed
