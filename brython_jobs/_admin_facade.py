"""TEMPORARY: the inspector's ``JobQueue`` methods, attached to the class on import.

These belong in jobqueue.py (they are written as its methods, with docstrings, ready to be
moved there as they are); until then a page that uses the inspector imports this module
once. Delete this file and those imports when the methods are in jobqueue.py.

Only public names of ``JobQueue`` are defined here; the bodies use what every facade
method uses: ``self.store``, ``self._require_started()``, ``self._emit(event, rec)``,
``self.runtime.now``, ``self.tab_id``, ``self.is_leader``, ``self.config.leader_silence``
and, for ``start(lead=False)``, ``self._leadership.join``.
"""

from .admin import Admin
from .jobqueue import JobQueue
from .records import Job


def _admin(self):
    self._require_started()
    adm = getattr(self, "_admin_ops", None)
    if adm is None:
        adm = self._admin_ops = Admin(self.store, self.runtime.now)
    return adm


def _jobs(recs):
    out = []
    for rec in recs:
        out.append(Job(rec))
    return out


async def page(self, status=None, queue=None, name=None, limit=50, before=None):
    """Jobs newest first, one page: ``(jobs, next)``. Pass ``next`` as ``before`` for
    the next (older) page; it is None on the last one. Filters: ``status``, ``queue``,
    ``name``. Reads about ``limit`` records however many jobs are stored (a rare
    ``queue``/``name`` filter looks at up to 2,000 jobs per call and may return a short
    page with a ``next``)."""
    recs, nxt = await _admin(self).page(status, queue, name, limit, before)
    return _jobs(recs), nxt


async def search(self, text, limit=20):
    """Jobs whose id or key starts with ``text``, newest first."""
    return _jobs(await _admin(self).search(text, limit))


async def queue_counts(self):
    """``{queue: {status: n}}`` for every queue that holds jobs."""
    return await _admin(self).queue_counts()


async def finished_per_minute(self, minutes=60):
    """Jobs finished per minute by outcome over the last ``minutes``:
    ``{"start", "width", "completed": [...], "failed": [...], "cancelled": [...]}``."""
    return await _admin(self).finished_per_minute(minutes)


async def schedules(self):
    """The recurring schedules: dicts with ``key``, ``name``, ``queue``, ``interval``,
    ``payload``, ``next_due``, ``next_job`` and ``last_run`` (None or ``{"id",
    "status", "finished_at"}``)."""
    return await _admin(self).schedules()


async def bursts(self):
    """Pending debounced/throttled bursts: dicts with ``job_id``, ``key``, ``name``,
    ``queue``, ``kind``, ``first_call``, ``last_call`` and ``due``."""
    return await _admin(self).bursts()


async def leader_info(self):
    """``{"tab", "epoch", "since", "hidden", "heartbeat_age", "state", "role",
    "this_tab"}``: the leader tab's id and epoch, whether its page was hidden at its last
    heartbeat, the heartbeat's age in seconds, ``state`` (``"alive"``,
    ``"silent"``, ``"resigned"`` or ``"none"``) and this tab's ``role``."""
    return await _admin(self).leader_info(self.tab_id, self.is_leader,
                                          self.config.leader_silence)


async def delete(self, job_id):
    """Delete a finished (completed, failed or cancelled) job; returns None.
    ``KeyError`` if unknown, ``ValueError`` if pending or processing."""
    await _admin(self).delete(job_id)


async def clean(self, status, older_than):
    """Delete the jobs of a finished ``status`` that finished more than ``older_than``
    seconds ago; returns how many."""
    return await _admin(self).clean(status, older_than)


async def promote(self, job_id):
    """Run a delayed pending job now (its ttl counts from now); returns the ``Job``.
    ``KeyError`` if unknown, ``ValueError`` if it is not pending."""
    rec, changed = await _admin(self).promote(job_id)
    if changed:
        self._emit("enqueued", rec)  # as redrive does: the leader claims it at once
    return Job(rec)


_start = JobQueue.start


async def start(self, lead=True):
    """Open the store and join the leader election; idempotent. ``lead=False``: only
    watch and control (events, list, cancel...), never join the election, so a page
    without the handlers (the standalone inspector) never runs or fails a job."""
    if lead:
        return await _start(self)
    # In jobqueue.py this is one line in start(): `if lead: self._leadership.join()`.
    self._leadership.join = lambda: None
    try:
        await _start(self)
    finally:
        del self._leadership.join


for _fn in (page, search, queue_counts, finished_per_minute, schedules, bursts,
            leader_info, delete, clean, promote, start):
    setattr(JobQueue, _fn.__name__, _fn)
