"""Validated settings and requests: ``Config`` (queue-wide) and ``job_spec`` (one enqueue
request). Pure Python.

Everything a caller gives is checked here, before anything is written: names are
non-empty strings, durations and instants finite numbers (inf would be stored as null by
IndexedDB, or arm a timer that fires at once), payloads JSON-like data that survives the
trip to IndexedDB (see ``records.check_payload``).
"""

from .records import (
    DEFAULT_QUEUE, MAX_SAFE_INT, ON_EXPIRE, check_name, check_number, check_payload,
    check_priority,
)


def check_retries(retries):
    # The attempt counter is a JS number in IndexedDB: keep 1 + retries exact.
    if type(retries) is not int or retries < 0 or retries >= MAX_SAFE_INT:
        raise ValueError(f"retries must be an int from 0 to 2**53 - 2, not {retries!r}")


class Config:
    """Queue-wide settings, as given to ``JobQueue``.

    ``keep_completed``: seconds completed jobs are kept (None keeps them);
    ``keep_failed``: seconds failed and cancelled jobs are kept (None, the default,
    keeps them until redriven)."""

    def __init__(self, retries=3, backoff=2.0, backoff_max=300.0, keep_completed=86400.0,
                 leader_silence=10.0, concurrency=4, keep_failed=None):
        check_retries(retries)
        check_number(backoff, "backoff", allow_none=False, minimum=0)
        check_number(backoff_max, "backoff_max", minimum=0)
        check_number(keep_completed, "keep_completed", minimum=0)
        check_number(keep_failed, "keep_failed", minimum=0)
        check_number(leader_silence, "leader_silence", allow_none=False, minimum=0.1)
        if type(concurrency) is not int or concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, not {concurrency!r}")
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.keep_completed = keep_completed
        self.keep_failed = keep_failed
        self.leader_silence = leader_silence
        self.concurrency = concurrency

    def shortest_keep(self):
        """The shortest time finished jobs are kept, or None when they all stay."""
        keeps = [k for k in (self.keep_completed, getattr(self, "keep_failed", None))
                 if k is not None]
        return min(keeps) if keeps else None


def job_spec(name, payload=None, queue=None, priority=0, delay=None, run_at=None, ttl=None,
             on_expire="fail", retries=None, key=None, now=0.0, default_queue=None,
             default_retries=3):
    """Validate an enqueue request and return the fields of its record.

    Raises ``TypeError``/``ValueError`` before anything is written."""
    check_name(name, "name")
    check_payload(payload)
    if queue is None:
        queue = default_queue or DEFAULT_QUEUE
    check_name(queue, "queue")
    check_priority(priority)
    if delay is not None and run_at is not None:
        raise ValueError("give delay or run_at, not both")
    check_number(delay, "delay", minimum=0)
    check_number(run_at, "run_at")
    check_number(ttl, "ttl", minimum=0)
    if on_expire not in ON_EXPIRE:
        raise ValueError(f"on_expire must be 'fail' or 'cancel', not {on_expire!r}")
    if retries is None:
        retries = default_retries
    check_retries(retries)
    if key is not None:
        check_name(key, "key")
    due = now
    if delay is not None:
        due = now + delay
    elif run_at is not None:
        due = run_at
    check_number(due, "run_at")  # finite parts can still add up to inf
    if ttl is not None:
        check_number(due + ttl, "run_at + ttl")
    return {
        "name": name, "payload": payload, "queue": queue, "priority": priority,
        "run_at": due, "ttl": ttl, "on_expire": on_expire, "max_attempts": 1 + retries,
        "key": key, "created_at": now,
    }


def schedule_spec(name, seconds, payload=None, queue=None, key=None, priority=0,
                  retries=None, default_queue=None, default_retries=3):
    """Validate a recurring schedule, exactly as each of its runs will be validated,
    and return the schedule's stored fields. Raises before anything is written, on the
    first declaration and on every later one alike."""
    check_number(seconds, "seconds", allow_none=False)
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, not {seconds!r}")
    if key is None:
        key = name
    check_name(key, "key")
    if queue is None:
        queue = default_queue or DEFAULT_QUEUE
    # The run's own checks (name, payload, queue, priority, retries) on a sample run.
    job_spec(name, payload, queue=queue, priority=priority, retries=retries,
             default_retries=default_retries)
    return {"key": key, "name": name, "interval": seconds, "payload": payload,
            "queue": queue, "priority": priority, "retries": retries}
