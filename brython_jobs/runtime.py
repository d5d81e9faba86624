"""What the core needs from its environment, declared in code, and the core's own timer
rules on top of it (pure: no browser imports).

The dispatcher, the leadership and the facade take one ``Runtime``. In the browser it is
``BrowserRuntime`` (browser_runtime.py: ``Date.now()``, ``performance.now()``,
``setTimeout``, Web Locks, BroadcastChannel, page visibility); the simulator in
``tests/sim`` gives every simulated tab its own runtime in virtual time. An adapter only
translates calls: every rule (when to steal, how long to sleep, what a silence means)
lives in the core modules that use it.
"""

# The largest delay a WebIDL timer takes: longer ones overflow a signed 32-bit int and
# fire at once in every engine (so a job due in 25 days would spin an idle leader).
MAX_TIMER = 2147483.647  # seconds (2**31 - 1 ms)


class Runtime:
    """The interface. Every method is synchronous unless it says otherwise."""

    locks = None
    """The ``Locks`` of this context (Web Locks)."""

    def now(self):
        """Wall-clock epoch seconds, like ``time.time()``. It may step forward or back."""
        raise NotImplementedError

    def monotonic(self):
        """Seconds on a clock that never goes back (``performance.now()``); only
        differences of two readings in one context mean anything."""
        raise NotImplementedError

    def random(self):
        """A float in [0, 1)."""
        raise NotImplementedError

    def new_id(self):
        """A new job id; ids of one context sort in creation order."""
        raise NotImplementedError

    def call_later(self, seconds, fn):
        """Call ``fn()`` once after about ``seconds`` (a raw WebIDL timer: callers use
        ``later``, which clamps); returns a handle for ``cancel_call``."""
        raise NotImplementedError

    def cancel_call(self, handle):
        """Cancel a ``call_later`` that has not fired (a None handle is ignored)."""
        raise NotImplementedError

    def call_soon(self, fn):
        """Call ``fn()`` once the current task is over, before any timer (a microtask)."""
        raise NotImplementedError

    def idle(self, fn):
        """Call ``fn()`` once when this context has nothing else to do: soon, and within
        a couple of seconds even on a busy page (``requestIdleCallback`` with a timeout;
        a short timer where there is none). For work that may wait, such as loading
        code a later call will need. This default is a plain ``call_later``."""
        self.call_later(0.2, fn)

    def preloadable(self, module):
        """True if importing ``module`` now needs no request (it came with a script-tag
        bundle), so it may be imported ahead of time from any callback. This default
        says False: nothing is loaded ahead of time."""
        return False

    def spawn(self, coro, where):
        """Run a coroutine in the background. An exception it raises is reported with
        ``report(where, exc)``, never lost."""
        raise NotImplementedError

    def future(self):
        """A new awaitable with ``set_result(value)`` and ``set_exception(exc)``."""
        raise NotImplementedError

    def is_awaitable(self, value):
        """True for a coroutine or a promise a handler returned."""
        raise NotImplementedError

    def report(self, where, exc, retrying=False):
        """Report an exception: an unexpected one at the console's error level; one the
        caller will retry (``retrying``: a transient storage error) at the warning level.
        Either way it is accounted for: the simulator checks both kinds the same."""
        raise NotImplementedError

    def warn(self, message):
        """Report something a developer should know (the console's warning level)."""
        raise NotImplementedError

    def visible(self):
        """True while this context's page is visible (a worker counts as visible)."""
        raise NotImplementedError

    def on_lifecycle(self, callback):
        """Call ``callback(event)`` on page lifecycle changes: ``"visible"``,
        ``"hidden"``, ``"unload"`` (pagehide: the page is going away), ``"freeze"`` (the
        page is about to be frozen) and ``"resume"`` (thawed after a freeze)."""
        raise NotImplementedError

    def channel(self, name, on_message):
        """Open the broadcast channel ``name``: returns a ``Channel``; ``on_message(dict)``
        gets every message another context posts on it (never this one's own)."""
        raise NotImplementedError

    async def persist(self):
        """Ask that this origin's storage be kept under storage pressure
        (``navigator.storage.persist()``); True if it is persistent now. A context with
        no such API (the default here) answers False."""
        return False

    async def storage_estimate(self):
        """``{"usage", "quota", "persisted"}`` of this origin's storage (bytes; None
        where the context cannot tell)."""
        return {"usage": None, "quota": None, "persisted": False}


