"""The worker side of brython_jobs: the handlers a web worker script runs.

A worker script registers its handlers by job name; the page declares which job names run
in which script (``@jobs.handler("embed", worker="embed_worker.py")``) and the leader tab
starts the worker, sends it the jobs and stores what comes back (see workers.py)::

    # embed_worker.py
    from brython_jobs.worker import handler

    @handler("embed")
    def embed(job):                 # ``async def`` works too
        job.update_progress(0.5, "half way")
        return {"vectors": 120}     # JSON-like data, stored as job.result

``job`` has ``id``, ``name``, ``queue``, ``payload`` (plain Python data), ``attempt`` (1
for the first) and ``update_progress(fraction, message=None)``, which posts the progress
to the page at once (it may be awaited, as in page handlers, but need not be). An
exception fails the attempt with its type and text, as on the page.

Nothing else is needed: importing this module makes the worker answer the page. It is
imported in the worker only, so it keeps to modules that load there (no ``window``).
"""

import browser
from browser import aio

from .jsenv import frames, scope, to_js, to_py
from .records import check_payload

PROTOCOL = 1          # the ``bj`` field of every message between page and worker

_handlers = {}        # job name -> function


def handler(name):
    """Decorator registering the function that runs jobs called ``name`` in this worker.
    ``@handler`` without a name uses the function's name."""
    if callable(name):
        fn = name
        _handlers[fn.__name__] = fn
        return fn
    if type(name) is not str or not name:
        raise TypeError(f"handler name must be a non-empty str, not {name!r}")

    def register(fn):
        _handlers[name] = fn
        return fn
    return register


def handlers():
    """The job names registered in this worker, sorted."""
    return sorted(_handlers)


def _post(message):
    message["bj"] = PROTOCOL
    scope.postMessage(to_js(message))


class WorkerJob:
    """The job a worker handler receives."""

    def __init__(self, message):
        self.id = message["id"]
        self.name = message["name"]
        self.queue = message.get("queue")
        self.payload = message.get("payload")
        self.attempt = message.get("attempt")

    def update_progress(self, fraction, message=None):
        """Post ``progress = {"fraction": fraction, "message": message}`` to the page,
        where every tab gets a ``progress`` event. Returns an already resolved awaitable,
        so ``await job.update_progress(...)`` works as in page handlers."""
        if type(fraction) not in (int, float) or not (0 <= fraction <= 1):
            raise ValueError(f"fraction must be a number from 0 to 1, not {fraction!r}")
        if message is not None and type(message) is not str:
            raise TypeError(f"message must be a str or None, not {message!r}")
        _post({"type": "progress", "id": self.id, "fraction": fraction,
               "message": message})
        return scope.Promise.resolve(True)

    def __repr__(self):
        return f"<WorkerJob {self.name} {self.id[:8]} attempt {self.attempt}>"


def _fail(job_id, kind, text, where=None):
    _post({"type": "error", "id": job_id,
           "error": {"type": kind, "message": text, "where": where or []}})


def _failed(job_id, exc):
    try:
        where = frames(exc)
    except Exception:
        where = []
    _fail(job_id, type(exc).__name__, str(exc), where)


def _finish(job_id, result):
    try:
        check_payload(result, "result")
    except TypeError as exc:
        _failed(job_id, exc)
        return
    _post({"type": "result", "id": job_id, "value": result})


async def _finish_later(job_id, awaitable):
    try:
        result = await awaitable
    except Exception as exc:
        _failed(job_id, exc)
        return
    _finish(job_id, result)


def _run(message):
    job = WorkerJob(message)
    fn = _handlers.get(job.name)
    if fn is None:
        names = ", ".join(sorted(_handlers)) or "none"
        _fail(job.id, "LookupError",
              f"this worker script has no handler for {job.name!r} (it has: {names})")
        return
    try:
        result = fn(job)
    except Exception as exc:
        _failed(job.id, exc)
        return
    if aio.iscoroutine(result) or (result is not None and hasattr(result, "then")):
        aio.run(_finish_later(job.id, result))
    else:
        _finish(job.id, result)


def message_data(ev):
    """The data of a message event as plain Python values. (Brython already converts
    some messages to dicts; others arrive as JS objects.)"""
    data = ev.data
    if type(data) in (dict, list, str, int, float, bool):
        return data
    return to_py(data)


def _on_message(ev):
    try:
        message = message_data(ev)
    except Exception:
        return
    if type(message) is not dict or message.get("bj") != PROTOCOL:
        return  # not ours: the worker script may use messages of its own
    try:
        if message.get("type") == "run":
            _run(message)
    except Exception as exc:  # a malformed message: answer it rather than hang the job
        job_id = message.get("id")
        if type(job_id) is str:
            _failed(job_id, exc)
        scope.console.error(f"brython_jobs worker: {type(exc).__name__}: {exc}")


def _ready():
    # Called by the page's bootstrap (workers.py) once the worker script's top level
    # ran, so every handler of the script is registered.
    # Milliseconds since the worker started: Brython loaded, the script ran.
    loaded = getattr(scope, "brythonJobsLoaded", None)
    _post({"type": "ready", "handlers": handlers(),
           "loaded_ms": loaded if type(loaded) in (int, float) else None,
           "ready_ms": scope.performance.now()})


if browser.is_webworker:
    scope.brythonJobsReady = _ready
    scope.addEventListener("message", _on_message)
