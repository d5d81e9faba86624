"""The public facade: ``JobQueue``, used from page code (see the README and API.md).

It wires the core to one ``Runtime`` (runtime.py) and one ``Store``: the engine
(engine.py) makes every change in one store transaction, the leadership (leadership.py)
elects one tab, the dispatcher (dispatcher.py) runs its loop in that tab, and the bus
(bus.py) carries events between tabs. In the browser the runtime is ``BrowserRuntime``
and the store ``IndexedDBStore``; under CPython the simulator in ``tests/sim`` passes its
own, so the very same code runs in both. This module decides nothing about dispatch or
leadership: it validates input, keeps the callbacks and turns calls into core calls.
"""

from .bus import Bus
from .alarm import LeaderAlarm
from .errors import StorageUnavailable
from .dispatcher import Dispatcher
from .engine import Config, Engine, job_spec
from .events import Events, JOB_EVENTS, Observers
from .leadership import Leadership
from .outcomes import Handler, check_handler
from .queue_control import QueueControl
from .records import Job, check_name
from .stall import within

OPEN_TIMEOUT = 30.0  # seconds start() waits for the database to open


class JobQueue(QueueControl):
    """A durable job queue shared by every tab of the origin that uses the same ``name``.

    ``retries``: extra attempts after a failed one. Retry delay:
    ``backoff * 2 ** (attempt - 1)`` seconds capped at ``backoff_max``, minus up to 10%
    jitter. ``keep_completed`` / ``keep_failed``: seconds completed / failed and
    cancelled jobs are kept (None: forever). ``leader_silence``: seconds of heartbeat
    silence after which a visible follower replaces the leader. ``concurrency``: how many
    queues may run a job at the same time. ``store``/``runtime``: the storage and the
    environment (default: IndexedDB and the browser).
    """

    def __init__(self, name, retries=3, backoff=2.0, backoff_max=300.0,
                 keep_completed=86400.0, leader_silence=10.0, concurrency=4, store=None,
                 keep_failed=None, runtime=None, persist=False):
        check_name(name, "name")
        self.name = name
        self.config = Config(retries, backoff, backoff_max, keep_completed, leader_silence,
                             concurrency, keep_failed=keep_failed)
        if runtime is None:
            from .browser_runtime import BrowserRuntime
            runtime = BrowserRuntime()
        self.runtime = runtime
        self.tab_id = runtime.new_id()
        if store is None:
            from .idb_store import IndexedDBStore
            store = IndexedDBStore(
                "brython_jobs." + name, on_closed=self._storage_closed,
                on_blocked=lambda: runtime.warn(f"opening queue {name} waits for another "
                                                "tab to close an older version"))
        self.store = store
        self.persist = persist            # ask for persistent storage at start()
        self.engine = Engine(store, runtime.now, runtime.random, runtime.new_id, self.config)
        self._handlers = {}
        self._observers = Observers(runtime.monotonic, runtime.report)
        self._observers.attach(self.engine)
        self._events = Events(runtime, self._observers)
        self._events.watch(self._react)
        self.is_leader = False
        self.started = False
        self._bus = None
        self._opened = runtime.future()   # resolved by start(): triggers wait for it
        self._workers = None              # WorkerPool, made on first use in the leader
        self._leadership = Leadership(
            runtime, self.engine, "brython_jobs." + name + ".leader", self.tab_id,
            leader_silence, self._leadership_changed,
            idle=lambda: not self._dispatcher.running,
            ask_handover=lambda epoch: self._post("handover", {"epoch": epoch}),
            ping=lambda epoch: self._post("ping", {"epoch": epoch}),
            pong=lambda epoch: self._post("pong", {"epoch": epoch}),
            say_visibility=lambda epoch, hidden: self._post(
                "visibility", {"epoch": epoch, "hidden": hidden}))
        self._dispatcher = Dispatcher(runtime, self.engine, store, self.config,
                                      self._handlers, self._emit, self._leadership,
                                      self._worker_pool)
        self._alarm = LeaderAlarm(runtime, self._alarm_due, self._changed)

    # -- registration ----------------------------------------------------------------
    def handler(self, name, queue=None, retries=None, timeout=None, backoff=None,
                worker=None):
        """Decorator registering the function that runs jobs called ``name``.

        ``queue``: default queue of such jobs; ``retries``: default extra attempts;
        ``timeout``: seconds an attempt may run before it fails with ``timeout``;
        ``backoff``: this handler's base retry delay; ``worker``: run the job in a web
        worker instead of the page (see workers.py): the decorated function then only
        names the job, the worker script registers the code that runs it."""
        check_handler(name, queue, retries, timeout, backoff, worker)

        def register(fn):
            self._handlers[name] = Handler(fn, name, queue, retries, timeout, backoff,
                                           worker)
            fn.debounced = lambda wait, max_wait=None, queue=None, key=None, priority=0: \
                self.debounced(name, wait, max_wait, queue, key, priority)
            fn.throttled = lambda interval, queue=None, key=None, priority=0: \
                self.throttled(name, interval, queue, key, priority)
            return fn
        return register

    def on(self, event, callback):
        """Call ``callback(job)`` on a job event in any tab (``leader``: a bool)."""
        return self._events.on(event, callback)

    def off(self, event, callback):
        """Remove a callback added with ``on``."""
        self._events.off(event, callback)

    def observe(self, callback):
        """Call ``callback(operation, seconds)`` after each core operation of this tab
        (``enqueue_many``, ``claim_next``, ``complete``...: the awaited store
        transaction) and each delivery of an event to its ``on`` callbacks
        (``"event:completed"``...). Costs nothing while nobody observes. Returns
        ``callback``."""
        return self._observers.add(callback)

    def unobserve(self, callback):
        """Remove an observer added with ``observe``."""
        self._observers.remove(callback)

    # -- lifecycle -------------------------------------------------------------------
    async def start(self, lead=True):
        """Open the store and join the leader election; idempotent. ``lead=False``: only
        watch and control (events, list, cancel...) and never join the election, so a
        page without the handlers (the standalone inspector) never runs or fails a job."""
        if self.started:
            return
        if not self.runtime.preloadable("brython_jobs.jobqueue"):
            self._preload()
        # An open the browser never answers (Safari 14 was known for it) must not leave
        # start() waiting forever: it raises, and start() may be called again.
        await within(self.runtime, OPEN_TIMEOUT, self.store.open(), StorageUnavailable(
            f"queue {self.name}: the database did not open within {OPEN_TIMEOUT:.0f} s "
            "(the browser never answered; another tab may hold an old connection)",
            "Timeout"))
        if self.persist:
            await self._ask_persist()
        self._bus = Bus(self.runtime, "brython_jobs." + self.name, self.tab_id,
                        self._on_message)
        self.started = True
        if self._opened is not None:  # (None when started again after stop())
            self._opened.set_result(True)
            self._opened = None
        if lead:
            self._leadership.join()
        if self._uses_workers():
            self.runtime.idle(self._preload_workers)

    async def stop(self):
        """Leave the election and stop dispatching. Jobs this tab was running are rerun
        by the next leader."""
        if not self.started:
            return
        self.started = False
        await self._leadership.stop()
        self._close_bus()

    def _storage_closed(self):
        self.runtime.warn(f"queue {self.name}: another tab upgraded the database; this "
                          "tab closed its connection and stopped. Reload to continue.")
        self.started = False
        self._leadership.close()
        self._close_bus()
        self._emit_local("closed", True)

    def _close_bus(self):
        if self._bus is not None:
            self._bus.close()
            self._bus = None

    def _leadership_changed(self, epoch):
        if epoch is not None:
            self.is_leader = True
            self._alarm.stop()
            self._dispatcher.start(epoch)
            self._emit_local("leader", True)
            return
        was = self.is_leader
        self.is_leader = False
        self._dispatcher.stop()
        if self._workers is not None:
            self._workers.stop_all()  # workers run only in the leader tab
        if was:
            self._emit_local("leader", False)

    def _post(self, kind, data=None):
        if self._bus is not None:
            self._bus.post(kind, data)

    def _preload(self):
        # The package comes from static .py files, which Brython imports with a
        # synchronous request, and Firefox runs the page's other callbacks during one: a
        # coroutine suspended elsewhere (the leader election's) resumes inside the import
        # and Brython's frames break (UnboundLocalError there; the tab then never leads).
        # So everything loaded on first use is imported here, before this queue has any
        # coroutine in flight. A script-tag bundle imports with no request: then those
        # modules still load on first use (or in idle time).
        from . import triggers, admin  # noqa: F401
        if self._uses_workers():
            from . import workers  # noqa: F401
        self.store.preload()

    def _uses_workers(self):
        return any(h.worker is not None for h in self._handlers.values())

    def _preload_workers(self):
        # A handler names a worker: load workers.py while the page is idle, not on the
        # first worker job, which it would stall (~150 ms in Chromium when compiled).
        if self.started and self.runtime.preloadable("brython_jobs.workers"):
            self._worker_pool()

    def _worker_pool(self, create=True):
        if self._workers is None and create:
            from .workers import WorkerPool  # imported only by pages that use workers
            self._workers = WorkerPool(self)
        return self._workers

    # -- events ----------------------------------------------------------------------
    def _emit(self, event, rec):
        """A job event: callbacks in this tab, then the other tabs over the bus."""
        self._emit_local(event, rec)
        if self._bus is not None:
            self._bus.post_event({"event": event, "job": rec})

    def _emit_local(self, event, value):
        self._events.fire(event, value)

    def _react(self, event, rec):
        # The leader's dispatcher follows job events from every tab; a follower keeps
        # their due times to wake a hidden leader.
        if self.is_leader:
            if event == "cancelled":
                self._dispatcher.cancelled(rec["id"], rec.get("claim"))
            elif event == "enqueued":
                self._dispatcher.hint(rec)
        else:
            self._alarm.note(rec)

    def _alarm_due(self):
        return not self.is_leader and self._leadership.leader_hidden \
            and self.runtime.visible()

    def _on_message(self, message):
        kind = message["type"]
        if kind == "event" or kind == "events":
            items = message["data"] if kind == "events" else [message["data"]]
            for data in items:
                if data["event"] in JOB_EVENTS:
                    self._emit_local(data["event"], data["job"])
        elif kind == "paused":
            self._dispatcher.paused_changed()
        elif kind == "wake":
            self._dispatcher.wake()
        elif kind == "handover":
            self._leadership.handover_requested(message["data"]["epoch"])
        elif kind == "ping":
            self._leadership.pinged(message["data"]["epoch"])
        elif kind == "pong":
            self._leadership.ponged(message["data"]["epoch"])
        elif kind == "visibility":
            data = message["data"]
            self._leadership.leader_visibility(data["epoch"], data.get("hidden") is True)

    def _changed(self):
        """After a write from this tab that the leader must see."""
        if self.is_leader:
            self._dispatcher.wake()
        else:
            self._post("wake")

    # -- enqueue ---------------------------------------------------------------------
    def _spec(self, name, payload=None, queue=None, priority=0, delay=None, run_at=None,
              ttl=None, on_expire="fail", retries=None, key=None):
        handler = self._handlers.get(name) if type(name) is str else None
        default_queue = handler.queue if handler is not None else None
        default_retries = self.config.retries
        if handler is not None and handler.retries is not None:
            default_retries = handler.retries
        return job_spec(name, payload, queue, priority, delay, run_at, ttl, on_expire,
                        retries, key, self.runtime.now(), default_queue, default_retries)

    async def enqueue(self, name, payload=None, queue=None, priority=0, delay=None,
                      run_at=None, ttl=None, on_expire="fail", retries=None, key=None):
        """Add a job; durable once this returns. Returns the ``Job`` (the existing
        pending one when ``key`` matches one). Bad input raises before any write."""
        spec = self._spec(name, payload, queue, priority, delay, run_at, ttl, on_expire,
                          retries, key)
        out = await self._insert([spec])
        return out[0]

    async def enqueue_many(self, jobs):
        """Add several jobs in one transaction: ``jobs`` is a list of dicts with
        ``enqueue``'s arguments (``name`` required). Returns their ``Job``s in order."""
        specs = []
        for item in jobs:
            if type(item) is not dict or "name" not in item:
                raise TypeError("enqueue_many takes a list of dicts with a 'name'")
            specs.append(self._spec(**item))
        return await self._insert(specs)

    async def _insert(self, specs):
        self._require_started()
        held = self._dispatcher.reserve(specs) if self.is_leader else None
        claimed = None
        if held is None:
            pairs = await self.engine.enqueue_many(specs)
        else:
            # The leader tab claims a due job of an idle queue in the enqueue's own
            # transaction (the core decides whether a dispatch would pick it).
            try:
                pairs, claimed = await self.engine.enqueue_and_claim(
                    specs, held[0], held[1], held[2])
            except BaseException:
                self._dispatcher.reserved(held, None)
                raise
            if claimed is None:
                self._dispatcher.reserved(held, None)
        out = []
        for pair in pairs:
            if pair[1]:
                self._emit("enqueued", pair[0])
            out.append(Job(pair[0]))
        if claimed is not None:
            self._dispatcher.reserved(held, claimed)  # "started" follows "enqueued"
        return out

    def _require_started(self):
        if not self.started:
            raise RuntimeError(f"queue {self.name} is not started: await jobs.start() first")

    # -- pausing (the facade tells the leader; QueueControl has the rest) ---------
    async def pause(self, queue):
        """Stop starting jobs of ``queue`` (in every tab, across reloads)."""
        await self._set_paused(queue, True)

    async def resume(self, queue):
        """Start jobs of ``queue`` again."""
        await self._set_paused(queue, False)

    async def _set_paused(self, queue, paused):
        self._require_started()
        await self.engine.set_paused(queue, paused)
        # stop() may have closed the channel meanwhile: the write has landed, and the
        # leader re-reads the paused set on its own (heartbeat, claim transaction).
        self._post("paused")
        self._dispatcher.paused_changed()

    # -- triggers --------------------------------------------------------------------
    def debounced(self, name, wait, max_wait=None, queue=None, key=None, priority=0):
        """A callable trigger: a burst of calls (from any tab) becomes one job that runs
        ``wait`` seconds after the last call, at most ``max_wait`` after the first."""
        from .triggers import Trigger  # only pages that use triggers pay for the module
        return Trigger(self.runtime, self._write_trigger, "debounce", name, wait, max_wait,
                       queue, key, priority)

    def throttled(self, name, interval, queue=None, key=None, priority=0):
        """A callable trigger: at most one start per ``interval``; the first call runs at
        once, later calls inside the interval give one trailing run (latest payload)."""
        from .triggers import Trigger
        return Trigger(self.runtime, self._write_trigger, "throttle", name, interval, None,
                       queue, key, priority)

    async def _write_trigger(self, kind, name, payload, queue, priority, key, first,
                             last, period, max_wait):
        """One batch of trigger calls (triggers.py): waits until ``start()`` has opened
        the store, so calls made before it are kept, then writes. Returns the record."""
        if self._opened is not None:
            await self._opened
        spec = self._spec(name, payload, queue, priority, key=key)
        if kind == "debounce":
            rec, created = await self.engine.debounce(spec, first, last, period, max_wait)
        else:
            rec, created = await self.engine.throttle(spec, period)
        if created:
            self._emit("enqueued", rec)
        else:
            self._changed()
        return rec

    # -- storage (added) ------------------------------------------------------------
    async def _ask_persist(self):
        # A refusal is the browser's answer, not an error: the queue works either way
        # (storage() tells); only an unexpected failure of the call is reported.
        try:
            if not await self.runtime.persist():
                self.runtime.warn(f"queue {self.name}: the browser did not make this "
                                  "origin's storage persistent; it may be evicted")
        except Exception as exc:
            self.runtime.report("navigator.storage.persist()", exc)

    async def storage(self):
        """This origin's storage: ``{"usage": bytes, "quota": bytes, "persisted":
        bool}`` (``persisted``: the browser will not evict it under storage pressure;
        ask for it with ``JobQueue(..., persist=True)``)."""
        return await self.runtime.storage_estimate()