class Locks:
    """Exclusive named locks shared by every context of the origin (Web Locks)."""

    def request(self, name, on_granted, on_ended, steal=False):
        """Queue for the exclusive lock ``name``; returns a ``LockRequest``.

        ``on_granted()`` runs when the lock is held; it stays held until ``release()``.
        ``on_ended(error)`` runs once when the request is over: ``None`` after a
        ``release()`` of a held lock, ``"AbortError"`` when the held lock was stolen or a
        queued request was withdrawn. ``steal=True`` takes the lock at once from its
        holder (whose request then ends with ``"AbortError"``)."""
        raise NotImplementedError

    async def held(self, name):
        """True if some context holds the lock ``name`` right now."""
        raise NotImplementedError


class LockRequest:
    """One request of ``Locks.request``."""

    def release(self):
        """Release the lock if held, else withdraw the queued request; idempotent."""
        raise NotImplementedError


class Channel:
    """A broadcast channel opened by ``Runtime.channel``."""

    def post(self, message):
        """Send a JSON-like dict to the other contexts (lost if the channel is closed)."""
        raise NotImplementedError

    def close(self):
        """Stop sending and receiving."""
        raise NotImplementedError


class Timer:
    """A timer that honours any delay: WebIDL timers overflow past ``MAX_TIMER`` and fire
    at once, so a longer wait is a chain of clamped timers. ``cancel()`` stops it."""

    def __init__(self, runtime, seconds, fn):
        self._rt = runtime
        self._fn = fn
        self._handle = None
        self._cancelled = False
        self._deadline = runtime.monotonic() + seconds
        self._arm(seconds)

    def _arm(self, seconds):
        if seconds > MAX_TIMER:
            seconds = MAX_TIMER
        self._handle = self._rt.call_later(seconds if seconds > 0 else 0, self._fire)

    def _fire(self):
        self._handle = None
        if self._cancelled:
            return
        left = self._deadline - self._rt.monotonic()
        if left > 0.5:
            self._arm(left)  # a clamped leg of a long wait: wait on
            return
        self._cancelled = True
        try:
            self._fn()
        except Exception as exc:
            self._rt.report("timer", exc)

    def cancel(self):
        self._cancelled = True
        self._rt.cancel_call(self._handle)
        self._handle = None


def later(runtime, seconds, fn):
    """``fn()`` after ``seconds`` (any finite duration, clamped legs for long ones);
    returns a ``Timer``."""
    return Timer(runtime, seconds, fn)


class Signal:
    """A wake-up flag: ``await wait(timeout)`` returns True once ``set()`` was called
    since the last wait, or False after ``timeout`` seconds (None: no limit). No polling:
    a pending wait is one future and at most one timer."""

    def __init__(self, runtime):
        self._rt = runtime
        self._flag = False
        self._future = None
        self._timer = None

    def set(self):
        self._flag = True
        self._settle(True)

    def _settle(self, value):
        future = self._future
        if future is not None:
            self._future = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            future.set_result(value)

    async def wait(self, timeout=None):
        if not self._flag:
            future = self._rt.future()
            self._future = future
            if timeout is not None:
                def expire():
                    if self._future is future:
                        self._timer = None
                        self._settle(False)
                self._timer = later(self._rt, timeout, expire)
            await future
        fired = self._flag
        self._flag = False
        return fired


async def sleep(runtime, seconds):
    """Wait ``seconds`` (a clamped ``Timer``; no busy loop)."""
    future = runtime.future()
    later(runtime, seconds, lambda: future.set_result(True))
    await future
