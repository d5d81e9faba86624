"""The browser's ``Runtime`` (runtime.py): Date.now(), performance.now(), setTimeout,
Web Locks, BroadcastChannel and page lifecycle events, translated and nothing more.

Every rule about what these mean (when a silent leader is replaced, how long a wait may
be, what to do on pagehide) lives in the core modules that use the runtime; this adapter
only maps calls, so the simulator in ``tests/sim`` can stand in for it.
"""

import javascript

from . import jsenv
from .jsenv import scope, is_nullish
from .runtime import Runtime, Locks, LockRequest, Channel

_py_json = javascript.JSON
IDLE_TIMEOUT_MS = 2000   # an idle callback runs by then even if the page never idles
IDLE_FALLBACK_MS = 200   # without requestIdleCallback: after the page's own start-up
# Looked up once: each attribute of a JS object read from Python costs a conversion.
_Date = scope.Date
_perf = scope.performance
_Math = scope.Math


class BrowserLockRequest(LockRequest):
    def __init__(self):
        self.release_held = None  # resolves the promise that keeps a granted lock held
        self.abort = None         # withdraws a queued request (none for steal)
        self.done = False

    def release(self):
        if self.done:
            return
        self.done = True
        if self.release_held is not None:
            release, self.release_held = self.release_held, None
            release(True)
        elif self.abort is not None:
            self.abort.abort()


class BrowserLocks(Locks):
    """``navigator.locks``: one request per call, the held promise kept by the request."""

    def request(self, name, on_granted, on_ended, steal=False):
        req = BrowserLockRequest()
        options = {"mode": "exclusive"}
        if steal:
            options["steal"] = True  # the API refuses a signal together with steal
        else:
            req.abort = scope.AbortController.new()
            options["signal"] = req.abort.signal

        def granted(lock):
            def hold(resolve, reject):
                req.release_held = resolve
            held = scope.Promise.new(hold)
            try:
                on_granted()
            except Exception as exc:
                jsenv.report("lock granted", exc)
            return held

        def ended(error):
            if req.release_held is not None:
                # A stolen lock's callback promise would otherwise never settle.
                release, req.release_held = req.release_held, None
                release(True)
            req.done = True
            try:
                on_ended(error)
            except Exception as exc:
                jsenv.report("lock ended", exc)

        def rejected(err):
            name = getattr(err, "name", None)
            ended(name if type(name) is str else "Error")

        scope.navigator.locks.request(name, options, granted).then(
            lambda value: ended(None), rejected)
        return req

    async def held(self, name):
        state = await scope.navigator.locks.query()
        for lock in state.held:
            if lock.name == name:
                return True
        return False


class BrowserChannel(Channel):
    """A BroadcastChannel whose messages travel as JSON text: one serialisation each way
    instead of building a JS object to post and reading it back field by field."""

    def __init__(self, name, on_message):
        self._on_message = on_message
        self._channel = scope.BroadcastChannel.new(name)
        self._channel.onmessage = self._receive
        self.closed = False

    def _receive(self, ev):
        data = ev.data
        try:
            message = _py_json.parse(data) if type(data) is str else jsenv.to_py(data)
        except Exception as exc:
            message = {"undecodable": str(exc)}
        try:
            self._on_message(message)
        except Exception as exc:
            jsenv.report("channel message", exc)

    def post(self, message):
        if not self.closed:
            self._channel.postMessage(_py_json.stringify(message))

    def close(self):
        if not self.closed:
            self.closed = True
            self._channel.close()


class BrowserRuntime(Runtime):
    """The runtime of a page (or of a worker, which is always visible)."""

    def __init__(self):
        self.locks = BrowserLocks()
        self._lifecycle = []
        self._listening = False

    def now(self):
        return _Date.now() / 1000

    def monotonic(self):
        return _perf.now() / 1000

    def random(self):
        return _Math.random()

    def new_id(self):
        return jsenv.new_id()

    def call_later(self, seconds, fn):
        return jsenv.call_later(seconds, fn)

    def cancel_call(self, handle):
        jsenv.cancel_call(handle)

    def call_soon(self, fn):
        def run():
            try:
                fn()
            except Exception as exc:
                jsenv.report("microtask", exc)
        scope.queueMicrotask(run)

    def idle(self, fn):
        def run(*args):
            try:
                fn()
            except Exception as exc:
                jsenv.report("idle callback", exc)
        request = getattr(scope, "requestIdleCallback", None)
        if is_nullish(request):  # WebKit (Safari) and workers have none: a timer
            scope.setTimeout(run, IDLE_FALLBACK_MS)
        else:
            scope.requestIdleCallback(run, jsenv.to_js({"timeout": IDLE_TIMEOUT_MS}))

    def preloadable(self, module):
        # Brython imports a .py file with a synchronous request, and Firefox runs other
        # callbacks of the page during one: a coroutine suspended elsewhere (the leader
        # election's) resumes inside the import and Brython's frames break
        # (UnboundLocalError in that coroutine). A module of a script-tag bundle is in
        # Brython's virtual file system and imports with no request.
        vfs = getattr(scope.__BRYTHON__, "VFS", None)
        return not is_nullish(vfs) and vfs.hasOwnProperty(module) is True

    def spawn(self, coro, where):
        jsenv.spawn(coro, where)

    def future(self):
        return jsenv.future()

    def is_awaitable(self, value):
        return jsenv.is_awaitable(value)

    def report(self, where, exc, retrying=False):
        if retrying:
            jsenv.warn(f"{where}, retrying: {type(exc).__name__}: {exc}")
        else:
            jsenv.report(where, exc)

    def warn(self, message):
        jsenv.warn(message)

    def visible(self):
        document = getattr(scope, "document", None)
        if is_nullish(document):
            return True
        return document.visibilityState != "hidden"

    def on_lifecycle(self, callback):
        self._lifecycle.append(callback)
        if self._listening or is_nullish(getattr(scope, "document", None)):
            return
        self._listening = True
        document = scope.document

        def fire(event):
            for cb in list(self._lifecycle):
                try:
                    cb(event)
                except Exception as exc:
                    jsenv.report(f"{event} handler", exc)

        document.addEventListener("visibilitychange", lambda ev: fire(
            "hidden" if document.visibilityState == "hidden" else "visible"))
        scope.addEventListener("pagehide", lambda ev: fire("unload"))
        document.addEventListener("freeze", lambda ev: fire("freeze"))
        document.addEventListener("resume", lambda ev: fire("resume"))

    def channel(self, name, on_message):
        return BrowserChannel(name, on_message)

    async def persist(self):
        storage = getattr(scope.navigator, "storage", None)
        if is_nullish(storage) or is_nullish(getattr(storage, "persist", None)):
            return False
        return bool(await storage.persist())

    async def storage_estimate(self):
        storage = getattr(scope.navigator, "storage", None)
        if is_nullish(storage) or is_nullish(getattr(storage, "estimate", None)):
            return {"usage": None, "quota": None, "persisted": False}
        est = await storage.estimate()
        persisted = False
        if not is_nullish(getattr(storage, "persisted", None)):
            persisted = bool(await storage.persisted())
        return {"usage": est.usage, "quota": est.quota, "persisted": persisted}
