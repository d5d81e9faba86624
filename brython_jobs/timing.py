"""Time arithmetic: retry backoff, expiry, recurrence and trigger (debounce/throttle) due times.

Pure functions of their arguments; the caller passes ``now`` and any randomness, so every
edge can be tested with exact numbers.
"""

JITTER = 0.1  # a retry waits between 90% and 100% of its nominal delay


def compute_backoff(attempt, backoff, backoff_max, rand=0.0):
    """Seconds to wait before retrying after failed attempt number ``attempt`` (1-based).

    ``backoff * 2 ** (attempt - 1)``, capped at ``backoff_max``, minus up to 10% jitter
    (``rand`` in [0, 1)) so that jobs failing together do not retry in lockstep. The jitter
    only shortens the delay, so ``backoff_max`` stays a true upper bound.
    """
    if backoff <= 0:
        return 0.0
    exponent = attempt - 1 if attempt > 1 else 0
    # Cap the exponent first: 2 ** 2000 overflows a float long before the cap applies.
    if exponent > 60:
        exponent = 60
    delay = backoff * (2 ** exponent)
    if backoff_max is not None and delay > backoff_max:
        delay = backoff_max
    return delay * (1.0 - JITTER * rand)


def is_expired(rec, now):
    """True when a pending job can no longer start: strictly past ``expires_at``.

    Starting exactly at the limit is still allowed."""
    limit = rec.get("expires_at")
    return limit is not None and now > limit


def next_recurrence(prev_due, interval, now):
    """The due time of the run after one that was due at ``prev_due``.

    Normally ``prev_due + interval``. Runs missed while nothing ran (all tabs closed)
    collapse: the result is the first point of the ``prev_due + k * interval`` grid that
    lies after ``now``, so a long gap gives one catch-up run, not a burst."""
    due = prev_due + interval
    if due > now:
        return due
    skipped = int((now - prev_due) // interval)
    due = prev_due + interval * (skipped + 1)
    if due <= now:  # float rounding at an exact grid point
        due += interval
    return due


def debounce_due(first_call, last_call, wait, max_wait):
    """When a debounced burst runs: ``wait`` after its last call, but no later than
    ``max_wait`` after its first call (``max_wait=None``: no limit)."""
    due = last_call + wait
    if max_wait is not None and due > first_call + max_wait:
        due = first_call + max_wait
    return due


def throttle_due(now, last_start, interval):
    """When the next throttled run may start: now, unless the previous run started (at
    ``last_start``) less than ``interval`` ago, then one interval after that start. This
    spaces starts, so a run that started late pushes the next one back too."""
    if last_start is None:
        return now
    earliest = last_start + interval
    return earliest if earliest > now else now
