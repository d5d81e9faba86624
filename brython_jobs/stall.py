"""The leader's watchdog on itself (pure): a store call of the dispatch loop, or an
attempt's outcome write, that has not settled within ``limit`` seconds ends the epoch.

Why. Every rule of the dispatcher assumes that a store call either settles or raises.
A transaction the browser never completes (a missed ``complete`` event, a connection
wedged by the browser) would leave the loop waiting forever: no job starts, a job whose
outcome write hangs stays ``processing``, and nothing says so. Followers replace a leader
whose heartbeat stops, but a lone tab has no follower. So the leader watches its own
calls; on a stall it reports it and gives leadership up: after ``leader_silence`` this
tab (or another) leads with a new epoch, recovers the interrupted job and goes on, and
the hung call, if it ever settles, is fenced as any stale epoch's write is.

What is no stall: the loop sleeping (only a call in flight counts, timed on the
monotonic clock: a wall-clock step changes nothing), and time the page did not run. A
page frozen without warning (the machine asleep, the main thread hung) gets its held
completions after it resumes, but its watchdog's timer may fire first and see a call
"in flight" for as long as the page was stopped. So one check is never enough: a stall
is a call seen overdue by two checks in a row, ``limit / 2`` apart (or, in a hidden tab
whose timers are throttled, a minute apart: a hidden leader whose handler waits on a
progress write that never settles is caught too). ``limit`` is three times
``leader_silence``: far beyond any healthy transaction, even a recovery pass over many
jobs.
"""

from .runtime import later

FACTOR = 3  # limit = FACTOR * leader_silence


async def within(runtime, seconds, coro, error):
    """Await ``coro`` for at most ``seconds``, then raise ``error``. The coroutine runs
    as a task of its own and goes on after a timeout: settling late is its business
    (``IndexedDBStore.open`` closes a connection that arrives after another one)."""
    future = runtime.future()

    async def run():
        try:
            value = await coro
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(value)

    def expire():
        if not future.done():
            future.set_exception(error)
    timer = later(runtime, seconds, expire)
    runtime.spawn(run(), "store call with a time limit")
    try:
        return await future
    finally:
        timer.cancel()


class StallWatch:
    """Checks ``oldest()`` (the monotonic start of the oldest call in flight, or None)
    every ``limit / 2`` seconds; calls ``on_stall(seconds)`` once when two checks in a
    row saw the same call in flight for ``limit`` seconds or more (so within about
    ``2 * limit`` of its start while timers run on time). ``stop()`` ends the watch."""

    def __init__(self, runtime, limit, oldest, on_stall):
        self._rt = runtime
        self.limit = limit
        self._oldest = oldest
        self._on_stall = on_stall
        self._suspect = None  # the start of the call the previous check saw overdue
        self._timer = later(runtime, limit / 2, self._check)

    def stop(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self):
        self._timer = None
        since = self._oldest()
        if since is not None and self._rt.monotonic() - since >= self.limit:
            if since == self._suspect:
                self._on_stall(self._rt.monotonic() - since)
                return
            self._suspect = since  # overdue once: judged at the next check
        else:
            self._suspect = None
        self._timer = later(self._rt, self.limit / 2, self._check)
