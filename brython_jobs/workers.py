"""Run handlers in web workers: the leader tab's side (the worker's side is worker.py).

The page declares which jobs run in a worker script::

    @jobs.handler("embed", worker="embed_worker.py", timeout=60)
    def embed(job):
        pass        # only names the job: the worker script has the code that runs it

``worker`` is the URL of a Python script, relative to the page (or the id of a
``<script type="text/python" class="webworker" src=...>`` element, whose ``src`` is used).
No script tag is needed: the pool fetches the script and starts a worker that loads the
page's Brython files and package bundles with the page's options (worker_boot.py says
which, in which order, and with which import path).

A worker runs one job at a time. It is started on first use and reused for later jobs
of the same script; a second worker of the same script starts only when two of its jobs
run at the same time (they are in different queues). ``warm(script)`` starts one ahead of
time. Starting takes about 0.3 s with the script-tag bundle and about 1 s from static
``.py`` files (each worker downloads and compiles the package again);
``<brython-options cache="true">`` lets workers use the HTTP cache.

Outcomes, as ``JobQueue._call`` expects them:
- ``("ok", result)``: the handler returned.
- ``("error", exc)``: the handler raised. ``exc`` is a ``WorkerError`` (errors.py) subclass
  named after the worker-side exception type, with its text (so the job's error message
  reads ``ValueError: bad input``); ``exc.remote_where`` lists its frames as ``file:line``.
  A worker that dies (an error event, an uncaught exception, a script that does not
  load or does not start within ``start_timeout``) gives ``WorkerCrashed``.
- ``("timeout",)``: the handler ran longer than the handler's ``timeout``, counted from
  when the job reached a started worker (starting a worker is bounded by
  ``start_timeout``). That worker is terminated; the next job starts a fresh one.
``cancel(job_id)`` terminates the worker running that job; ``stop_all()`` terminates every
worker (the tab stopped leading). Their outcome is ``("error", WorkerStopped(...))``,
which the queue discards.

Progress messages from the worker are stored with ``job.update_progress``, in order; one
that arrives while the previous one is being stored replaces any other waiting one (the
latest wins). The result is stored after the last progress.
"""

import javascript

from . import jsenv
from .errors import WorkerCrashed, WorkerStopped
from .jsenv import Waiter, scope, to_js, to_py, is_nullish
# What a worker loads and how its errors read is decided in worker_boot.py (pure, tested
# under CPython); this module is the adapter: the page's DOM, fetch, Blob and Worker.
from .worker_boot import (OPTIONS, PROTOCOL, START_TIMEOUT, bootstrap, is_webkit,
                          remote_error, worker_options, worker_pythonpath, worker_scripts)


def message_data(ev):
    """The data of a message event as plain Python values (as in worker.py, which the
    page does not import)."""
    data = ev.data
    if type(data) in (dict, list, str, int, float, bool):
        return data
    return to_py(data)


