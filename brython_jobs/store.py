"""The storage interface every job store implements, and the transaction object.

Two stores implement it: ``MemoryStore`` (memory_store.py, pure Python, for fast tests
under CPython) and ``IndexedDBStore`` (idb_store.py, the browser's IndexedDB). One
contract suite (tests/contract/store_contract.py) runs against both.

The rule that keeps many tabs correct: every change is made by ``atomic`` or
``walk_pending``, which read the records they change and write them back in ONE
readwrite transaction. The business logic is a plain synchronous function handed in; the
store only reads, calls it and writes. In IndexedDB such a function must not await
anything: a transaction dies as soon as it waits on something that is not its own request.

Records are plain dicts of JSON-like values (see records.py); meta values are JSON-like
values stored under string keys (leader epoch, paused queues, schedules, counters).
"""


class Tx:
    """One transaction's view: what was read, and the writes to make when it ends.

    ``jobs``   {job_id: record or None} for the ``job_ids`` asked for
    ``metas``  {meta_key: value or None} for the ``meta_keys`` asked for
    ``by_key`` {key: the pending record with that key, or None} for ``pending_keys``
    """

    def __init__(self, jobs=None, metas=None, by_key=None):
        self.jobs = jobs if jobs is not None else {}
        self.metas = metas if metas is not None else {}
        self.by_key = by_key if by_key is not None else {}
        self.puts = []
        self.meta_puts = {}
        self.deletes = []

    def put(self, rec):
        """Write ``rec`` (insert or replace by id) when the transaction ends."""
        self.jobs[rec["id"]] = rec
        self.puts.append(rec)
        # The last write of an id wins: a put after a delete brings the record back.
        while rec["id"] in self.deletes:
            self.deletes.remove(rec["id"])

    def put_meta(self, key, value):
        """Write a meta value; ``None`` deletes the key."""
        self.metas[key] = value
        self.meta_puts[key] = value

    def delete(self, job_id):
        self.jobs[job_id] = None
        self.deletes.append(job_id)

    def final_puts(self):
        """The last written version of each record, in first-write order."""
        last = {}
        order = []
        for rec in self.puts:
            if rec["id"] not in last:
                order.append(rec["id"])
            last[rec["id"]] = rec
        out = []
        for job_id in order:
            if job_id not in self.deletes:
                out.append(last[job_id])
        return out


