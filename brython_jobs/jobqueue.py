"""The public facade: ``JobQueue``, used from page code (see the README and API.md).

It wires the pure core (engine.py) to the browser adapters: the IndexedDB store
(idb_store.py), leader election over Web Locks (leader.py), the BroadcastChannel bus
(bus.py) and timers (jsenv.py). Every tab creates the same ``JobQueue`` and registers the
same handlers; the one leader tab runs the dispatch loop.
"""

from . import jsenv
from .bus import Bus
from .engine import Config, Engine, Fenced, job_spec
from .idb_store import IndexedDBStore
from .leader import LeaderElection
from .records import (
    Job, FINISHED, FAILED, PENDING, HANDLER_ERROR, TIMEOUT, NO_HANDLER,
    check_name, check_number, check_payload,
)
from .transitions import StaleWrite

EVENTS = ("enqueued", "started", "progress", "completed", "failed", "cancelled",
          "retrying", "leader", "closed")
JOB_EVENTS = ("enqueued", "started", "progress", "completed", "failed", "cancelled",
              "retrying")


class RunningJob(Job):
    """The job a handler receives: a ``Job`` plus ``attempt`` (1 for the first) and
    ``update_progress``."""

    def __init__(self, rec, queue, epoch):
        Job.__init__(self, rec)
        self.attempt = rec["attempts"]
        self._rec = rec
        self._jobs = queue
        self._epoch = epoch
        self.cancelled = False

    async def update_progress(self, fraction, message=None):
        """Store ``progress = {"fraction": fraction, "message": message}``; every tab
        gets a ``progress`` event. Ignored once the attempt was cancelled or timed out."""
        if self.cancelled:
            return
        try:
            rec = await self._jobs._engine.progress(self._rec, self._epoch, fraction, message)
        except StaleWrite:
            return
        except Fenced:
            self._jobs._lost_leadership()
            return
        self.progress = rec["progress"]
        self._jobs._emit("progress", rec)


class Handler:
    """A registered handler: the function (or the worker script that has it) and its
    defaults."""

    def __init__(self, fn, name, queue, retries, timeout, backoff, worker=None):
        self.fn = fn
        self.name = name
        self.queue = queue
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.worker = worker