class _Worker:
    """One web worker of a script; runs at most one job at a time."""

    def __init__(self, pool, script):
        self.pool = pool
        self.script = script
        self.js = None
        self.state = "starting"       # -> "ready" -> "dead"
        self.ready = Waiter()         # settles True, or with the reason it died
        self.created = scope.Date.now()
        self.start_seconds = None
        self.handlers = None
        self.job = None
        self.outcome = None           # Waiter of the current job
        self.sent = False
        self.timeout = None
        self._timer = None
        self._start_timer = None
        self._progress = None         # (fraction, message) waiting to be stored
        self._storing = None          # Waiter while progress is being stored

    # -- lifecycle -----------------------------------------------------------------
    def attach(self, js):
        self.js = js
        js.addEventListener("message", self._on_message)
        js.addEventListener("error", self._on_error)
        js.addEventListener("messageerror", self._on_error)
        seconds = self.pool.start_timeout
        self._start_timer = jsenv.call_later(
            seconds, lambda: self.die(f"did not start within {seconds}s"))

    def die(self, reason, outcome=None):
        """Terminate the worker; a job it runs gets ``outcome`` (default: crashed)."""
        if self.state == "dead":
            return
        self.state = "dead"
        jsenv.cancel_call(self._timer)
        jsenv.cancel_call(self._start_timer)
        if self.js is not None:
            try:
                self.js.terminate()
            except Exception as exc:
                jsenv.report("terminating a worker", exc)
        self.pool._forget(self)
        self.ready.settle(reason)
        if outcome is None:
            outcome = ("error", WorkerCrashed(f"worker {self.pool.display(self.script)} "
                                              f"{reason}"))
            if self.job is None:
                jsenv.warn(f"worker {self.pool.display(self.script)} {reason}")
        if self.outcome is not None:
            self.outcome.settle(outcome)

    # -- a job -----------------------------------------------------------------------
    def assign(self, job, timeout):
        self.job = job
        self.timeout = timeout
        self.outcome = Waiter()
        self.sent = False
        if self.state == "ready":
            self._send()

    async def result(self):
        outcome = await self.outcome.wait()
        if self._storing is not None:
            await self._storing.wait()  # the last progress is stored before the result
        self.job = None
        self.outcome = None
        return outcome

    def _send(self):
        job = self.job
        self.sent = True
        self.js.postMessage(to_js({
            "bj": PROTOCOL, "type": "run", "id": job.id, "name": job.name,
            "queue": job.queue, "payload": job.payload, "attempt": job.attempt}))
        if self.timeout is not None:
            self._timer = jsenv.call_later(self.timeout, self._timed_out)

    def _timed_out(self):
        self.die("timed out", ("timeout",))

    def _settle(self, outcome):
        jsenv.cancel_call(self._timer)
        self._timer = None
        if self.outcome is not None:
            self.outcome.settle(outcome)

    # -- messages --------------------------------------------------------------------
    def _on_error(self, ev):
        message = ev.message if hasattr(ev, "message") else None
        if is_nullish(message) or not message:
            message = f"{ev.type} event (the script or a file it loads failed)"
        try:
            ev.preventDefault()  # reported here, as a failed attempt
        except Exception:
            pass
        self.die(f"died: {message}")

    def _on_message(self, ev):
        try:
            message = message_data(ev)
            if type(message) is dict and message.get("bj") == PROTOCOL:
                self._handle(message)
        except Exception as exc:
            jsenv.report(f"message from worker {self.pool.display(self.script)}", exc)

    def _handle(self, message):
        kind = message.get("type")
        if kind == "crash":
            self.die(f"failed: {message.get('message')}")
            return
        if kind == "ready":
            if self.state != "starting":
                return
            self.state = "ready"
            jsenv.cancel_call(self._start_timer)
            self.start_seconds = (scope.Date.now() - self.created) / 1000
            self.pool.start_seconds.append(self.start_seconds)
            self.pool.start_details.append({
                "script": self.script, "seconds": self.start_seconds,
                "brython_ms": message.get("loaded_ms"),
                "ready_ms": message.get("ready_ms")})
            self.handlers = message.get("handlers")
            self.ready.settle(True)
            if self.job is not None and not self.sent:
                self._send()
            return
        job = self.job
        if job is None or message.get("id") != job.id or self.outcome is None \
                or self.outcome.settled:
            return  # about a job this worker no longer runs (or has finished)
        if kind == "progress":
            self._store_progress(message.get("fraction"), message.get("message"))
        elif kind == "result":
            self._settle(("ok", message.get("value")))
        elif kind == "error":
            error = message.get("error") or {}
            self._settle(("error", remote_error(error.get("type"), error.get("message"),
                                                error.get("where"))))

    def _store_progress(self, fraction, text):
        self._progress = (fraction, text)
        if self._storing is None or self._storing.settled:
            self._storing = Waiter()
            jsenv.spawn(self._store(self.job, self._storing), "storing worker progress")

    async def _store(self, job, done):
        try:
            while self._progress is not None:
                fraction, text = self._progress
                self._progress = None
                try:
                    await job.update_progress(fraction, text)
                except Exception as exc:
                    jsenv.report(f"progress of job {job.id}", exc)
        finally:
            done.settle(True)


