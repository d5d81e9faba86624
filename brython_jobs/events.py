"""Event callbacks of one tab (pure): ``jobs.on``/``jobs.off``, the internal watchers
(``wait``, the dispatcher) and the snapshots they get.

Job events carry a record; callbacks get a ``Job`` snapshot, built only when somebody
listens. A callback that raises (or whose coroutine raises) is reported and never stops
the others.
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

    def __init__(self, runtime):
        self._rt = runtime
        self._callbacks = {}
        self._watchers = []

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
        for callback in list(callbacks):
            try:
                result = callback(value)
                if self._rt.is_awaitable(result):
                    self._rt.spawn(result, f"{event} callback")
            except Exception as exc:
                self._rt.report(f"{event} callback", exc)
