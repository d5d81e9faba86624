"""The inspect-and-control half of the public ``JobQueue`` API (any tab): reading jobs,
cancelling and redriving them, waiting for them, recurring schedules, and what the
inspector needs (paging, search, counts per queue, schedules, bursts, the leader,
delete, clean, promote). ``JobQueue`` (jobqueue.py) inherits it; the methods use only
the queue's store, engine, runtime, events and ``_emit``. The admin operations
(admin.py) load on first use, so pages that never inspect do not pay for them.
"""

from .records import Job, FINISHED, STATUSES, check_number
from .runtime import Signal


def _snapshots(recs):
    out = []
    for rec in recs:
        out.append(Job(rec))
    return out


class QueueControl:
    """Methods of ``JobQueue``; see there."""

    _admin_ops = None

    def _admin(self):
        self._require_started()
        if self._admin_ops is None:
            from .admin import Admin  # only pages that inspect pay for it
            self._admin_ops = Admin(self.store, self.runtime.now)
        return self._admin_ops

    # -- inspect and control ---------------------------------------------------------
    async def get(self, job_id):
        """The ``Job`` with this id, or None."""
        self._require_started()
        rec = await self.store.get(job_id)
        return None if rec is None else Job(rec)

    async def list(self, status=None, queue=None, name=None, limit=100):
        """Jobs matching every given filter, oldest first, at most ``limit`` (None: all)."""
        self._require_started()
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        return _snapshots(await self.store.query(status, queue, name, limit))

    async def counts(self):
        """How many jobs have each status: ``{"pending": 3, "failed": 1, ...}``."""
        self._require_started()
        return await self.store.counts()

    async def wait(self, job_id, timeout=None):
        """The ``Job`` once it is completed, failed or cancelled (run by any tab).
        Raises ``TimeoutError`` after ``timeout`` seconds, ``KeyError`` for an unknown id."""
        self._require_started()
        check_number(timeout, "timeout", minimum=0)
        rt = self.runtime
        signal = Signal(rt)
        seen = {}

        def watcher(event, rec):
            if rec["id"] == job_id and rec["status"] in FINISHED:
                seen["job"] = Job(rec)
                signal.set()
        self._events.watch(watcher)  # before reading, so no event can slip between
        try:
            deadline = None if timeout is None else rt.monotonic() + timeout
            while "job" not in seen:
                # Read now, and again now and then in case this tab missed an event (it
                # was frozen, or the store changed under it).
                rec = await self.store.get(job_id)
                if rec is None:
                    raise KeyError(job_id)
                if rec["status"] in FINISHED:
                    return Job(rec)
                left = 5.0 if deadline is None else min(5.0, deadline - rt.monotonic())
                if left <= 0:
                    raise TimeoutError(f"job {job_id} did not finish within {timeout}s")
                await signal.wait(left)
            return seen["job"]
        finally:
            self._events.unwatch(watcher)

    async def _control(self, op, job_id, event):
        self._require_started()
        rec, changed = await op(job_id)
        if changed:
            self._emit(event, rec)
        return Job(rec)

    async def cancel(self, job_id):
        """pending or processing -> cancelled (a running handler's outcome is
        discarded). A finished job is returned unchanged. ``KeyError`` if unknown."""
        return await self._control(self.engine.cancel, job_id, "cancelled")

    async def redrive(self, job_id):
        """failed or cancelled -> pending with attempts 0 (an ``enqueued`` event); other
        statuses are returned unchanged. ``KeyError`` if unknown."""
        return await self._control(self.engine.redrive, job_id, "enqueued")

    async def redrive_failed(self, queue=None):
        """Redrive every failed job (of ``queue``); returns how many."""
        self._require_started()
        recs = await self.engine.redrive_failed(queue)
        for rec in recs:
            self._emit("enqueued", rec)
        return len(recs)

    async def paused(self):
        """The set of paused queue names."""
        self._require_started()
        return await self.engine.paused()

    # -- recurring -------------------------------------------------------------------
    async def every(self, name, seconds, payload=None, queue=None, key=None, priority=0,
                    retries=None):
        """Run ``name`` every ``seconds``, first now. Declaring it again in any tab keeps
        one schedule (another interval updates it). Returns None."""
        self._require_started()
        handler = self._handlers.get(name) if type(name) is str else None
        rec = await self.engine.every(
            name, seconds, payload, queue, key, priority, retries,
            default_queue=handler.queue if handler is not None else None)
        if rec is not None:
            self._emit("enqueued", rec)

    async def unschedule(self, key):
        """Remove the schedule ``key`` (default key: the job name); True if it existed."""
        self._require_started()
        existed, run = await self.engine.unschedule(key)
        if run is not None:
            self._emit("cancelled", run)
        return existed

    # -- for the inspector (added) -----------------------------------------------------
    async def page(self, status=None, queue=None, name=None, limit=50, before=None):
        """Jobs newest first, one page: ``(jobs, next)``. Pass ``next`` as ``before`` for
        the next (older) page; it is None on the last one. Filters: ``status``, ``queue``,
        ``name``. Reads about ``limit`` records however many jobs are stored (a rare
        ``queue``/``name`` filter looks at up to 2,000 jobs per call and may return a short
        page with a ``next``)."""
        recs, nxt = await self._admin().page(status, queue, name, limit, before)
        return _snapshots(recs), nxt


    async def search(self, text, limit=20):
        """Jobs whose id or key starts with ``text``, newest first."""
        return _snapshots(await self._admin().search(text, limit))


    async def queue_counts(self):
        """``{queue: {status: n}}`` for every queue that holds jobs."""
        return await self._admin().queue_counts()


    async def finished_per_minute(self, minutes=60):
        """Jobs finished per minute by outcome over the last ``minutes``:
        ``{"start", "width", "completed": [...], "failed": [...], "cancelled": [...]}``."""
        return await self._admin().finished_per_minute(minutes)


    async def schedules(self):
        """The recurring schedules: dicts with ``key``, ``name``, ``queue``, ``interval``,
        ``payload``, ``next_due``, ``next_job`` and ``last_run`` (None or ``{"id",
        "status", "finished_at"}``)."""
        return await self._admin().schedules()


    async def bursts(self):
        """Pending debounced/throttled bursts: dicts with ``job_id``, ``key``, ``name``,
        ``queue``, ``kind``, ``first_call``, ``last_call`` and ``due``."""
        return await self._admin().bursts()


    async def leader_info(self):
        """``{"tab", "epoch", "since", "hidden", "heartbeat_age", "state", "role",
        "this_tab"}``: the leader tab's id and epoch, whether its page was hidden at its last
        heartbeat, the heartbeat's age in seconds, ``state`` (``"alive"``,
        ``"silent"``, ``"resigned"`` or ``"none"``) and this tab's ``role``."""
        return await self._admin().leader_info(self.tab_id, self.is_leader,
                                              self.config.leader_silence)


    async def delete(self, job_id):
        """Delete a finished (completed, failed or cancelled) job; returns None.
        ``KeyError`` if unknown, ``ValueError`` if pending or processing."""
        await self._admin().delete(job_id)


    async def clean(self, status, older_than):
        """Delete the jobs of a finished ``status`` that finished more than ``older_than``
        seconds ago; returns how many."""
        return await self._admin().clean(status, older_than)


    async def promote(self, job_id):
        """Run a delayed pending job now (its ttl counts from now); returns the ``Job``.
        ``KeyError`` if unknown, ``ValueError`` if it is not pending."""
        rec, changed = await self._admin().promote(job_id)
        if changed:
            self._emit("enqueued", rec)  # as redrive does: the leader claims it at once
        return Job(rec)
