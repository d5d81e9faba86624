"""Job records: statuses, error codes, the stored record and the public Job snapshot.

Pure Python: no browser imports, so it runs unchanged under CPython and Brython.

A record is a plain dict of JSON-like values, exactly what the stores keep. Besides the
public fields listed in ``PUBLIC_FIELDS`` it carries a few internal ones that the indexes
and the dispatcher need:

``seq``       enqueue order, a counter the store hands out in the insert transaction
``npri``      ``-priority``, so an ascending index walk meets the highest priority first
``t``         the time that matters for the status (due time while pending, start while
              processing, finish time once finished), indexed as ``[status, t]``
``owner``     the leader epoch that claimed the job while it is processing, else None
``ttl``       kept so a redriven job gets a fresh expiry
``on_expire`` ``"fail"`` or ``"cancel"``
``schedule``  the recurring schedule key this run belongs to, else None
``trigger``   burst state of a debounced/throttled trigger, else None
"""

PENDING = "pending"
PROCESSING = "processing"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED)
FINISHED = (COMPLETED, FAILED, CANCELLED)

# Error codes (``job.error["code"]``).
HANDLER_ERROR = "handler_error"
TIMEOUT = "timeout"
EXPIRED = "expired"
NO_HANDLER = "no_handler"
CANCELLED_CODE = "cancelled"
# Added to the contract: the tab running the job closed, crashed or was replaced.
INTERRUPTED = "interrupted"
ERROR_CODES = (HANDLER_ERROR, TIMEOUT, EXPIRED, NO_HANDLER, CANCELLED_CODE, INTERRUPTED)

ON_EXPIRE = ("fail", "cancel")
DEFAULT_QUEUE = "default"

PUBLIC_FIELDS = (
    "id", "name", "queue", "payload", "status", "priority", "attempts", "max_attempts",
    "created_at", "run_at", "started_at", "finished_at", "expires_at", "progress",
    "result", "error", "key",
)

_SCALARS = (str, bool, int, float)


def check_payload(value, where="payload"):
    """Raise TypeError unless ``value`` is JSON-like data (dict with str keys, list, str,
    int, float, bool, None, nested). Payloads are data, never code or JS objects."""
    if value is None:
        return
    kind = type(value)
    if kind in _SCALARS:
        if kind is float and (value != value or value in (float("inf"), float("-inf"))):
            raise TypeError(f"{where} holds {value!r}, which JSON cannot represent")
        return
    if kind is list:
        i = 0
        for item in value:
            check_payload(item, f"{where}[{i}]")
            i += 1
        return
    if kind is dict:
        for k in value:
            if type(k) is not str:
                raise TypeError(f"{where} has a key {k!r} of type {type(k).__name__}; "
                                "keys must be str")
            check_payload(value[k], f"{where}[{k!r}]")
        return
    raise TypeError(f"{where} holds a {type(value).__name__}; only dict, list, str, int, "
                    "float, bool and None are allowed")


def check_name(value, what):
    if type(value) is not str or not value:
        raise TypeError(f"{what} must be a non-empty str, not {value!r}")


def check_number(value, what, allow_none=True, minimum=None):
    if value is None and allow_none:
        return
    if type(value) not in (int, float) or value != value:
        raise TypeError(f"{what} must be a number of seconds, not {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, not {value!r}")


def status_time(rec):
    """The time indexed with the status: due time, start time or finish time."""
    status = rec["status"]
    if status == PENDING:
        return rec["run_at"]
    if status == PROCESSING:
        return rec["started_at"]
    return rec["finished_at"]


def touch(rec):
    """Recompute the derived index fields after a change; returns the record."""
    rec["npri"] = -rec["priority"]
    rec["t"] = status_time(rec)
    return rec


def new_record(job_id, name, payload, queue, priority, now, run_at, ttl, on_expire,
               max_attempts, key=None, schedule=None, trigger=None):
    """A fresh pending record. ``seq`` is filled in by the store's insert transaction."""
    rec = {
        "id": job_id, "name": name, "queue": queue, "payload": payload,
        "status": PENDING, "priority": priority, "attempts": 0,
        "max_attempts": max_attempts, "created_at": now, "run_at": run_at,
        "started_at": None, "finished_at": None,
        "expires_at": None if ttl is None else run_at + ttl,
        "progress": None, "result": None, "error": None, "key": key,
        "seq": 0, "owner": None, "ttl": ttl, "on_expire": on_expire,
        "schedule": schedule, "trigger": trigger,
    }
    return touch(rec)


def error(code, message):
    return {"code": code, "message": message}


class Job:
    """A snapshot of one job, as stored when it was read.

    Attributes: ``id`` (str), ``name``, ``queue``, ``payload``, ``status``, ``priority``,
    ``attempts`` (attempts started), ``max_attempts``, ``created_at``, ``run_at``,
    ``started_at``, ``finished_at``, ``expires_at`` (epoch seconds or None), ``progress``
    (None or ``{"fraction": f, "message": m}``), ``result``, ``error`` (None or
    ``{"code": str, "message": str}``) and ``key``. It does not change when the stored
    job does: read it again with ``JobQueue.get``.
    """

    def __init__(self, rec):
        for field in PUBLIC_FIELDS:
            setattr(self, field, rec.get(field))

    def to_dict(self):
        """The public fields as a plain dict."""
        out = {}
        for field in PUBLIC_FIELDS:
            out[field] = getattr(self, field)
        return out

    @property
    def finished(self):
        return self.status in FINISHED

    def __eq__(self, other):
        return isinstance(other, Job) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return (f"<Job {self.name} {self.id[:8]} {self.status} "
                f"attempts={self.attempts}/{self.max_attempts}>")