class JobQueue:
    """A durable job queue shared by every tab of the origin that uses the same ``name``.

    ``retries``: extra attempts after a failed one. Retry delay:
    ``backoff * 2 ** (attempt - 1)`` seconds capped at ``backoff_max``, minus up to 10%
    jitter. ``keep_completed``: seconds completed jobs are kept (None: forever).
    ``leader_silence``: seconds without a leader heartbeat after which a follower takes
    over. ``concurrency``: how many queues may run a job at the same time.
    """

    def __init__(self, name, retries=3, backoff=2.0, backoff_max=300.0,
                 keep_completed=86400.0, leader_silence=10.0, concurrency=4, store=None):
        check_name(name, "name")
        self.name = name
        self.config = Config(retries, backoff, backoff_max, keep_completed, leader_silence,
                             concurrency)
        self.tab_id = jsenv.scope.crypto.randomUUID()
        self.store = store if store is not None else IndexedDBStore(
            "brython_jobs." + name, on_closed=self._storage_closed,
            on_blocked=lambda: jsenv.warn(f"opening queue {name} waits for another tab "
                                          "to close an older version"))
        self._engine = Engine(self.store, jsenv.now, jsenv.random, jsenv.new_id, self.config)
        self._handlers = {}
        self._listeners = {}
        self._watchers = []
        self.is_leader = False
        self.started = False
        self._bus = None
        self._election = None
        self._epoch = None
        self._signal = jsenv.Signal()
        self._full_pass = True   # False: only enqueue hints woke the dispatcher
        self._hints = {}         # queue -> (due, expires_at) of jobs enqueued since
        self._wake_at = None     # when the last full pass planned to look again
        self._running = {}       # queue -> RunningJob
        self._paused = set()
        self._heartbeat_timer = None
        self._watchdog_timer = None
        self._next_purge = 0
        self._workers = None      # WorkerPool, created on first use in the leader

    # -- registration ----------------------------------------------------------------
    def handler(self, name, queue=None, retries=None, timeout=None, backoff=None,
                worker=None):
        """Decorator registering the function that runs jobs called ``name``.

        ``queue``: default queue of such jobs; ``retries``: default extra attempts;
        ``timeout``: seconds an attempt may run before it fails with ``timeout``;
        ``backoff``: this handler's base retry delay; ``worker``: run the job in a web
        worker instead of the page (see workers.py): the decorated function then only
        names the job, the worker script registers the code that runs it."""
        check_name(name, "name")
        if queue is not None:
            check_name(queue, "queue")
        if retries is not None and (type(retries) is not int or retries < 0):
            raise ValueError(f"retries must be an int >= 0, not {retries!r}")
        check_number(timeout, "timeout", minimum=0)
        check_number(backoff, "backoff", minimum=0)
        if worker is not None:
            check_name(worker, "worker")

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
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {', '.join(EVENTS)}")
        self._listeners.setdefault(event, []).append(callback)
        return callback

    def off(self, event, callback):
        """Remove a callback added with ``on``."""
        callbacks = self._listeners.get(event, [])
        if callback in callbacks:
            callbacks.remove(callback)

    # -- lifecycle -------------------------------------------------------------------
    async def start(self):
        """Open the store and join the leader election; idempotent."""
        if self.started:
            return
        await self.store.open()
        self._bus = Bus("brython_jobs." + self.name, self.tab_id, self._on_message)
        self._election = LeaderElection("brython_jobs." + self.name + ".leader",
                                        self._leadership_changed)
        self.started = True
        self._election.join()
        self._arm_watchdog()

    async def stop(self):
        """Leave the election and stop dispatching. Jobs this tab was running are rerun
        by the next leader."""
        if not self.started:
            return
        self.started = False
        jsenv.cancel_call(self._watchdog_timer)
        epoch = self._epoch
        if epoch is not None:
            self._end_leading()
            try:
                await self._engine.resign(epoch)
            except Exception as exc:
                jsenv.report("resigning", exc)
        self._election.resign()
        self._bus.close()
        self._bus = None

    def _storage_closed(self):
        jsenv.warn(f"queue {self.name}: another tab upgraded the database; this tab "
                   "closed its connection and stopped. Reload to continue.")
        self.started = False
        jsenv.cancel_call(self._watchdog_timer)
        self._end_leading()
        if self._election is not None:
            self._election.resign()
        if self._bus is not None:
            self._bus.close()
            self._bus = None
        self._emit_local("closed", True)

    # -- leadership ------------------------------------------------------------------
    def _leadership_changed(self, leading):
        if leading:
            jsenv.spawn(self._lead(), "leading")
        else:
            self._end_leading()

    def _end_leading(self):
        was = self.is_leader
        self._epoch = None
        self.is_leader = False
        jsenv.cancel_call(self._heartbeat_timer)
        for queue in list(self._running):
            self._running[queue].cancelled = True
        self._running = {}
        if self._workers is not None:
            self._workers.stop_all()  # workers run only in the leader tab
        self._wake()
        if was:
            self._emit_local("leader", False)

    def _lost_leadership(self):
        if self._epoch is not None:
            jsenv.warn(f"queue {self.name}: another tab took over as leader; stepping down")
            self._end_leading()
            if self._election is not None:
                self._election.step_down()

    async def _lead(self):
        try:
            await self._leading()
        except Exception:
            if self.started:
                raise
            # stop() or a schema upgrade closed the store under us: nothing to report

    async def _leading(self):
        epoch = await self._engine.become_leader(self.tab_id)
        if not self.started or not self._election.is_leader:
            return
        self._epoch = epoch
        self.is_leader = True
        self._emit_local("leader", True)
        # become_leader just wrote the first heartbeat; the next is due a period later
        self._heartbeat_timer = jsenv.call_later(self.config.leader_silence / 4, self._beat)
        try:
            self._paused = await self._engine.paused()
            for rec in await self._engine.recover(epoch):
                self._emit(rec["status"] if rec["status"] == FAILED else "retrying", rec)
            await self._engine.ensure_schedules()
        except Fenced:
            self._lost_leadership()
            return
        await self._dispatch_loop(epoch)

    def _beat(self):
        epoch = self._epoch
        if epoch is None:
            return

        async def beat():
            try:
                await self._engine.heartbeat(epoch)
            except Fenced:
                self._lost_leadership()
            except Exception:
                if self.started:
                    raise  # else the store was closed meanwhile: nothing to report
        jsenv.spawn(beat(), "heartbeat")
        self._heartbeat_timer = jsenv.call_later(self.config.leader_silence / 4, self._beat)

    def _arm_watchdog(self):
        # Followers check the leader's heartbeat; a leader that stayed silent longer than
        # leader_silence (a frozen tab keeps its lock forever) has its lock stolen.
        period = self.config.leader_silence / 2 * (0.8 + 0.4 * jsenv.random())
        self._watchdog_timer = jsenv.call_later(period, self._watch)

    def _watch(self):
        if not self.started:
            return
        jsenv.spawn(self._check_leader(), "leader watchdog")
        self._arm_watchdog()

    async def _check_leader(self):
        if self.is_leader or self._election is None:
            return
        try:
            info = await self._engine.leader_info()
        except Exception:
            if self.started:
                raise
            return  # the store was closed meanwhile
        if info is None or info.get("beat") is None:
            return  # no leader or a resigned one: the lock queue hands over by itself
        if self._engine.leader_is_silent(info, jsenv.now()) \
                and await self._election.holder_exists():
            jsenv.warn(f"queue {self.name}: leader silent for more than "
                       f"{self.config.leader_silence}s; taking over")
            self._election.steal()

    # -- dispatching -----------------------------------------------------------------
    async def _dispatch_loop(self, epoch):
        while self._epoch == epoch:
            wake_at = None
            try:
                wake_at = await self._dispatch_pass(epoch)
            except Fenced:
                self._lost_leadership()
                return
            except Exception as exc:
                if not self.started:
                    return  # stopped, or the store was closed by a schema upgrade
                jsenv.report("dispatch", exc)
                wake_at = jsenv.now() + 1.0  # retry soon rather than spin
            if self._epoch != epoch:
                return
            timeout = None if wake_at is None else max(0.0, wake_at - jsenv.now())
            if not await self._signal.wait(timeout):
                self._full_pass = True  # the timer fired: something is due

    def _wake(self):
        """Make the dispatcher run a full pass (read the overview) soon."""
        self._full_pass = True
        self._signal.set()

    def _hint(self, rec):
        """A job was enqueued: the dispatcher may claim it without a full pass."""
        self._hints[rec["queue"]] = (rec["run_at"], rec.get("expires_at"))
        self._signal.set()

    async def _hinted_pass(self, epoch):
        """Only new jobs woke the dispatcher: claim in their queues directly, skipping
        the overview read (enqueue to start is then two transactions, not three)."""
        hints, self._hints = self._hints, {}
        now = jsenv.now()
        wake_at = self._wake_at
        for queue in hints:
            due, expires_at = hints[queue]
            if expires_at is not None and (wake_at is None or expires_at + 0.001 < wake_at):
                wake_at = expires_at + 0.001  # it may expire waiting behind others
            if queue in self._running or queue in self._paused \
                    or len(self._running) >= self.config.concurrency:
                continue  # finishing the running job, or resume, takes care of it
            if due <= now:
                await self._claim(queue, epoch)
            elif wake_at is None or due < wake_at:
                wake_at = due
        self._wake_at = wake_at
        return wake_at

    async def _dispatch_pass(self, epoch):
        if not self._full_pass and self._hints:
            return await self._hinted_pass(epoch)
        self._full_pass = False
        self._hints = {}
        now = jsenv.now()
        queues, wake_at, expired = await self._engine.overview(set(self._running),
                                                               self._paused)
        if expired:
            for rec in await self._engine.sweep_expired():
                self._emit(rec["status"], rec)
        keep = self.config.keep_completed
        if keep is not None:
            if now >= self._next_purge:
                await self._engine.purge_completed()
                # Often enough that nothing outlives keep_completed by much, rarely
                # enough that an idle leader stays idle.
                self._next_purge = now + max(1.0, min(60.0, keep / 2))
            if wake_at is None or self._next_purge < wake_at:
                wake_at = self._next_purge
        claimed_any = False
        for queue in queues:
            if await self._claim(queue, epoch):
                claimed_any = True
        if expired or (queues and not claimed_any):
            # The plan went stale (jobs expired, a queue was paused meanwhile): look
            # again at once instead of sleeping on it.
            self._full_pass = True
            return jsenv.now()
        self._wake_at = wake_at
        return wake_at

    async def _claim(self, queue, epoch):
        """Claim and start the next due job of ``queue``; True if one started."""
        claimed, gone = await self._engine.claim_next(queue, epoch)
        for rec in gone:
            self._emit(rec["status"], rec)
        if claimed is None:
            return False
        self._start_job(claimed, epoch)
        return True

    def _start_job(self, rec, epoch):
        job = RunningJob(rec, self, epoch)
        self._running[rec["queue"]] = job
        self._emit("started", rec)
        jsenv.spawn(self._run(job, epoch), f"running job {rec['id']}")

    async def _run(self, job, epoch):
        """Run ``job``, then each next job of its queue that finishing it claimed, while
        this runner still owns the queue's slot (a cancel or a lost leadership frees it)."""
        queue = job.queue
        current = job
        try:
            while self._epoch == epoch:
                nxt = await self._run_one(current, epoch)
                if nxt is None or self._running.get(queue) is not current:
                    break  # a claimed job left behind is recovered by the next leader
                self._running[queue] = nxt
                self._emit("started", nxt._rec)
                current = nxt
        finally:
            if self._running.get(queue) is current:
                del self._running[queue]
            self._wake()

    async def _run_one(self, job, epoch):
        """One attempt: call the handler, record the outcome and claim the queue's next
        due job in the same transaction. Returns that next job (a RunningJob) or None."""
        rec = job._rec
        handler = self._handlers.get(rec["name"])
        try:
            if handler is None:
                new, nxt, gone = await self._engine.fail(
                    rec, epoch, NO_HANDLER,
                    f"no handler for {rec['name']!r} is registered in the leader tab",
                    final=True, claim_next=True)
            else:
                outcome = await self._call(handler, job)
                if job.cancelled and outcome[0] != "timeout":
                    return None
                if outcome[0] == "ok":
                    try:
                        check_payload(outcome[1], "result")
                    except TypeError as exc:
                        outcome = ("error", exc)
                if outcome[0] == "ok":
                    new, nxt, gone = await self._engine.complete(rec, epoch, outcome[1],
                                                                 claim_next=True)
                elif outcome[0] == "timeout":
                    job.cancelled = True
                    new, nxt, gone = await self._engine.fail(
                        rec, epoch, TIMEOUT,
                        f"attempt {job.attempt} ran longer than {handler.timeout}s",
                        backoff=handler.backoff, claim_next=True)
                else:
                    exc = outcome[1]
                    message = f"{type(exc).__name__}: {exc}"
                    jsenv.warn(f"job {rec['name']} {rec['id']} attempt {job.attempt} "
                               f"failed: {message}")
                    new, nxt, gone = await self._engine.fail(
                        rec, epoch, HANDLER_ERROR, message, backoff=handler.backoff,
                        claim_next=True)
        except StaleWrite:
            return None  # cancelled, or recovered by a newer leader: outcome discarded
        except Fenced:
            self._lost_leadership()
            return None
        self._emit("retrying" if new["status"] == PENDING else new["status"], new)
        for gone_rec in gone:
            self._emit(gone_rec["status"], gone_rec)
        return None if nxt is None else RunningJob(nxt, self, epoch)

    async def _call(self, handler, job):
        """Run the handler; ``("ok", result)``, ``("error", exc)`` or ``("timeout",)``."""
        if handler.worker is not None:
            return await self._worker_pool().run(handler, job)
        outcome = {}

        async def body():
            try:
                result = handler.fn(job)
                if jsenv.is_awaitable(result):
                    result = await result
                outcome["value"] = ("ok", result)
            except Exception as exc:
                outcome["value"] = ("error", exc)

        def executor(resolve, reject):
            async def run():
                await body()
                resolve(True)
            jsenv.aio.run(run())
            if handler.timeout is not None:
                jsenv.call_later(handler.timeout, lambda: resolve(False))
        await jsenv.scope.Promise.new(executor)
        return outcome.get("value", ("timeout",))

    def _worker_pool(self):
        if self._workers is None:
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
        callbacks = self._listeners.get(event)
        if event in JOB_EVENTS:
            job = None
            if self._watchers or callbacks:  # a snapshot only for someone to read it
                job = Job(value)
            for watcher in list(self._watchers):
                watcher(event, job)
            if event == "cancelled" and self.is_leader:
                self._cancel_running(value["id"])
            if event == "enqueued" and self.is_leader and (
                    value["queue"] not in self._running or value.get("expires_at") is not None):
                # A running queue needs no pass (finishing its job claims the next one)
                # unless the new job can expire while it waits.
                self._hint(value)
            value = job
        if not callbacks:
            return
        for callback in list(callbacks):
            try:
                result = callback(value)
                if jsenv.is_awaitable(result):
                    jsenv.spawn(result, f"{event} callback")
            except Exception as exc:
                jsenv.report(f"{event} callback", exc)

    def _cancel_running(self, job_id):
        for queue in list(self._running):
            job = self._running[queue]
            if job.id == job_id:
                job.cancelled = True
                del self._running[queue]
                if self._workers is not None:
                    self._workers.cancel(job_id)  # stops the worker running it
                self._wake()

    def _on_message(self, message):
        kind = message["type"]
        if kind == "event" or kind == "events":
            items = message["data"] if kind == "events" else [message["data"]]
            for data in items:
                if data["event"] in JOB_EVENTS:
                    self._emit_local(data["event"], data["job"])
        elif kind == "paused":
            self._paused = set(message["data"]["queues"])
            self._wake()
        elif kind == "wake" and self.is_leader:
            self._wake()

    def _changed(self):
        """After a write from this tab that the leader must see."""
        if self.is_leader:
            self._wake()
        elif self._bus is not None:
            self._bus.post("wake")

    # -- enqueue ---------------------------------------------------------------------
    def _spec(self, name, payload=None, queue=None, priority=0, delay=None, run_at=None,
              ttl=None, on_expire="fail", retries=None, key=None):
        handler = self._handlers.get(name) if type(name) is str else None
        default_queue = handler.queue if handler is not None else None
        default_retries = self.config.retries
        if handler is not None and handler.retries is not None:
            default_retries = handler.retries
        return job_spec(name, payload, queue, priority, delay, run_at, ttl, on_expire,
                        retries, key, jsenv.now(), default_queue, default_retries)

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
        results = await self._engine.enqueue_many(specs)
        out = []
        for pair in results:
            if pair[1]:
                self._emit("enqueued", pair[0])
            out.append(Job(pair[0]))
        return out

    def _require_started(self):
        if not self.started:
            raise RuntimeError(f"queue {self.name} is not started: await jobs.start() first")

    # -- inspect and control ---------------------------------------------------------
    async def get(self, job_id):
        """The ``Job`` with this id, or None."""
        self._require_started()
        rec = await self.store.get(job_id)
        return None if rec is None else Job(rec)

    async def list(self, status=None, queue=None, name=None, limit=100):
        """Jobs matching every given filter, oldest first, at most ``limit`` (None: all)."""
        self._require_started()
        if status is not None and status not in ("pending", "processing", "completed",
                                                 "failed", "cancelled"):
            raise ValueError(f"unknown status {status!r}")
        recs = await self.store.query(status, queue, name, limit)
        out = []
        for rec in recs:
            out.append(Job(rec))
        return out

    async def counts(self):
        """How many jobs have each status: ``{"pending": 3, "failed": 1, ...}``."""
        self._require_started()
        return await self.store.counts()

    async def wait(self, job_id, timeout=None):
        """The ``Job`` once it is completed, failed or cancelled (run by any tab).
        Raises ``TimeoutError`` after ``timeout`` seconds, ``KeyError`` for an unknown id."""
        self._require_started()
        check_number(timeout, "timeout", minimum=0)
        signal = jsenv.Signal()
        seen = {}

        def watcher(event, job):
            if job.id == job_id and job.status in FINISHED:
                seen["job"] = job
                signal.set()
        self._watchers.append(watcher)  # before reading, so no event can slip between
        try:
            rec = await self.store.get(job_id)
            if rec is None:
                raise KeyError(job_id)
            if rec["status"] in FINISHED:
                return Job(rec)
            deadline = None if timeout is None else jsenv.now() + timeout
            while "job" not in seen:
                left = 5.0 if deadline is None else min(5.0, deadline - jsenv.now())
                if left <= 0:
                    raise TimeoutError(f"job {job_id} did not finish within {timeout}s")
                if not await signal.wait(left):
                    # A safety net: re-read the store now and then in case this tab
                    # missed an event (it was frozen, or the store changed under it).
                    rec = await self.store.get(job_id)
                    if rec is None:
                        raise KeyError(job_id)
                    if rec["status"] in FINISHED:
                        return Job(rec)
            return seen["job"]
        finally:
            self._watchers.remove(watcher)

    async def cancel(self, job_id):
        """pending or processing -> cancelled (a running handler's outcome is
        discarded). A finished job is returned unchanged. ``KeyError`` if unknown."""
        self._require_started()
        rec, changed = await self._engine.cancel(job_id)
        if changed:
            self._emit("cancelled", rec)
        return Job(rec)

    async def redrive(self, job_id):
        """failed or cancelled -> pending with attempts 0 (an ``enqueued`` event); other
        statuses are returned unchanged. ``KeyError`` if unknown."""
        self._require_started()
        rec, changed = await self._engine.redrive(job_id)
        if changed:
            self._emit("enqueued", rec)
        return Job(rec)

    async def redrive_failed(self, queue=None):
        """Redrive every failed job (of ``queue``); returns how many."""
        self._require_started()
        recs = await self._engine.redrive_failed(queue)
        for rec in recs:
            self._emit("enqueued", rec)
        return len(recs)

    async def pause(self, queue):
        """Stop starting jobs of ``queue`` (in every tab, across reloads)."""
        await self._set_paused(queue, True)

    async def resume(self, queue):
        """Start jobs of ``queue`` again."""
        await self._set_paused(queue, False)

    async def _set_paused(self, queue, paused):
        self._require_started()
        names = await self._engine.set_paused(queue, paused)
        self._paused = set(names)
        self._bus.post("paused", {"queues": names})
        self._wake()

    async def paused(self):
        """The set of paused queue names."""
        self._require_started()
        return await self._engine.paused()

    # -- recurring -------------------------------------------------------------------
    async def every(self, name, seconds, payload=None, queue=None, key=None, priority=0,
                    retries=None):
        """Run ``name`` every ``seconds``, first now. Declaring it again in any tab keeps
        one schedule (another interval updates it). Returns None."""
        self._require_started()
        handler = self._handlers.get(name) if type(name) is str else None
        rec = await self._engine.every(
            name, seconds, payload, queue, key, priority, retries,
            default_queue=handler.queue if handler is not None else None)
        if rec is not None:
            self._emit("enqueued", rec)

    async def unschedule(self, key):
        """Remove the schedule ``key`` (default key: the job name); True if it existed."""
        self._require_started()
        existed, run = await self._engine.unschedule(key)
        if run is not None:
            self._emit("cancelled", run)
        return existed

    # -- triggers --------------------------------------------------------------------
    def debounced(self, name, wait, max_wait=None, queue=None, key=None, priority=0):
        """A callable trigger: a burst of calls (from any tab) becomes one job that runs
        ``wait`` seconds after the last call, at most ``max_wait`` after the first."""
        from .triggers import Trigger  # only pages that use triggers pay for the module
        return Trigger(self, "debounce", name, wait, max_wait, queue, key, priority)

    def throttled(self, name, interval, queue=None, key=None, priority=0):
        """A callable trigger: at most one start per ``interval``; the first call runs at
        once, later calls inside the interval give one trailing run (latest payload)."""
        from .triggers import Trigger
        return Trigger(self, "throttle", name, interval, None, queue, key, priority)
