"""The leader's dispatch loop (pure): which job starts when, run slots, handler calls and
the mapping of their outcomes to store writes, over an injected ``Runtime``.

One loop per leader epoch. It sleeps on one ``Signal`` until the next due time, expiry or
purge, or until something wakes it (an enqueue in any tab, a job finishing, resume), and
at least every quarter of ``leader_silence``, when it writes the heartbeat: the heartbeat
proves that this loop makes progress.

Rules that answer faults:
- A pass that raises (a transient store error) is retried with backoff; after
  ``MAX_FAILURES`` in a row the tab gives up leadership so another tab can dispatch.
- An outcome write that fails is retried; an outcome that cannot be stored (no space)
  fails the attempt with ``storage_full``; when nothing can be written the tab gives up
  leadership, and the next leader recovers the job: it is never left ``processing``
  under a live leader.
- Enqueue hints keep the earliest due time and expiry per queue, not the last one.
- The paused set is read from the store (messages only say "look again").
- With more busy queues than slots, a finishing job hands its slot to a waiting queue
  instead of claiming its own queue's next job (round robin by last service).
- A store call of the loop, an attempt's write or a slot's enqueue that never settles
  ends the epoch after ``3 * leader_silence`` (stall.py): the tab gives leadership up
  and leads afresh, instead of leading a queue that silently stopped.
"""

from .errors import Fenced, StorageError, is_transient
from .events import job_event
from .outcomes import AttemptRunner, Reserved, RunningJob
from .picking import plan
from .runtime import Signal
from .stall import FACTOR, StallWatch

MAX_FAILURES = 6


