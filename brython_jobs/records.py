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
``claim``     a counter, one more at each claim and never reset: the token that names
              the attempt (``owner`` names the leader), so a late write of an earlier
              attempt of the same job is refused

Values must survive the trip to IndexedDB unchanged: numbers are finite, ints stay within
JavaScript's exact integer range (``MAX_SAFE_INT``) and data nests at most ``MAX_DEPTH``
levels. ``problem`` names the first malformed field of a stored record, ``upgrade`` fills
the fields an older version did not write.
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
# Added: a stored record could not be read (a malformed field); it was set aside.
CORRUPT = "corrupt"
# Added: the attempt's outcome could not be stored for lack of space (quota).
STORAGE_FULL = "storage_full"
ERROR_CODES = (HANDLER_ERROR, TIMEOUT, EXPIRED, NO_HANDLER, CANCELLED_CODE, INTERRUPTED,
               CORRUPT, STORAGE_FULL)

ON_EXPIRE = ("fail", "cancel")
DEFAULT_QUEUE = "default"

PUBLIC_FIELDS = (
    "id", "name", "queue", "payload", "status", "priority", "attempts", "max_attempts",
    "created_at", "run_at", "started_at", "finished_at", "expires_at", "progress",
    "result", "error", "key",
)

_SCALARS = (str, bool, int, float)
MAX_SAFE_INT = 2 ** 53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER
MAX_DEPTH = 100             # nesting levels of lists and dicts in stored data
_INF = float("inf")


def is_number(value):
    """True for a finite int or float (not a bool): what IndexedDB stores unchanged."""
    kind = type(value)
    if kind is int:
        return -MAX_SAFE_INT <= value <= MAX_SAFE_INT
    return kind is float and value == value and value != _INF and value != -_INF


def _path(node, where):
    """The location of a stack node of ``check_payload``: ``payload['a'][0]``."""
    labels = []
    while node is not None:
        if node[3] is not None:
            labels.append(node[3])
        node = node[2]
    text = where
    i = len(labels) - 1
    while i >= 0:
        text += f"[{labels[i]!r}]"
        i -= 1
    return text


def check_payload(value, where="payload"):
    """Raise TypeError unless ``value`` is JSON-like data (dict with str keys, list, str,
    int, float, bool, None, nested) that IndexedDB keeps exactly: finite floats, ints
    within +-(2**53 - 1), at most ``MAX_DEPTH`` levels. Payloads are data, never code."""
    # An explicit stack, not recursion: a deep payload must give TypeError, not
    # RecursionError (Brython's recursion limit is lower than CPython's). Each node is
    # (value, depth, parent node, label); the location text is built only for an error.
    stack = [(value, 0, None, None)]
    while stack:
        node = stack.pop()
        item = node[0]
        kind = type(item)
        if item is None or kind is str or kind is bool:
            continue
        if kind is int:
            if item > MAX_SAFE_INT or item < -MAX_SAFE_INT:
                # (no digits in the message: printing a huge int is itself costly)
                raise TypeError(f"{_path(node, where)} holds an int of {item.bit_length()} "
                                "bits, which a JavaScript number cannot hold exactly "
                                "(limit +-(2**53 - 1)); store it as a str")
            continue
        if kind is float:
            if item != item or item == _INF or item == -_INF:
                raise TypeError(f"{_path(node, where)} holds {item!r}, which JSON cannot "
                                "represent")
            continue
        if kind is list or kind is dict:
            depth = node[1]
            if depth >= MAX_DEPTH:
                raise TypeError(f"{_path(node, where)} is nested too deep: more than "
                                f"{MAX_DEPTH} levels of lists and dicts")
            depth += 1
            if kind is list:
                i = len(item) - 1
                while i >= 0:
                    stack.append((item[i], depth, node, i))
                    i -= 1
                continue
            for k in item:
                if type(k) is not str:
                    raise TypeError(f"{_path(node, where)} has a key {k!r} of type "
                                    f"{type(k).__name__}; keys must be str")
                stack.append((item[k], depth, node, k))
            continue
        raise TypeError(f"{_path(node, where)} holds a {kind.__name__}; only dict, list, "
                        "str, int, float, bool and None are allowed")


def check_name(value, what):
    if type(value) is not str or not value:
        raise TypeError(f"{what} must be a non-empty str, not {value!r}")


def check_number(value, what, allow_none=True, minimum=None):
    """A duration or instant: a finite number (inf would arm a timer that fires at once
    and is stored as null), at least ``minimum``; None when ``allow_none``."""
    if value is None and allow_none:
        return
    if type(value) not in (int, float) or value != value:
        raise TypeError(f"{what} must be a number of seconds, not {value!r}")
    if not is_number(value):
        raise ValueError(f"{what} must be a finite number of seconds, not {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, not {value!r}")


def check_priority(value):
    """A priority: a finite number (IndexedDB would store inf as null)."""
    if type(value) not in (int, float) or value != value:
        raise TypeError(f"priority must be a number, not {value!r}")
    if not is_number(value):
        raise ValueError(f"priority must be a finite number within +-(2**53 - 1), "
                         f"not {value!r}")


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
    priority = rec.get("priority")
    # A malformed priority (a corrupt record being set aside) must not stop the write.
    rec["npri"] = -priority if is_number(priority) else 0
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
        "schedule": schedule, "trigger": trigger, "claim": 0,
    }
    return touch(rec)


# Fields an older version may not have written, with the value they mean when absent.
DEFAULTS = (
    ("payload", None), ("started_at", None), ("finished_at", None), ("expires_at", None),
    ("progress", None), ("result", None), ("error", None), ("key", None), ("owner", None),
    ("ttl", None), ("on_expire", "fail"), ("schedule", None), ("trigger", None),
    ("claim", 0),
)


def upgrade(rec):
    """Fill in place the fields that a record written by an older version lacks;
    returns it (None passes through). Stores call it on every record they read."""
    if type(rec) is dict:
        for pair in DEFAULTS:
            if pair[0] not in rec:
                rec[pair[0]] = pair[1]
    return rec


def _count(value):
    return type(value) is int and value >= 0


def problem(rec):
    """None when ``rec`` can be dispatched, else a message naming its first malformed
    field (a stored record no validation of this version produced)."""
    status = rec.get("status")
    if status not in STATUSES:
        return f"status is {status!r}"
    for field in ("id", "name", "queue"):
        value = rec.get(field)
        if type(value) is not str or not value:
            return f"{field} is {value!r}, not a non-empty str"
    for field in ("priority", "run_at", "seq"):
        if not is_number(rec.get(field)):
            return f"{field} is {rec.get(field)!r}, not a finite number"
    if not _count(rec.get("attempts")):
        return f"attempts is {rec.get('attempts')!r}, not an int >= 0"
    if not _count(rec.get("max_attempts")) or rec["max_attempts"] < 1:
        return f"max_attempts is {rec.get('max_attempts')!r}, not an int >= 1"
    limit = rec.get("expires_at")
    if limit is not None and not is_number(limit):
        return f"expires_at is {limit!r}, not a finite number or None"
    return None


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
