"""The IndexedDB job store: the ``Store`` interface (store.py) over one database per queue.

Database ``brython_jobs.<name>``:

``jobs`` (keyPath ``id``; ids sort in creation order, see jsenv.new_id) with indexes
    ``status``  ``status``                                  list/count by status
    ``pick``    ``[status, queue, npri, run_at, seq]``      next job of a queue
    ``stime``   ``[status, t]``                             purge old finished jobs
    ``expiry``  ``[status, expires_at]``                    expiry sweep (null: not indexed)
    ``key``     ``[key, status]``                           the pending job with a key
``meta`` (out-of-line string keys): leader epoch and heartbeat, paused queues, the
    enqueue counter, recurring schedules, throttle state.

Every write is ``atomic`` or ``walk_pending``: one readwrite transaction over both stores
that reads, calls the pure change function, converts every value to write to JS and only
then writes (so a value that cannot be converted aborts the transaction before any put),
then awaits the commit. Records read get the defaults of fields older versions did not
write (``records.upgrade``).
"""

from . import idb
from .jsenv import NULL, to_js, to_py
from .records import PENDING, STATUSES, upgrade
from .store import Store, Tx


def _load(value):
    return upgrade(to_py(value))


def _load_all(values):
    out = to_py(values) or []
    for rec in out:
        upgrade(rec)
    return out


def _ignore(reason):
    return None


def _is_number(value):
    return type(value) in (int, float)

VERSION = 1
JOBS = "jobs"
META = "meta"
BOTH = [JOBS, META]
_BOTH_JS = to_js(BOTH)
_HIGH = []  # an empty array sorts after every number and string in IndexedDB keys


def _upgrade(db, old_version, tx):
    """Schema migrations, one step per version, so any older database can be opened."""
    if old_version < 1:
        jobs = db.createObjectStore(JOBS, {"keyPath": "id"})
        jobs.createIndex("status", "status")
        jobs.createIndex("pick", ["status", "queue", "npri", "run_at", "seq"])
        jobs.createIndex("stime", ["status", "t"])
        jobs.createIndex("expiry", ["status", "expires_at"])
        jobs.createIndex("key", ["key", "status"])
        db.createObjectStore(META)
    # version 2 would go here: `if old_version < 2: ...`


