"""An in-memory store with the same interface and semantics as the IndexedDB store.

Used by the CPython tests of the core, and usable in a page for a queue that needs no
durability. Records are deep-copied on the way in and out, as a real store serializes
them, so a caller can never change stored state by mutating what it holds.

It orders and indexes as IndexedDB does, so the core meets the same store in tests as in
the browser: lists follow the primary key (the job id); an index holds a record only when
every part of its key is a valid IndexedDB key (a number, a string or an array of them:
not None, a bool or a dict), and keys compare numbers < strings < arrays
(``idb_key``). Records read get the defaults of fields older versions did not write
(``records.upgrade``).
"""

from .errors import StorageError
from .records import PENDING, STATUSES, upgrade
from .store import Store, Tx

_INF = float("inf")


def idb_key(value):
    """A Python sort key that orders like IndexedDB's key comparison, or None when
    ``value`` is not a valid IndexedDB key (then no index holds the record)."""
    kind = type(value)
    if kind is int or kind is float:
        return None if value != value else (0, value)
    if kind is str:
        return (2, value)
    if kind is list or kind is tuple:
        parts = []
        for item in value:
            part = idb_key(item)
            if part is None:
                return None
            parts.append(part)
        return (4, tuple(parts))
    return None


def _pick_key(rec):
    return idb_key([rec.get("status"), rec.get("queue"), rec.get("npri"), rec.get("run_at"),
                    rec.get("seq")])


def _load(value):
    return upgrade(clone(value))


def clone(value):
    """Deep copy of JSON-like data (no ``copy`` import: it is costly in the browser)."""
    kind = type(value)
    if kind is dict:
        out = {}
        for k in value:
            out[k] = clone(value[k])
        return out
    if kind is list or kind is tuple:
        out = []
        for item in value:
            out.append(clone(item))
        return out
    return value