class WorkerPool:
    """The web workers of one ``JobQueue`` in the leader tab (see the module docstring).

    ``start_timeout``: seconds a worker may take to start. ``scripts``: extra JavaScript
    URLs every worker loads (``importScripts``) after Brython and the page's bundles.
    ``start_seconds``: how long each started worker took to become ready (from the
    request, the script's download included); ``start_details``: the same with, from the
    worker's own clock, when Brython was loaded (``brython_ms``) and when the script's
    top level had run (``ready_ms``).
    """

    def __init__(self, queue=None, start_timeout=START_TIMEOUT, scripts=None):
        self.queue = queue
        self.start_timeout = start_timeout
        self.scripts = list(scripts or [])
        self.start_seconds = []
        self.start_details = []
        self._workers = {}     # script URL -> [_Worker]
        self._boot_urls = {}   # script URL -> blob URL of its bootstrap

    # -- the JobQueue interface ---------------------------------------------------------
    async def run(self, handler, job):
        """Run ``job`` in a worker of ``handler.worker``: ``("ok", result)``,
        ``("error", exc)`` or ``("timeout",)``. Never raises."""
        try:
            worker = self._acquire(self.resolve(handler.worker))
            worker.assign(job, handler.timeout)
        except Exception as exc:
            return ("error", exc)
        return await worker.result()

    def cancel(self, job_id):
        """Terminate the worker running job ``job_id``; its outcome is discarded."""
        for worker in self._all():
            if worker.job is not None and worker.job.id == job_id:
                worker.die("stopped: its job was cancelled",
                           ("error", WorkerStopped(f"job {job_id} was cancelled")))

    def stop_all(self):
        """Terminate every worker (the tab stopped leading)."""
        for worker in self._all():
            worker.die("stopped", ("error", WorkerStopped("the tab stopped leading")))
        self._workers = {}

    # -- extras ------------------------------------------------------------------------
    async def warm(self, script):
        """Start a worker of ``script`` unless one runs; wait until it is ready. Returns
        its start time in seconds. Raises ``WorkerCrashed`` if it fails to start."""
        url = self.resolve(script)
        for worker in self._workers.get(url, []):
            if worker.state == "ready":
                return worker.start_seconds
        worker = self._acquire(url)
        value = await worker.ready.wait()
        if value is not True:
            raise WorkerCrashed(f"worker {self.display(url)} {value}")
        return worker.start_seconds

    def running(self):
        """``{script URL: number of live workers}``."""
        out = {}
        for url in self._workers:
            out[url] = len(self._workers[url])
        return out

    def resolve(self, script):
        """The absolute URL of a worker script given as a URL relative to the page or as
        the id of a ``<script class="webworker" src=...>`` element."""
        document = scope.document
        element = document.getElementById(script)
        if not is_nullish(element) and element.tagName == "SCRIPT":
            src = element.getAttribute("src")
            if is_nullish(src) or not src:
                raise ValueError(f"worker script element #{script} has no src: inline "
                                 "worker sources are not supported, use src=")
            return scope.URL.new(src, document.baseURI).href
        return scope.URL.new(script, document.baseURI).href

    def display(self, url):
        """A short name of a worker script URL for messages."""
        origin = scope.location.origin
        return url[len(origin):] if url.startswith(origin + "/") else url

    # -- internals -----------------------------------------------------------------------
    def _all(self):
        out = []
        for url in self._workers:
            out.extend(self._workers[url])
        return out

    def _forget(self, worker):
        workers = self._workers.get(worker.script)
        if workers is not None and worker in workers:
            workers.remove(worker)
            if not workers:
                del self._workers[worker.script]

    def _acquire(self, url):
        """An idle worker of ``url`` (a started one first), else a new one."""
        idle = None
        for worker in self._workers.get(url, []):
            if worker.job is None and worker.state != "dead":
                if worker.state == "ready":
                    return worker
                idle = idle or worker
        if idle is not None:
            return idle
        worker = _Worker(self, url)
        self._workers.setdefault(url, []).append(worker)
        jsenv.spawn(self._launch(worker), f"starting worker {self.display(url)}")
        return worker

    async def _launch(self, worker):
        try:
            boot = await self._boot_url(worker.script)
        except Exception as exc:
            worker.die(f"could not load: {type(exc).__name__}: {exc}")
            return
        if worker.state == "dead":
            return  # stopped while the script loaded
        try:
            js = scope.Worker.new(boot, to_js({"name": "brython_jobs " +
                                               self.display(worker.script)}))
        except Exception as exc:
            worker.die(f"could not start: {type(exc).__name__}: {exc}")
            return
        worker.attach(js)

    async def _boot_url(self, url):
        boot = self._boot_urls.get(url)
        if boot is not None:
            return boot
        cache = scope.__BRYTHON__.get_page_option("cache") is True
        response = await scope.fetch(url, to_js({"cache": "default" if cache
                                                 else "no-cache"}))
        if not response.ok:
            raise FileNotFoundError(f"{url}: HTTP {response.status}")
        source = await response.text()
        blob = scope.Blob.new(to_js([self._bootstrap(url, source)]),
                              to_js({"type": "text/javascript"}))
        boot = scope.URL.createObjectURL(blob)
        self._boot_urls[url] = boot
        return boot

    def _bootstrap(self, url, source):
        brython = scope.__BRYTHON__
        return bootstrap({
            "PATH": brython.brython_path,
            "SCRIPTS": self._scripts(),
            "PROTOCOL": PROTOCOL,
            "DOMAIN": scope.location.origin,
            "OPTIONS": self._options(url),
            "SOURCE": source.replace("\r\n", "\n"),
            "URL": url,
        }, javascript.JSON.stringify)

    def _scripts(self):
        """Brython's files the page loaded, the core first: worker importScripts them."""
        elements = scope.document.querySelectorAll("script[src]")
        srcs = [elements.item(i).src for i in range(elements.length)]
        return worker_scripts(srcs, scope.__BRYTHON__.brython_path, self.scripts)

    def _options(self, url):
        brython = scope.__BRYTHON__
        page = {}
        for key in OPTIONS:
            value = brython.get_page_option(key)
            if not is_nullish(value):
                page[key] = to_py(value)
        pythonpath = brython.get_page_option("pythonpath")
        path = worker_pythonpath(
            None if is_nullish(pythonpath) else to_py(pythonpath), scope.location.origin,
            scope.URL.new(".", scope.document.baseURI).href, scope.URL.new(".", url).href,
            lambda entry, base: scope.URL.new(entry, base).href)
        return worker_options(page, path, is_webkit(str(scope.navigator.userAgent)))
