"""The job state machine: pure functions from a record (and ``now``) to the next record.

Every function returns a *new* dict and never mutates its argument, so a caller inside a
store transaction can compare before and after. Changes a leader makes about a job it runs
(``complete``, ``fail_attempt``, ``set_progress``) name the attempt: the leader epoch
that claimed it and the claim token that claim gave the record. When the stored record is
no longer processing under that epoch and claim (cancelled, recovered by a newer leader,
redriven and claimed again by the same leader...) they raise ``StaleWrite`` and nothing
is written.

    pending --claim--> processing --complete--> completed
       ^                   |  \\--fail_attempt (attempts left)--> pending (run_at later)
       |                   |   \\-fail_attempt (none left)------> failed
       |                   \\--recover (owner gone)-------------> pending | failed
    pending --expire--> failed | cancelled          any unfinished --cancel--> cancelled
    failed | cancelled --redrive--> pending         malformed --set_aside--> failed corrupt
"""

from .errors import StaleWrite  # noqa: F401  (re-exported under its old home)
from .metas import run_key
from .records import (
    PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, FINISHED, EXPIRED, CANCELLED_CODE,
    INTERRUPTED, CORRUPT, error, is_number, touch,
)


def _copy(rec):
    out = dict(rec)
    return out


def claim(rec, now, owner):
    """pending and due -> processing under leader epoch ``owner``; counts the attempt and
    gives it a new claim token (``rec["claim"]``, never reused for this job)."""
    if rec["status"] != PENDING or rec["run_at"] > now:
        raise StaleWrite(f"job {rec['id']} is not due pending")
    out = _copy(rec)
    out["status"] = PROCESSING
    out["attempts"] = rec["attempts"] + 1
    out["started_at"] = now
    out["finished_at"] = None
    out["owner"] = owner
    out["claim"] = (rec.get("claim") or 0) + 1
    out["progress"] = None
    return touch(out)


def _check_owner(rec, owner, token):
    if rec is None:
        raise StaleWrite("job no longer exists")
    if rec["status"] != PROCESSING or rec["owner"] != owner or rec.get("claim") != token:
        raise StaleWrite(f"job {rec['id']} is {rec['status']} under owner {rec['owner']} "
                         f"claim {rec.get('claim')}, not processing under {owner} "
                         f"claim {token}")


def _finish(rec, now, status, err=None):
    out = _copy(rec)
    out["status"] = status
    out["finished_at"] = now
    out["owner"] = None
    out["error"] = err
    return touch(out)


def complete(rec, now, owner, result, token=None):
    """processing (owned by epoch ``owner``, claim ``token``) -> completed with
    ``result``."""
    _check_owner(rec, owner, token)
    out = _finish(rec, now, COMPLETED)
    out["result"] = result
    return out


def fail_attempt(rec, now, owner, code, message, retry_delay, final=False, token=None):
    """processing (owned) -> pending again after ``retry_delay`` while attempts remain,
    else failed. ``final=True`` fails at once (for example ``no_handler``)."""
    _check_owner(rec, owner, token)
    err = error(code, message)
    if final or rec["attempts"] >= rec["max_attempts"]:
        return _finish(rec, now, FAILED, err)
    out = _copy(rec)
    out["status"] = PENDING
    out["owner"] = None
    out["error"] = err
    out["run_at"] = now + retry_delay
    return touch(out)


def set_progress(rec, owner, fraction, message, token=None):
    """Store progress of an owned processing job."""
    _check_owner(rec, owner, token)
    out = _copy(rec)
    out["progress"] = {"fraction": fraction, "message": message}
    return out


def recover(rec, now, live_owner):
    """A processing job whose owner is not the live leader (that tab closed, crashed or
    was replaced): back to pending with the attempt counted, or failed when none remain.
    Returns the record unchanged when it is not such a job."""
    if rec["status"] != PROCESSING or rec["owner"] == live_owner:
        return rec
    err = error(INTERRUPTED, f"attempt {rec['attempts']} was interrupted: the tab running "
                             "it closed, crashed or lost leadership")
    if rec["attempts"] >= rec["max_attempts"]:
        return _finish(rec, now, FAILED, err)
    out = _copy(rec)
    out["status"] = PENDING
    out["owner"] = None
    out["error"] = err
    if out["run_at"] > now:
        out["run_at"] = now
    return touch(out)


def expire(rec, now):
    """A pending job past its ``expires_at`` -> failed or cancelled with code ``expired``."""
    late = now - rec["expires_at"]
    status = CANCELLED if rec.get("on_expire") == "cancel" else FAILED
    msg = (f"not started within its ttl of {rec.get('ttl')}s after its due time; "
           f"{late:.3f}s past the limit")
    return _finish(rec, now, status, error(EXPIRED, msg))


def cancel(rec, now):
    """pending or processing -> cancelled; a finished job is returned unchanged."""
    if rec["status"] in FINISHED:
        return rec
    return _finish(rec, now, CANCELLED, error(CANCELLED_CODE, "cancelled by request"))


def redrive(rec, now):
    """failed or cancelled -> pending, due now, attempts reset and a fresh expiry; any
    other status is returned unchanged. A run of a recurring schedule is redriven as a
    one-off job: the schedule has (or will put) its own next run, never two."""
    if rec["status"] not in (FAILED, CANCELLED):
        return rec
    out = _copy(rec)
    schedule = rec.get("schedule")
    if schedule:
        out["schedule"] = None
        if rec.get("key") == run_key(schedule):
            out["key"] = None
    out["status"] = PENDING
    out["attempts"] = 0
    out["run_at"] = now
    out["started_at"] = None
    out["finished_at"] = None
    out["progress"] = None
    out["result"] = None
    out["error"] = None
    out["owner"] = None
    ttl = rec.get("ttl")
    # (a malformed ttl, on a record once set aside as corrupt, gives no expiry)
    out["expires_at"] = now + ttl if is_number(ttl) else None
    return touch(out)


def set_aside(rec, now, message):
    """A record that cannot be dispatched (``records.problem`` named a malformed field)
    -> failed with code ``corrupt``, so it stops blocking the queue and stays visible.
    Copes with any field being malformed."""
    out = _copy(rec)
    out["status"] = FAILED
    out["finished_at"] = now
    out["owner"] = None
    out["error"] = error(CORRUPT, f"set aside, the stored record is malformed: {message}")
    return touch(out)