class MemoryStore(Store):
    """A ``Store`` kept in a dict. ``writes`` counts committed write transactions."""

    def __init__(self):
        self.jobs = {}
        self.meta = {}
        self.is_open = False
        self.writes = 0

    async def open(self):
        self.is_open = True

    def close(self):
        self.is_open = False

    def _pending_by_key(self, key):
        # The ``key`` index ([key, status]): equal keys in primary key (id) order.
        best = None
        for rec in self.jobs.values():
            if rec.get("status") == PENDING and rec.get("key") == key \
                    and idb_key(key) is not None:
                if best is None or rec["id"] < best["id"]:
                    best = rec
        return _load(best)

    def _pending(self):
        """The pending records the ``pick`` index holds, in its order."""
        found = []
        for rec in self.jobs.values():
            if rec.get("status") == PENDING:
                key = _pick_key(rec)
                if key is not None:
                    found.append((key, rec))
        found.sort(key=lambda pair: pair[0])
        out = []
        for pair in found:
            out.append(pair[1])
        return out

    def _expiring(self):
        """(expires_at, record) of the pending records the ``expiry`` index holds."""
        out = []
        for rec in self.jobs.values():
            limit = rec.get("expires_at")
            if rec.get("status") == PENDING and idb_key(limit) is not None:
                out.append((limit, rec))
        return out

    def _commit(self, tx):
        # Like IndexedDB, writes happen only after fn returned without raising, and a
        # record IndexedDB would refuse (its id is not a valid key) writes nothing.
        for rec in tx.final_puts():
            if type(rec.get("id")) is not str:
                raise StorageError(f"write refused: id {rec.get('id')!r} is not a valid "
                                   "key", "DataError")
        for rec in tx.final_puts():
            self.jobs[rec["id"]] = clone(rec)
        for job_id in tx.deletes:
            self.jobs.pop(job_id, None)
        for key in tx.meta_puts:
            value = tx.meta_puts[key]
            if value is None:
                self.meta.pop(key, None)
            else:
                self.meta[key] = clone(value)
        if tx.puts or tx.deletes or tx.meta_puts:
            self.writes += 1

    async def atomic(self, fn, job_ids=(), meta_keys=(), pending_keys=()):
        tx = self._read(job_ids, meta_keys, pending_keys)
        result = fn(tx)
        self._commit(tx)
        return result

    def _read(self, job_ids, meta_keys, pending_keys):
        jobs = {}
        for job_id in job_ids:
            jobs[job_id] = _load(self.jobs.get(job_id))
        metas = {}
        for key in meta_keys:
            metas[key] = clone(self.meta.get(key))
        by_key = {}
        for key in pending_keys:
            by_key[key] = self._pending_by_key(key)
        return Tx(jobs, metas, by_key)

    async def walk_pending(self, queue, fn, meta_keys=(), job_ids=(), pending_keys=()):
        tx = self._read(job_ids, meta_keys, pending_keys)
        result = fn(tx, None)
        if not result:
            for rec in self._pending():
                if rec["queue"] != queue:
                    continue
                result = fn(tx, _load(rec))
                if result:
                    break
        self._commit(tx)
        return result

    async def get(self, job_id):
        return _load(self.jobs.get(job_id))

    async def query(self, status=None, queue=None, name=None, limit=100):
        if limit is not None and limit <= 0:
            return []
        out = []
        for job_id in sorted(self.jobs):  # primary key order, as IndexedDB lists
            rec = self.jobs[job_id]
            if status is not None and rec.get("status") != status:
                continue
            if queue is not None and rec.get("queue") != queue:
                continue
            if name is not None and rec.get("name") != name:
                continue
            out.append(rec)
            if limit is not None and len(out) >= limit:
                break
        loaded = []
        for rec in out:
            loaded.append(_load(rec))
        return loaded

    async def counts(self):
        out = {}
        for status in STATUSES:
            out[status] = 0
        for rec in self.jobs.values():
            status = rec.get("status")
            if status in out:  # the status index holds no record without a valid one
                out[status] += 1
        return out

    async def pending_heads(self):
        # As the IndexedDB store's skip scan: the first key of each (queue, priority)
        # run gives that run's earliest due time; one that is not a number counts as 0
        # (due: a walk of the queue sets the malformed record aside).
        heads = {}
        seen = []
        for rec in self._pending():
            run = [rec["queue"], rec["npri"]]
            if run in seen:
                continue
            seen.append(run)
            at = rec["run_at"]
            if type(at) not in (int, float):
                at = 0
            q = rec["queue"]
            if q not in heads or at < heads[q]:
                heads[q] = at
        return heads

    async def overview(self, now):
        limit = await self.next_expiry()
        return {"heads": await self.pending_heads(), "next_expiry": limit,
                "expired": type(limit) in (int, float) and limit < now}

    async def expiring(self, until):
        found = []
        for pair in self._expiring():
            limit = pair[0]
            if type(limit) in (int, float) and -_INF < limit < until:
                found.append((limit, pair[1]["id"], pair[1]))
        found.sort(key=lambda item: (item[0], item[1]))
        out = []
        for item in found:
            out.append(_load(item[2]))
        return out

    async def next_expiry(self):
        best = None
        for pair in self._expiring():
            if best is None or idb_key(pair[0]) < idb_key(best):
                best = pair[0]
        return best

    async def purge(self, status, before):
        doomed = []
        for rec in self.jobs.values():
            limit = rec.get("finished_at")
            if rec.get("status") == status and type(limit) in (int, float) \
                    and limit < before:
                doomed.append(rec["id"])
        for job_id in doomed:
            del self.jobs[job_id]
        if doomed:
            self.writes += 1
        return len(doomed)

    async def meta_get(self, key):
        return clone(self.meta.get(key))

    async def meta_prefix(self, prefix):
        out = {}
        for key in self.meta:
            if key.startswith(prefix):
                out[key] = clone(self.meta[key])
        return out

    # -- paging for the inspector (see Store) ---------------------------------------
    def _newest_first(self):
        recs = list(self.jobs.values())
        recs.sort(key=lambda r: r["id"], reverse=True)
        return recs

    async def page(self, status=None, queue=None, name=None, has=None, limit=50,
                   before=None, scan=2000):
        out = []
        seen = 0
        last = None
        for rec in self._newest_first():
            if before is not None and rec["id"] >= before:
                continue
            if status is not None and rec["status"] != status:
                continue
            if len(out) >= limit or seen >= scan:
                return _load_list(out), last  # something older is left to look at
            seen += 1
            last = rec["id"]
            if (queue is None or rec["queue"] == queue) and \
                    (name is None or rec["name"] == name) and \
                    (has is None or rec.get(has) is not None):
                out.append(rec)
        return _load_list(out), None

    async def find(self, text, limit=20):
        out = []
        for rec in self._newest_first():
            key = rec.get("key")
            if rec["id"].startswith(text) or (key is not None and key.startswith(text)):
                out.append(rec)
                if len(out) >= limit:
                    break
        return _load_list(out)

    async def queue_counts(self):
        out = {}
        for rec in self.jobs.values():
            per = out.setdefault(rec["queue"], {})
            per[rec["status"]] = per.get(rec["status"], 0) + 1
        return out

    async def finished_histogram(self, start, width, buckets):
        from .records import FINISHED  # appended code: the module's imports stay as they are
        out = {}
        for status in FINISHED:
            out[status] = [0] * buckets
        for rec in self.jobs.values():
            t = rec.get("finished_at")
            if rec["status"] in out and type(t) in (int, float):
                i = int((t - start) // width)
                if 0 <= i < buckets:
                    out[rec["status"]][i] += 1
        return out

    async def latest_by_key(self, key):
        out = {}
        for status in STATUSES:
            out[status] = None
        for rec in self._newest_first():
            if rec.get("key") == key and out.get(rec.get("status"), 1) is None:
                out[rec["status"]] = _load(rec)
        return out

    async def keyed_pending(self, scan=500):
        keys = []
        for rec in self.jobs.values():
            if rec.get("key") is not None and rec["key"] not in keys:
                keys.append(rec["key"])
        keys.sort()
        out = []
        for key in keys[:scan]:
            rec = self._pending_by_key(key)
            if rec is not None:
                out.append(rec)
        return out


def _load_list(recs):
    out = []
    for rec in recs:
        out.append(_load(rec))
    return out
