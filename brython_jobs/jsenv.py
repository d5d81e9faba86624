"""Adapter for the JavaScript environment: global scope, clock, ids, value conversion,
timers and background tasks. Works in a page and in a web worker.

Conversions go through JSON on purpose: Python ``None`` does not become JS ``null`` when
handed to JS (structured clone then fails with DataCloneError), and a dict once passed to
JS stays linked to the Python object. A JSON round trip gives clean, unlinked values both
ways.
"""

import javascript

import browser

if browser.is_webworker:  # a worker has no window, only its own global scope
    from browser import self as scope
else:
    from browser import window as scope

from browser import aio

NULL = javascript.NULL
UNDEFINED = javascript.UNDEFINED
_js_json = scope.JSON
_py_json = javascript.JSON


def is_nullish(value):
    """True for Python None and JS null/undefined (``x is None`` is False for JS null)."""
    return value is None or value is NULL or value is UNDEFINED


def to_js(value):
    """A Python JSON-like value as a clean JS value (None -> null, nested)."""
    return _js_json.parse(_py_json.stringify(value))


def to_py(value):
    """A JS value read back (JSObject/array) as plain Python dicts and lists."""
    if is_nullish(value):
        return None
    return _py_json.parse(_js_json.stringify(value))


def now():
    """Epoch seconds as a float, like ``time.time()``."""
    return scope.Date.now() / 1000


def random():
    return scope.Math.random()


_last_ms = [0]
_counter = [0]
_Date = scope.Date      # looked up once (each JS attribute read from Python costs)
_crypto = scope.crypto


def new_id():
    """A UUID-shaped id whose first 48 bits are the creation time in milliseconds.

    Ids sort in creation order, so IndexedDB's primary key order (and the order of
    equal keys in any index) lists jobs oldest first without an extra index."""
    ms = int(_Date.now())
    if ms <= _last_ms[0]:
        ms = _last_ms[0] + 1  # strictly increasing within this tab
    _last_ms[0] = ms
    rnd = _crypto.randomUUID()
    stamp = f"{ms:012x}"
    return stamp[:8] + "-" + stamp[8:] + rnd[13:]


def is_awaitable(value):
    """True for a coroutine or a JS promise. (Brython coroutines have no ``__await__``.)"""
    return aio.iscoroutine(value) or (value is not None and hasattr(value, "then"))


def frames(exc):
    """``file:line`` of each frame of an exception (the traceback module is costly)."""
    out = []
    tb = exc.__traceback__
    while tb is not None:
        out.append(f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}")
        tb = tb.tb_next
    return out


def report(where, exc):
    """Report an unexpected exception on the console (console.error)."""
    scope.console.error(f"brython_jobs: {where}: {type(exc).__name__}: {exc}")


def warn(message):
    scope.console.warn("brython_jobs: " + message)


def spawn(coro, where):
    """Run a coroutine in the background. Exceptions are caught and reported here:
    Brython silently drops exceptions of async code that JS calls back."""
    async def guarded():
        try:
            await coro
        except Exception as exc:
            report(where, exc)
    aio.run(guarded())


def call_later(seconds, fn):
    """Call ``fn()`` after ``seconds``; returns a handle for ``cancel_call``."""
    def tick():
        try:
            fn()
        except Exception as exc:
            report("timer", exc)
    delay = seconds * 1000
    return scope.setTimeout(tick, delay if delay > 0 else 0)


def cancel_call(handle):
    if handle is not None:
        scope.clearTimeout(handle)


def future():
    """A JS promise with ``set_result``/``set_exception`` (awaitable from Python)."""
    return aio.Future()


class Waiter:
    """A one-shot result: ``settle(value)`` once, ``await wait()`` for the value."""

    def __init__(self):
        self.value = None
        self.settled = False
        self._resolve = None

        def executor(resolve, reject):
            self._resolve = resolve
        self._promise = scope.Promise.new(executor)

    def settle(self, value):
        if not self.settled:
            self.settled = True
            self.value = value
            self._resolve(True)

    async def wait(self):
        if not self.settled:
            await self._promise
        return self.value