class Dispatcher:
    """The dispatch loop of the leader tab.

    ``handlers``: {job name: Handler}; ``emit(event, record)`` reports a job event (in
    this tab and to the others); ``leadership``: the ``Leadership`` (beats, fencing,
    giving up); ``worker_pool()``: the web worker pool, made on first use.
    """

    def __init__(self, runtime, engine, store, config, handlers, emit, leadership,
                 worker_pool=None):
        self._rt = runtime
        self._engine = engine
        self._store = store
        self._config = config
        self._emit = emit
        self._leadership = leadership
        self._worker_pool = worker_pool
        self.epoch = None
        self.running = {}          # queue -> RunningJob
        self._signal = Signal(runtime)
        self._stall = None
        self._attempts = AttemptRunner(runtime, engine, handlers, emit, leadership,
                                       worker_pool)
        self._reset()

    def _reset(self):
        self._ready = False        # recovery done: no earlier epoch's job holds a queue
        self._full_pass = True     # False: only enqueue hints woke the loop
        self._hints = {}           # queue -> [earliest due, earliest expiry] since
        self._wake_at = None       # when the last full pass planned to look again
        self._paused = set()
        self._paused_stale = True  # re-read the paused set before the next pass
        self._next_purge = 0
        self._failures = 0
        self._stale_passes = 0
        self._waiting = []         # due queues that found no free slot
        self._served = {}          # queue -> tick of its last finished job
        self._tick = 0
        self._last_beat = None
        self._busy_since = None    # monotonic start of the loop's store call in flight
        # queue -> token of this epoch's claim_next in flight (an earlier epoch's claim
        # still in flight holds no slot once a new epoch starts)
        self._claiming = {}

    # -- control ----------------------------------------------------------------------
    def start(self, epoch):
        """Start the loop for ``epoch`` (this tab just became leader)."""
        self.stop()
        self._reset()
        self.epoch = epoch
        self._rt.spawn(self._loop(epoch), "dispatching")
        self._stall = StallWatch(self._rt, FACTOR * self._config.leader_silence,
                                 self._oldest_call, lambda waited: self._stalled(epoch,
                                                                                 waited))

    def stop(self):
        """Stop the loop; running attempts are abandoned (their outcome is refused)."""
        self.epoch = None
        if self._stall is not None:
            self._stall.stop()
            self._stall = None
        for queue in list(self.running):
            self.running[queue].cancelled = True
        self.running = {}
        self._signal.set()

    def wake(self):
        """Run a full pass (read the overview) soon."""
        self._full_pass = True
        self._signal.set()

    def paused_changed(self):
        """Another tab paused or resumed a queue: re-read the paused set."""
        self._paused_stale = True
        self.wake()

    def hint(self, rec):
        """A job was enqueued: the loop may claim it without a full pass."""
        if self.epoch is None:
            return
        queue = rec["queue"]
        if queue in self.running and rec.get("expires_at") is None:
            return  # finishing the running job claims the next one
        due, expires = rec["run_at"], rec.get("expires_at")
        old = self._hints.get(queue)
        if old is None:
            self._hints[queue] = [due, expires]
        else:
            if due < old[0]:
                old[0] = due
            if expires is not None and (old[1] is None or expires < old[1]):
                old[1] = expires
        self._signal.set()

    def cancelled(self, job_id, claim=None):
        """Job ``job_id`` was cancelled (during its attempt ``claim``): discard that
        running attempt and free the slot. A late message about an earlier attempt of a
        job since redriven and claimed again leaves the new attempt alone."""
        for queue in list(self.running):
            job = self.running[queue]
            if job.id == job_id:
                held = job.record.get("claim")
                if claim is not None and held is not None and held > claim:
                    continue
                job.cancelled = True
                if job.writing:
                    # Its outcome write (which may have claimed the queue's next job)
                    # is in flight: the runner frees the slot when it has landed, or
                    # a second job of the queue could start beside the claimed one.
                    continue
                del self.running[queue]
                pool = self._worker_pool(False) if self._worker_pool is not None else None
                if pool is not None:
                    pool.cancel(job_id)  # stops the worker running it
                self.wake()

    # -- claiming in the enqueue transaction ------------------------------------------
    def reserve(self, specs):
        """Before an enqueue in this (leader) tab: the slot of the first queue among
        ``specs`` with a due job that could start now, held so that nothing else claims
        in that queue until ``reserved`` gives it back. Returns ``(queue, epoch, live,
        slot)``, the first three for ``Engine.enqueue_and_claim``, or None (enqueue as
        usual)."""
        epoch = self.epoch
        if epoch is None or not self._ready or self._waiting \
                or len(self.running) + len(self._claiming) >= self._config.concurrency:
            return None  # not leading, or queues wait for a slot (round robin)
        now = self._rt.now()
        for spec in specs:
            queue = spec["queue"]
            if spec["run_at"] <= now and queue not in self.running \
                    and queue not in self._claiming and queue not in self._paused:
                slot = Reserved(queue, self._rt.monotonic())
                self.running[queue] = slot
                return (queue, epoch,
                        lambda: self.epoch == epoch and self.running.get(queue) is slot,
                        slot)
        return None

    def reserved(self, held, claimed):
        """After that enqueue (``held`` from ``reserve``; ``claimed``: the job its
        transaction claimed, None if none or it raised): start the job in the slot, or
        give the slot back and look again (an enqueue of the same queue meanwhile left
        its job to the slot's holder). A job claimed under a lost epoch is left to the
        next leader's recovery, as any claim is."""
        queue, epoch, slot = held[0], held[1], held[3]
        if self.running.get(queue) is not slot:
            return  # stopped (and maybe started again) meanwhile
        del self.running[queue]
        if claimed is None or self.epoch != epoch:
            self.wake()
            return
        self._start(RunningJob(claimed, epoch, self._attempts.progress))
        self._rt.spawn(self._run(self.running[queue], epoch), "running job " + claimed["id"])

    # -- the loop ---------------------------------------------------------------------
    async def _loop(self, epoch):
        ready = False
        need_pass = True
        wake_at = None   # wall time of the next due job, kept across heartbeat wake-ups
        retry_at = None  # monotonic time of the retry after a failed pass
        while self.epoch == epoch:
            self._busy_since = self._rt.monotonic()
            try:
                if not ready:
                    await self._start_up(epoch)
                    ready = self._ready = True
                    need_pass = True
                if need_pass:
                    wake_at = await self._pass(epoch)
                if await self._maybe_beat():
                    need_pass = True  # the paused set changed under a lost message
                    continue
                self._failures = 0
            except Fenced:
                self._leadership.fenced(epoch)
                return
            except Exception as exc:
                if self.epoch != epoch:
                    return  # stopped, or the store was closed under the loop
                self._failures += 1
                self._rt.report(f"dispatch (failure {self._failures} of {MAX_FAILURES})",
                                exc, retrying=self._failures < MAX_FAILURES
                                and is_transient(exc))
                if self._failures >= MAX_FAILURES:
                    self._leadership.give_up(epoch, "dispatch keeps failing")
                    return
                # The retry waits on the monotonic clock: a wall-clock step back must
                # not postpone it.
                retry_at = self._rt.monotonic() + min(10.0, 0.25 * 2 ** self._failures)
                self._full_pass = True
            if self.epoch != epoch:
                return  # (the new epoch's loop owns _busy_since now: leave it)
            self._busy_since = None
            need_pass = await self._sleep(wake_at, retry_at)
            if need_pass:
                retry_at = None

    def _oldest_call(self):
        """The monotonic start of this epoch's oldest store call in flight (the loop's,
        a running attempt's outcome or progress write, a held slot's enqueue), or None."""
        oldest = self._busy_since
        for job in self.running.values():
            for since in job.in_flight:
                if oldest is None or since < oldest:
                    oldest = since
        return oldest

    def _stalled(self, epoch, waited):
        if self.epoch != epoch:
            return
        self._rt.report("dispatch", StorageError(
            f"a store call has not settled in {int(waited)} s", "Stalled"))
        self._leadership.give_up(epoch, "the leader is stuck in a store call")

    async def _sleep(self, wake_at, retry_at=None):
        """Wait for a signal, the due time (wall clock), the retry (monotonic) or the
        next heartbeat; True unless only the heartbeat is due."""
        mono = self._rt.monotonic()
        beat_in = self._config.leader_silence / 4
        if self._last_beat is not None:
            beat_in -= mono - self._last_beat
        timeout = beat_in
        if retry_at is not None and retry_at - mono < timeout:
            timeout = retry_at - mono
        if wake_at is not None:
            due_in = wake_at - self._rt.now()
            if due_in < timeout:
                timeout = due_in
        if timeout < 0:
            timeout = 0
        if await self._signal.wait(timeout):
            return True
        if retry_at is not None and self._rt.monotonic() >= retry_at:
            return True
        if wake_at is not None and self._rt.now() >= wake_at:
            self._full_pass = True  # the timer fired: something is due
            return True
        return False

    async def _maybe_beat(self):
        """Write the heartbeat when one is due. While queues are paused, also re-read
        the paused set (a lost ``resume`` message must not stall a queue); True when it
        changed."""
        mono = self._rt.monotonic()
        if self._last_beat is not None and mono - self._last_beat < \
                self._config.leader_silence / 4 * 0.9:
            return False
        await self._leadership.beat()
        self._last_beat = mono
        if self._paused:
            fresh = await self._engine.paused()
            if fresh != self._paused:
                self._paused = fresh
                self._full_pass = True
                return True
        return False

    async def _start_up(self, epoch):
        self._last_beat = self._rt.monotonic()  # become_leader wrote the first beat
        for rec in await self._engine.recover(epoch):
            self._emit(job_event(rec), rec)
        for rec in await self._engine.ensure_schedules(epoch):
            self._emit("enqueued", rec)

    async def _pass(self, epoch):
        if self._paused_stale:
            self._paused = await self._engine.paused()
            self._paused_stale = False
        if not self._full_pass and self._hints:
            return await self._hinted_pass(epoch)
        self._full_pass = False
        self._hints = {}
        now = self._rt.now()
        ov = await self._store.overview(now)
        due, wake_at = plan(ov["heads"], now, self.running, self._paused,
                            self._config.concurrency + len(ov["heads"]), ov["next_expiry"])
        if ov["expired"]:
            for rec in await self._engine.sweep_expired():
                self._emit(job_event(rec), rec)
        wake_at = await self._purge(now, wake_at)
        # Round robin: the queue served least recently first, then the earliest due.
        order = []
        for queue in due:
            order.append((self._served.get(queue, -1), len(order), queue))
        order.sort()
        free = self._config.concurrency - len(self.running)
        claimed_any = False
        self._waiting = []
        for item in order:
            if free <= 0:
                self._waiting.append(item[2])
                continue
            if await self._claim(item[2], epoch):
                claimed_any = True
                free -= 1
        if ov["expired"] or (due and free > 0 and not claimed_any):
            # The plan went stale (jobs expired, cancelled or paused meanwhile): look
            # again soon, re-reading the paused set, without spinning on a stale plan.
            self._stale_passes += 1
            self._paused_stale = True
            self._full_pass = True
            return now + (0 if self._stale_passes <= 1 else
                          min(1.0, 0.01 * 2 ** self._stale_passes))
        self._stale_passes = 0
        self._wake_at = wake_at
        return wake_at

    async def _hinted_pass(self, epoch):
        """Only new jobs woke the loop: claim in their queues directly, skipping the
        overview read (enqueue to start is then two transactions, not three)."""
        hints, self._hints = self._hints, {}
        now = self._rt.now()
        wake_at = self._wake_at
        for queue in hints:
            due, expires_at = hints[queue]
            if expires_at is not None and (wake_at is None or expires_at + 0.001 < wake_at):
                wake_at = expires_at + 0.001  # it may expire waiting behind others
            if queue in self.running or queue in self._paused \
                    or len(self.running) >= self._config.concurrency:
                if queue not in self.running and queue not in self._waiting \
                        and queue not in self._paused and due <= now:
                    self._waiting.append(queue)
                continue  # finishing a running job, or resume, takes care of it
            if due <= now:
                await self._claim(queue, epoch)
            elif wake_at is None or due < wake_at:
                wake_at = due
        self._wake_at = wake_at
        return wake_at

    async def _purge(self, now, wake_at):
        shortest = self._config.shortest_keep()
        if shortest is None:
            return wake_at
        if now >= self._next_purge:
            await self._engine.purge_finished()
            # Often enough that nothing outlives its keep time by much, rarely enough
            # that an idle leader stays idle.
            self._next_purge = now + max(1.0, min(60.0, shortest / 2))
        if wake_at is None or self._next_purge < wake_at:
            wake_at = self._next_purge
        return wake_at

    async def _claim(self, queue, epoch):
        """Claim and start the next due job of ``queue``; True if one started."""
        if queue in self.running or len(self.running) >= self._config.concurrency:
            return False  # an enqueue claiming in its own transaction took the slot
        # A token, not the name: an earlier epoch's claim returning late must not free
        # this epoch's (FINDINGS.md S15: two jobs of one queue processing at once).
        token = self._claiming[queue] = object()
        try:
            claimed, gone = await self._engine.claim_next(
                queue, epoch, live=lambda: self.epoch == epoch)
        finally:
            if self._claiming.get(queue) is token:
                del self._claiming[queue]
        for rec in gone:
            self._emit(job_event(rec), rec)
        if claimed is None:
            return False
        if self.epoch != epoch:
            # The claim committed while this epoch led but returned after it ended (a
            # freeze handed the lock over, a quick thaw led again): the slots are the new
            # epoch's now, whose recovery took the job over; never start it in them.
            return False
        self._start(RunningJob(claimed, epoch, self._attempts.progress))
        self._rt.spawn(self._run(self.running[queue], epoch), f"running job {claimed['id']}")
        return True

    def _start(self, job):
        self.running[job.queue] = job
        self._emit("started", job.record)

    async def _run(self, job, epoch):
        """Run ``job``, then each next job of its queue that finishing it claimed, while
        this runner still owns the queue's slot (a cancel or a lost leadership frees it)."""
        queue = job.queue
        current = job
        try:
            while self.epoch == epoch:
                # Hand the slot over when other queues wait for one (round robin).
                claim_next = not self._waiting
                nxt = await self._attempts.run(current, epoch, claim_next)
                self._tick += 1
                self._served[queue] = self._tick
                if nxt is None or self.epoch != epoch:
                    break  # (a job claimed under a lost epoch: the next leader recovers it)
                holder = self.running.get(queue)
                if holder is not current and holder is not None:
                    # Cannot happen while claims need the slot; never run two at once.
                    self._rt.warn(f"queue {queue} is busy; job {nxt['id']} waits for "
                                  "the next leader's recovery")
                    break
                # The slot is this runner's, or was freed under it (the attempt that just
                # ended was cancelled meanwhile): the job it claimed runs in it, never
                # left processing beside another one.
                nxt = RunningJob(nxt, epoch, self._attempts.progress)
                self._start(nxt)
                current = nxt
        finally:
            if self.running.get(queue) is current:
                del self.running[queue]
            if self.epoch == epoch:
                self.wake()
                if not self.running:
                    self._leadership.maybe_hand_over()