class Store:
    """The interface every job store implements; all methods are coroutines except
    ``close``. Subclasses override every one (these raise NotImplementedError).

    Order: lists follow the primary key (the job id; ids sort in creation order), and
    equal index keys too, as IndexedDB orders them. An index holds a record only when
    every part of its key is a valid IndexedDB key (a number, a string or an array);
    keys compare numbers < strings < arrays. Records read carry the defaults of fields
    an older version did not write (``records.upgrade``).
    """

    async def atomic(self, fn, job_ids=(), meta_keys=(), pending_keys=()):
        """One readwrite transaction: read the named jobs, meta values and the pending
        job holding each key, call ``fn(tx)`` (a ``Tx``), apply ``tx``'s writes, wait for
        the commit and return what ``fn`` returned. If ``fn`` raises, or a value cannot
        be stored, nothing is written and the exception propagates (a store's own
        failure as ``errors.StorageError``, e.g. ``StorageFull``)."""
        raise NotImplementedError

    async def walk_pending(self, queue, fn, meta_keys=(), job_ids=(), pending_keys=()):
        """One readwrite transaction: read the meta values, jobs and keyed pending jobs as
        ``atomic`` does, call ``fn(tx, None)`` (it may write, e.g. finish the job that
        just ran), and unless that returned a true value call ``fn(tx, rec)`` with the
        pending jobs of ``queue`` in pick order (highest priority, then earliest due
        time, then enqueue order: the ``pick`` index ``[status, queue, npri, run_at,
        seq]``) until it returns True. The walk sees the records as stored when the
        transaction began, not the writes ``fn`` queued. Returns the last value ``fn``
        returned."""
        raise NotImplementedError

    async def overview(self, now):
        """One read for a dispatch pass: ``{"heads": pending_heads(), "next_expiry":
        next_expiry(), "expired": whether a pending job has a numeric expires_at <
        now}``."""
        raise NotImplementedError

    async def get(self, job_id):
        """The record with id ``job_id``, or None."""
        raise NotImplementedError

    async def query(self, status=None, queue=None, name=None, limit=100):
        """The records matching every filter given, in id order (oldest first), at most
        ``limit`` of them (None: all; 0 or less: none)."""
        raise NotImplementedError

    async def counts(self):
        """``{status: number of jobs}`` for every status of ``records.STATUSES``."""
        raise NotImplementedError

    async def pending_heads(self):
        """``{queue: earliest run_at of its pending jobs}``; a queue whose earliest key in
        a priority run is not a number reports 0 (due, so a walk can set the malformed
        record aside)."""
        raise NotImplementedError

    async def expiring(self, until):
        """The pending records whose (numeric) expires_at < ``until``, earliest first."""
        raise NotImplementedError

    async def next_expiry(self):
        """The smallest expires_at of a pending job (by key order), or None."""
        raise NotImplementedError

    async def purge(self, status, before):
        """Delete the jobs of ``status`` finished before ``before`` (strictly); returns
        how many."""
        raise NotImplementedError

    async def meta_get(self, key):
        """The meta value stored under ``key``, or None."""
        raise NotImplementedError

    async def meta_prefix(self, prefix):
        """``{key: value}`` of the meta keys that start with ``prefix``."""
        raise NotImplementedError

    async def open(self):
        """Open or create the storage; idempotent. Raises ``errors.StorageUnavailable``
        when it cannot be opened at all."""
        raise NotImplementedError

    def close(self):
        """Release the storage (a plain method)."""
        raise NotImplementedError

    def preload(self):
        """Import now any module a later call would load on first use (a plain method;
        the queue calls it at ``start()`` when its package comes from static files, see
        ``JobQueue._preload``). Default: nothing to load."""

    # -- paging for the inspector (admin.py); every store implements these ------------
    async def page(self, status=None, queue=None, name=None, has=None, limit=50,
                   before=None, scan=2000):
        """Jobs newest first (by id, which sorts in creation order), one page at a time.

        ``status`` (None: every status), ``queue``, ``name``: filters that must all hold;
        ``has``: a field that must be set (not None), e.g. ``"trigger"``. ``before``: an
        id; only jobs older than it are listed (the ``next`` of the previous page).
        At most ``scan`` stored jobs are looked at per call, so a rare filter over many
        jobs stays cheap; the call then returns fewer than ``limit`` jobs.

        Returns ``(records, next)``: ``next`` is the id to pass as ``before`` for the
        following page, or None when no older job can match."""
        raise NotImplementedError

    async def find(self, text, limit=20):
        """Jobs whose id or key starts with ``text``, newest first, at most ``limit``."""
        raise NotImplementedError

    async def queue_counts(self):
        """``{queue: {status: number}}`` for every queue that holds a job (statuses
        with no job are left out). Reads index keys, never records."""
        raise NotImplementedError

    async def finished_histogram(self, start, width, buckets):
        """``{status: [n, ...]}`` for each finished status: how many jobs finished in
        each of ``buckets`` intervals ``[start + i * width, start + (i + 1) * width)``."""
        raise NotImplementedError

    async def latest_by_key(self, key):
        """``{status: the newest record with this key and status, or None}``."""
        raise NotImplementedError

    async def keyed_pending(self, scan=500):
        """Pending records that carry a key (debounce/throttle bursts, recurring runs,
        deduplicated jobs), found per distinct key so the cost grows with the number of
        keys, not of jobs; at most ``scan`` keys are looked at."""
        raise NotImplementedError