class IndexedDBStore(Store):
    """A ``Store`` in IndexedDB database ``db_name``.

    ``on_closed()`` is called if another tab upgrades the schema: this tab closes its
    connection instead of blocking the upgrade, and the queue stops."""

    def __init__(self, db_name, on_closed=None, on_blocked=None):
        self.db_name = db_name
        self.db = None
        self.on_closed = on_closed
        self.on_blocked = on_blocked

    async def open(self):
        if self.db is None:
            db = await idb.open_db(self.db_name, VERSION, _upgrade, self._version_change,
                                   self.on_blocked)
            if self.db is None:
                self.db = db
            else:
                db.close()  # an earlier open (given up by start()) answered first

    def _version_change(self):
        self.db = None
        if self.on_closed is not None:
            self.on_closed()

    def close(self):
        if self.db is not None:
            self.db.close()
            self.db = None

    def _tx(self, mode, stores=None):
        if self.db is None:
            raise idb.StorageError(f"{self.db_name} is not open")
        try:
            # Both stores as one JS array made once: a Python list would be converted
            # at each call.
            tx = self.db.transaction(_BOTH_JS if stores is None else stores, mode)
        except Exception as exc:  # e.g. InvalidStateError: the connection is closing
            raise idb.storage_error(f"{self.db_name}: cannot begin a transaction: {exc}",
                                    idb.thrown_name(exc))
        # A readwrite transaction is awaited to its commit (idb.done): watch it from now.
        return idb.watch(tx) if mode == "readwrite" else tx

    def _convert(self, txo):
        """Every value the transaction writes, converted to JS before the first put, in
        one conversion: ``(records, [(meta key, value or None to delete)])``."""
        puts = txo.final_puts()
        values = []
        for rec in puts:
            if type(rec.get("id")) is not str:  # put() would throw DataError midway
                raise idb.StorageError(f"{self.db_name}: write refused: id "
                                       f"{rec.get('id')!r} is not a valid key", "DataError")
            values.append(rec)
        meta_puts = txo.meta_puts
        for key in meta_puts:
            if meta_puts[key] is not None:
                values.append(meta_puts[key])
        if not values:
            return [], [(key, None) for key in meta_puts]
        js = to_js(values)
        recs = []
        i = 0
        for rec in puts:
            recs.append(js[i])
            i += 1
        metas = []
        for key in meta_puts:
            if meta_puts[key] is None:
                metas.append((key, None))
            else:
                metas.append((key, js[i]))
                i += 1
        return recs, metas

    def _write(self, tx, jobs, meta, txo, converted):
        try:
            self._issue(jobs, meta, txo, converted)
        except Exception as exc:
            # A put that throws (an invalid key...) must not let the earlier ones commit.
            tx.abort()
            raise idb.storage_error(f"{self.db_name}: write refused: {exc}",
                                    idb.thrown_name(exc))

    @staticmethod
    def _issue(jobs, meta, txo, converted):
        for value in converted[0]:
            jobs.put(value)
        for job_id in txo.deletes:
            jobs.delete(job_id)
        for pair in converted[1]:
            if pair[1] is None:
                meta.delete(pair[0])
            else:
                meta.put(pair[1], pair[0])

    @staticmethod
    async def _gather(pending):
        """Await request promises made earlier. Each promise must be made (its handlers
        attached) when its request is issued, or a fast request can succeed unseen."""
        out = []
        for promise in pending:
            out.append(to_py(await promise))
        return out

    @staticmethod
    def _issue_reads(jobs, meta, job_ids, meta_keys, pending_keys):
        """Issue every read of a transaction at once; the promise of their results (one
        JS array, see ``idb.results``), or None when there is nothing to read."""
        reqs = []
        for job_id in job_ids:
            reqs.append(jobs.get(job_id))
        if pending_keys:
            key_index = jobs.index("key")
            for key in pending_keys:
                reqs.append(key_index.get(idb.only([key, PENDING])))
        for key in meta_keys:
            reqs.append(meta.get(key))
        return idb.results(reqs) if reqs else None

    @staticmethod
    def _collect(values, job_ids, meta_keys, pending_keys):
        """The Tx of the values read (converted in one go), in the order issued."""
        values = to_py(values) if values is not None else []
        found = {}
        by_key = {}
        metas = {}
        i = 0
        for job_id in job_ids:
            found[job_id] = upgrade(values[i])
            i += 1
        for key in pending_keys:
            by_key[key] = upgrade(values[i])
            i += 1
        for key in meta_keys:
            metas[key] = values[i]
            i += 1
        return Tx(found, metas, by_key)

    async def atomic(self, fn, job_ids=(), meta_keys=(), pending_keys=()):
        tx = self._tx("readwrite")
        jobs = tx.objectStore(JOBS)
        meta = tx.objectStore(META)
        reads = self._issue_reads(jobs, meta, job_ids, meta_keys, pending_keys)
        txo = self._collect(None if reads is None else await reads, job_ids, meta_keys,
                            pending_keys)
        try:
            result = fn(txo)
            converted = self._convert(txo)
        except BaseException:
            tx.abort()  # reads only so far; abort so nothing half-done can commit
            raise
        self._write(tx, jobs, meta, txo, converted)
        await idb.done(tx)
        return result

    async def walk_pending(self, queue, fn, meta_keys=(), job_ids=(), pending_keys=()):
        tx = self._tx("readwrite")
        jobs = tx.objectStore(JOBS)
        meta = tx.objectStore(META)
        reads = self._issue_reads(jobs, meta, job_ids, meta_keys, pending_keys)
        # The queue's cursor opens with the reads, one round trip instead of two: it
        # sees the records as stored when the transaction began, whatever fn writes.
        cursor = idb.Cursor(jobs.index("pick").openCursor(
            idb.key_range([PENDING, queue], [PENDING, queue, _HIGH])))
        first = idb.request(cursor.req)
        first.catch(_ignore)  # unused when fn stops at once, failed if the tx aborts
        try:
            txo = self._collect(None if reads is None else await reads, job_ids,
                                meta_keys, pending_keys)
            result = fn(txo, None)
            if not result:
                cur = await first
                while cur is not None:
                    result = fn(txo, _load(cur.value))
                    if result:
                        break
                    cursor.advance()
                    cur = await cursor.next()
            converted = self._convert(txo)
        except BaseException:
            tx.abort()
            raise
        self._write(tx, jobs, meta, txo, converted)
        await idb.done(tx)
        return result

    async def get(self, job_id):
        tx = self._tx("readonly", JOBS)
        return _load(await idb.request(tx.objectStore(JOBS).get(job_id)))

    async def query(self, status=None, queue=None, name=None, limit=100):
        if limit is not None and limit <= 0:
            return []  # getAll(range, 0) would return everything
        tx = self._tx("readonly", JOBS)
        jobs = tx.objectStore(JOBS)
        source = jobs if status is None else jobs.index("status")
        rng = None if status is None else idb.only(status)
        if queue is None and name is None:
            # Primary keys sort in creation order, and so do equal index keys.
            if rng is None:  # never hand Python None to IndexedDB as a key
                req = source.getAll() if limit is None else source.getAll(NULL, limit)
            else:
                req = source.getAll(rng) if limit is None else source.getAll(rng, limit)
            return _load_all(await idb.request(req))
        out = []
        cursor = idb.Cursor(source.openCursor() if rng is None else source.openCursor(rng))
        while limit is None or len(out) < limit:
            cur = await cursor.next()
            if cur is None:
                break
            rec = _load(cur.value)
            if (queue is None or rec.get("queue") == queue) \
                    and (name is None or rec.get("name") == name):
                out.append(rec)
            cursor.advance()
        return out

    async def counts(self):
        tx = self._tx("readonly", JOBS)
        index = tx.objectStore(JOBS).index("status")
        reqs = []
        for status in STATUSES:
            reqs.append(idb.request(index.count(idb.only(status))))
        values = await self._gather(reqs)
        out = {}
        i = 0
        for status in STATUSES:
            out[status] = int(values[i])
            i += 1
        return out

    async def overview(self, now):
        tx = self._tx("readonly", JOBS)
        store = tx.objectStore(JOBS)
        expiry = store.index("expiry")
        first = idb.request(expiry.openKeyCursor(idb.key_range([PENDING], [PENDING, _HIGH])))
        heads = await self._heads(store)
        cur = await first
        next_expiry = None if cur is None else cur.key[1]
        return {"heads": heads, "next_expiry": next_expiry,
                "expired": _is_number(next_expiry) and next_expiry < now}

    async def pending_heads(self):
        tx = self._tx("readonly", JOBS)
        return await self._heads(tx.objectStore(JOBS))

    async def _heads(self, store):
        # A skip scan: the first key of each (queue, priority) run in the pick index holds
        # that run's earliest due time; continue(key) jumps to the next run, so the cost
        # grows with the number of queues and priority levels, not with the job count.
        index = store.index("pick")
        cursor = idb.Cursor(index.openKeyCursor(idb.key_range([PENDING], [PENDING, _HIGH])))
        heads = {}
        while True:
            cur = await cursor.next()
            if cur is None:
                break
            key = cur.key
            queue = key[1]
            run_at = key[3]
            if not _is_number(run_at):
                run_at = 0  # malformed (strings sort after numbers): due, to be set aside
            if queue not in heads or run_at < heads[queue]:
                heads[queue] = run_at
            cursor.advance([PENDING, queue, key[2], _HIGH])
        return heads

    async def expiring(self, until):
        tx = self._tx("readonly", JOBS)
        index = tx.objectStore(JOBS).index("expiry")
        req = index.getAll(idb.key_range([PENDING, -1e308], [PENDING, until], False, True))
        return _load_all(await idb.request(req))

    async def next_expiry(self):
        tx = self._tx("readonly", JOBS)
        index = tx.objectStore(JOBS).index("expiry")
        cursor = idb.Cursor(index.openKeyCursor(idb.key_range([PENDING], [PENDING, _HIGH])))
        cur = await cursor.next()
        return None if cur is None else cur.key[1]

    async def purge(self, status, before):
        tx = self._tx("readwrite", JOBS)
        jobs = tx.objectStore(JOBS)
        req = jobs.index("stime").getAllKeys(
            idb.key_range([status, -1e308], [status, before], False, True))
        keys = await idb.request(req)
        n = 0
        for key in keys:
            jobs.delete(key)
            n += 1
        await idb.done(tx)
        return n

    async def meta_get(self, key):
        tx = self._tx("readonly", META)
        return to_py(await idb.request(tx.objectStore(META).get(key)))

    async def meta_prefix(self, prefix):
        tx = self._tx("readonly", META)
        meta = tx.objectStore(META)
        rng = idb.key_range(prefix, prefix + "\uffff")
        both = await self._gather([idb.request(meta.getAllKeys(rng)),
                                   idb.request(meta.getAll(rng))])
        out = {}
        i = 0
        for key in both[0]:
            out[key] = both[1][i]
            i += 1
        return out

    def preload(self):
        from . import idb_paging  # noqa: F401  (see Store.preload)

    # -- the inspector's reads (see Store): in idb_paging.py, loaded on first use --------
    async def page(self, status=None, queue=None, name=None, has=None, limit=50,
                   before=None, scan=2000):
        from . import idb_paging
        return await idb_paging.page(self, status, queue, name, has, limit, before, scan)

    async def find(self, text, limit=20):
        from . import idb_paging
        return await idb_paging.find(self, text, limit)

    async def queue_counts(self):
        from . import idb_paging
        return await idb_paging.queue_counts(self)

    async def finished_histogram(self, start, width, buckets):
        from . import idb_paging
        return await idb_paging.finished_histogram(self, start, width, buckets)

    async def latest_by_key(self, key):
        from . import idb_paging
        return await idb_paging.latest_by_key(self, key)

    async def keyed_pending(self, scan=500):
        from . import idb_paging
        return await idb_paging.keyed_pending(self, scan)
